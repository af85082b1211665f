#include "server/health_manager.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "store/catalog_store.h"

namespace sider::server {
namespace {

using structs::Check;
using structs::CheckType;
using structs::HealthStatus;

}  // namespace

HealthManager::HealthManager(const NodeIdentity& self, asio::io_context& io,
                             Clock& clock, store::CatalogStore& store,
                             consensus::RaftNode& raft)
    : self_(self),
      io_(io),
      clock_(clock),
      store_(store),
      raft_(raft),
      ttl_(clock, io.get_executor(),
           [this](const std::string& node, const std::string& check_id) {
             OnTtlExpired(node, check_id);
           }),
      runner_(io, clock,
              [this](agent::CheckResult r) { OnProbeResult(std::move(r)); }) {
  ttl_.Pause();  // Expiry is a leader duty; resumed after the barrier.
}

HealthManager::~HealthManager() { Stop(); }

void HealthManager::Start() {
  WatchOwnChecks();
  raft_.OnLeadershipChange(io_.get_executor(),
                           [this](bool leader) { OnLeadership(leader); });
}

// Runs on an io thread: reads this node's checks, starts and stops probe
// runners to match, and re-arms the watch. Writes that land together fire
// the watch once, so a burst costs one pass.
void HealthManager::WatchOwnChecks() {
  store::WatchSet ws;
  auto checks = store_.ProbeChecksOnNode(self_.name, &ws);
  std::set<std::string> now;
  for (const Check& c : checks) {
    now.insert(c.check_id);
    runner_.Upsert(c);  // A no-op when unchanged.
  }
  std::vector<std::string> gone;
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    for (const std::string& id : probes_) {
      if (!now.contains(id)) gone.push_back(id);
    }
    probes_ = std::move(now);
  }
  for (const std::string& id : gone) runner_.Remove(id);
  ws.OnAnyFire([this] {
    // On the consensus thread: hop to io. The app stops io before it
    // destroys this manager, so a queued hop never outlives it.
    asio::post(io_, [this] { WatchOwnChecks(); });
  });
}

void HealthManager::ApplyProbeUpdate(structs::UpdateCheckCommand cmd,
                                     std::function<void(Status)> done) {
  if (!store_.GetCheck(cmd.node, cmd.check_id)) {
    done(Status(Code::kNotFound,
                "Unknown check ID \"" + cmd.check_id + "\""));
    return;
  }
  raft_.Propose(fsm::EncodeUpdateCheck(cmd), io_.get_executor(),
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

void HealthManager::Stop() {
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    leader_ = false;
    reap_alarm_.reset();
  }
  ttl_.Pause();
  runner_.Stop();
}

void HealthManager::RearmAfterRestore() {
  if (!raft_.IsLeader()) return;
  OnLeadership(false);
  OnLeadership(true);
}

void HealthManager::OnLeadership(bool leader) {
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    leader_ = leader;
    critical_since_.clear();  // A new leader starts every clock afresh.
    reap_alarm_.reset();
  }
  if (!leader) {
    ttl_.Pause();
    spdlog::info("leadership lost: TTL expiry and reaping stopped");
    return;
  }
  // Every TTL in the catalog gets a full period from now.
  for (const Check& c : store_.AllChecks()) {
    if (c.type == CheckType::kTtl && c.definition.ttl_ns > 0) {
      ttl_.Track(c.node, c.check_id,
                 std::chrono::nanoseconds(c.definition.ttl_ns),
                 c.status == HealthStatus::kCritical);
    }
  }
  ttl_.ResetAll();
  ttl_.Resume();
  ScheduleReap();
  spdlog::info("leader ready: tracking TTLs and reaping critical services");
}

void HealthManager::ChecksRegistered(const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    if (c.type == CheckType::kTtl && c.definition.ttl_ns > 0) {
      ttl_.Track(c.node, c.check_id,
                 std::chrono::nanoseconds(c.definition.ttl_ns),
                 c.status == HealthStatus::kCritical);
    }  // Probes: WatchOwnChecks starts them from the catalog.
  }
}

void HealthManager::ChecksRemoved(const std::string& node,
                                  const std::vector<std::string>& check_ids) {
  for (const std::string& id : check_ids) {
    ttl_.Untrack(node, id);  // Probes: WatchOwnChecks stops them.
  }
  WriterLock lock(&mu_);
  for (const std::string& id : check_ids) {
    critical_since_.erase({node, id});
    last_output_write_.erase(id);
  }
}

