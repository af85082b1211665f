#include "server/node_heartbeat.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/cluster_info.h"
#include "store/catalog_store.h"

namespace sider::server {
namespace {

using structs::Check;
using structs::HealthStatus;

// Consul's serf check texts; UIs and scripts show them.
constexpr std::string_view kAliveOutput = "Agent alive and reachable";
constexpr std::string_view kDeadOutput = "Agent not live or unreachable";

Check SerfCheck(const std::string& node, HealthStatus status,
                std::string_view output) {
  Check c;
  c.node = node;
  c.check_id = std::string(kSerfCheckId);
  c.name = "Serf Health Status";
  c.status = status;
  c.output = std::string(output);
  return c;
}

}  // namespace

structs::Node NodeRowFor(const NodeIdentity& self) {
  structs::Node node;
  node.name = self.name;
  node.id = self.id;
  node.address = self.address;
  node.datacenter = self.datacenter;
  node.tagged_addresses = {{"lan", self.address}, {"wan", self.address}};
  node.meta = {{kMetaRole, "server"},
               {kMetaRaftAddr, self.raft_address},
               {kMetaHttpAddr,
                self.address + ":" + std::to_string(self.http_port)}};
  return node;
}

NodeFailureDetector::NodeFailureDetector(const NodeIdentity& self, Clock& clock,
                                         asio::any_io_executor executor,
                                         store::CatalogStore& store,
                                         consensus::RaftNode& raft,
                                         std::chrono::nanoseconds node_ttl)
    : self_(self),
      executor_(executor),
      store_(store),
      raft_(raft),
      ttl_period_(node_ttl),
      ttl_(clock, executor,
           [this](const std::string& node, const std::string&) {
             OnExpired(node);
           }) {
  ttl_.Pause();  // A leader duty; resumed after the barrier.
}

NodeFailureDetector::~NodeFailureDetector() { Stop(); }

void NodeFailureDetector::Start() {
  raft_.OnLeadershipChange(executor_,
                           [this](bool leader) { OnLeadership(leader); });
}

void NodeFailureDetector::Stop() {
  {
    WriterLock lock(&mu_);
    stopped_ = true;
    leader_ = false;
  }
  ttl_.Pause();
}

void NodeFailureDetector::RearmAfterRestore() {
  if (!raft_.IsLeader()) return;
  OnLeadership(false);
  OnLeadership(true);
}

void NodeFailureDetector::OnLeadership(bool leader) {
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    leader_ = leader;
  }
  if (!leader) {
    ttl_.Pause();
    return;
  }
  const std::string serf(kSerfCheckId);
  for (const structs::Node& n : store_.Nodes(nullptr).value) {
    if (n.name == self_.name || !n.meta.contains(kMetaHttpAddr)) {
      continue;
    }
    auto check = store_.GetCheck(n.name, serf);
    if (!check) continue;
    ttl_.Track(n.name, serf, ttl_period_,
               check->status == HealthStatus::kCritical);
  }
  ttl_.ResetAll();  // Every node gets a full period from now.
  ttl_.Resume();
}

void NodeFailureDetector::Heartbeat(structs::Node node, Done done) {
  if (!raft_.IsLeader()) {
    done(Status(Code::kUnavailable, "not leader"));
    return;
  }
  const std::string serf(kSerfCheckId);
  bool write = false;
  if (node.name != self_.name) {
    const auto r = ttl_.Pass(node.name, serf);
    if (r == agent::TtlTracker::PassResult::kNotTracked) {
      ttl_.Track(node.name, serf, ttl_period_);
    }
    write = r == agent::TtlTracker::PassResult::kRevived;
  }
  auto have = store_.GetNode(node.name);
  auto check = store_.GetCheck(node.name, serf);
  if (have) {
    // Keep Meta that others wrote; ours wins for our keys.
    structs::Meta meta = have->meta;
    for (auto& [k, v] : node.meta) meta[k] = v;
    node.meta = std::move(meta);
  }
  if (!have || have->address != node.address ||
      have->id != node.id || have->meta != node.meta ||
      !check || check->status != HealthStatus::kPassing) {
    write = true;
  }
  if (!write) {
    done(Status::Ok());
    return;
  }
  structs::RegisterCommand cmd;
  cmd.checks.push_back(
      SerfCheck(node.name, HealthStatus::kPassing, kAliveOutput));
  cmd.node = std::move(node);
  raft_.Propose(fsm::EncodeRegister(cmd), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

void NodeFailureDetector::OnExpired(const std::string& node) {
  {
    WriterLock lock(&mu_);
    if (!leader_ || stopped_) return;
  }
  auto check = store_.GetCheck(node, std::string(kSerfCheckId));
  if (!check) {
    ttl_.Untrack(node, std::string(kSerfCheckId));
    return;
  }
  if (check->status == HealthStatus::kCritical) return;
  spdlog::warn(
      "node {}: no heartbeat for {} ms, marking it critical", node,
      std::chrono::duration_cast<std::chrono::milliseconds>(ttl_period_)
          .count());
  structs::UpdateCheckCommand cmd;
  cmd.node = node;
  cmd.check_id = std::string(kSerfCheckId);
  cmd.status = HealthStatus::kCritical;
  cmd.output = std::string(kDeadOutput);
  raft_.Propose(fsm::EncodeUpdateCheck(cmd), executor_,
                [node](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    spdlog::warn("node {}: marking critical failed: {}", node,
                                 r.status.message());
                  }
                });
}

struct HeartbeatSender::State : std::enable_shared_from_this<State> {
  State(Clock& c, asio::any_io_executor e, std::chrono::nanoseconds i, Send s)
      : clock(c),
        strand(asio::make_strand(e)),
        interval(i),
        send(std::move(s)) {}

  void Beat() {
    send([self = shared_from_this()](Status s) {
      if (!s.ok()) spdlog::debug("heartbeat: {}", s.message());
      asio::post(self->strand, [self] { self->Schedule(); });
    });
  }
  // On the strand.
  void Schedule() {
    if (stopped) return;
    alarm = clock.SetAlarm(clock.Now() + interval, strand,
                           [self = shared_from_this()] {
                             if (self->stopped) return;
                             self->Beat();
                           });
  }

  Clock& clock;
  const asio::any_io_executor strand;
  const std::chrono::nanoseconds interval;
  const Send send;
  // On the strand.
  bool stopped = false;
  std::unique_ptr<Clock::Alarm> alarm;
};

HeartbeatSender::HeartbeatSender(Clock& clock, asio::any_io_executor executor,
                                 std::chrono::nanoseconds interval, Send send)
    : state_(std::make_shared<State>(clock, std::move(executor), interval,
                                     std::move(send))) {}

HeartbeatSender::~HeartbeatSender() { Stop(); }

void HeartbeatSender::Start() {
  asio::post(state_->strand, [s = state_] { s->Beat(); });
}

void HeartbeatSender::Stop() {
  asio::post(state_->strand, [s = state_] {
    s->stopped = true;
    s->alarm.reset();
  });
}

}  // namespace sider::server
