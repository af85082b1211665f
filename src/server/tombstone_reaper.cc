#include "server/tombstone_reaper.h"

#include <spdlog/spdlog.h>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "store/kv_store.h"

namespace sider::server {

TombstoneReaper::TombstoneReaper(Clock& clock, asio::any_io_executor executor,
                                 store::KvStore& kv, consensus::RaftNode& raft)
    : clock_(clock), executor_(std::move(executor)), kv_(kv), raft_(raft) {}

TombstoneReaper::~TombstoneReaper() { Stop(); }

void TombstoneReaper::Start() {
  raft_.OnLeadershipChange(executor_,
                           [this](bool leader) { OnLeadership(leader); });
}

void TombstoneReaper::Stop() {
  WriterLock lock(&mu_);
  stopped_ = true;
  leader_ = false;
  alarm_.reset();
}

void TombstoneReaper::OnLeadership(bool leader) {
  WriterLock lock(&mu_);
  if (stopped_) return;
  leader_ = leader;
  notes_.clear();
  alarm_.reset();
  if (leader) ScheduleLocked();
}

void TombstoneReaper::ScheduleLocked() {
  alarm_ = clock_.SetAlarm(clock_.Now() + kGranularity, executor_,
                           [this] { Tick(); });
}

void TombstoneReaper::Tick() {
  uint64_t reap_to = 0;
  {
    WriterLock lock(&mu_);
    if (!leader_ || stopped_) return;
    const auto now = clock_.Now();
    notes_.emplace_back(now, kv_.KvIndex());
    while (!notes_.empty() && now - notes_.front().first >= kTtl) {
      reap_to = notes_.front().second;
      notes_.pop_front();
    }
    ScheduleLocked();
  }
  if (reap_to == 0 || kv_.TombstoneCount() == 0) return;
  raft_.Propose(fsm::EncodeKvReapTombstones(reap_to), executor_,
                [reap_to](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    spdlog::warn("reaping tombstones up to {}: {}", reap_to,
                                 r.status.message());
                  }
                });
}

}  // namespace sider::server