bool HealthManager::TtlUpdate(const Check& current, HealthStatus status,
                              const std::string& output) {
  // Consul resets the TTL on every update, whatever its status.
  agent::TtlTracker::PassResult r = ttl_.Pass(current.node, current.check_id);
  if (r == agent::TtlTracker::PassResult::kNotTracked && current.definition.ttl_ns > 0) {
    ttl_.Track(current.node, current.check_id,
               std::chrono::nanoseconds(current.definition.ttl_ns));
    return true;  // Not known to this leader yet: write what we were told.
  }
  if (r == agent::TtlTracker::PassResult::kRevived || current.status != status) {
    WriterLock lock(&mu_);
    last_output_write_[current.check_id] = clock_.Now();
    return true;
  }
  if (current.output == output) return false;
  // Output-only changes are written at most every kOutputWriteInterval.
  WriterLock lock(&mu_);
  auto& last = last_output_write_[current.check_id];
  const auto now = clock_.Now();
  if (now - last < kOutputWriteInterval) return false;
  last = now;
  return true;
}

void HealthManager::OnTtlExpired(const std::string& node,
                                 const std::string& check_id) {
  auto check = store_.GetCheck(node, check_id);
  if (!check) {
    ttl_.Untrack(node, check_id);
    return;
  }
  if (check->status == HealthStatus::kCritical) return;
  ProposeStatus(node, check_id, HealthStatus::kCritical, "TTL expired");
}

void HealthManager::OnProbeResult(agent::CheckResult result) {
  auto check = store_.GetCheck(self_.name, result.check_id);
  // Deregistered meanwhile: WatchOwnChecks stops its runner.
  if (!check) return;
  if (check->status == result.status && check->output == result.output) return;
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    auto& last = last_output_write_[result.check_id];
    const auto now = clock_.Now();
    if (check->status == result.status && now - last < kOutputWriteInterval) {
      return;
    }
    last = now;
  }
  if (remote_update_ && !raft_.IsLeader()) {
    structs::UpdateCheckCommand cmd;
    cmd.node = self_.name;
    cmd.check_id = result.check_id;
    cmd.status = result.status;
    cmd.output = std::move(result.output);
    remote_update_(std::move(cmd), [id = result.check_id](Status s) {
      if (!s.ok()) {
        spdlog::warn("check {}: sending the result to the leader failed: {}",
                     id, s.message());
      }
    });
    return;
  }
  ProposeStatus(self_.name, result.check_id, result.status,
                std::move(result.output));
}

void HealthManager::ProposeStatus(const std::string& node,
                                  const std::string& check_id,
                                  HealthStatus status, std::string output) {
  structs::UpdateCheckCommand cmd;
  cmd.node = node;
  cmd.check_id = check_id;
  cmd.status = status;
  cmd.output = std::move(output);
  raft_.Propose(fsm::EncodeUpdateCheck(cmd), io_.get_executor(),
                [check_id](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    spdlog::warn("check {}: status update failed: {}",
                                 check_id, r.status.message());
                  }
                });
}

void HealthManager::ScheduleReap() {
  WriterLock lock(&mu_);
  if (!leader_ || stopped_) return;
  reap_alarm_ = clock_.SetAlarm(clock_.Now() + kReapInterval,
                                io_.get_executor(), [this] { Reap(); });
}

// DeregisterCriticalServiceAfter: the leader remembers since when it has
// seen each such check critical, and deregisters the service once that is
// longer than the check's setting.
void HealthManager::Reap() {
  std::vector<std::pair<std::string, std::string>> doomed;  // node, service
  {
    const auto now = clock_.Now();
    auto checks = store_.CriticalChecksWithDeregisterAfter();
    WriterLock lock(&mu_);
    if (!leader_ || stopped_) return;
    std::map<std::pair<std::string, std::string>, Clock::TimePoint> next;
    for (const Check& c : checks) {  // Critical, with the setting.
      auto key = std::make_pair(c.node, c.check_id);
      auto it = critical_since_.find(key);
      const auto since = it == critical_since_.end() ? now : it->second;
      next.emplace(key, since);
      if (now - since >=
          std::chrono::nanoseconds(c.definition.deregister_critical_after_ns)) {
        doomed.emplace_back(c.node, c.service_id);
      }
    }
    critical_since_ = std::move(next);
  }
  for (auto& [node, service_id] : doomed) {
    spdlog::info("deregistering service {} on {}: critical for too long",
                 service_id, node);
    structs::DeregisterCommand cmd;
    cmd.node = node;
    cmd.service_id = service_id;
    raft_.Propose(fsm::EncodeDeregister(cmd), io_.get_executor(),
                  [service_id](fsm::ApplyResult r) {
                    if (!r.status.ok()) {
                      spdlog::warn("reaping {} failed: {}", service_id,
                                   r.status.message());
                    }
                  });
  }
  ScheduleReap();
}

}  // namespace sider::server
