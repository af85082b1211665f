#include "server/cluster_membership.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/cluster_info.h"
#include "store/catalog_store.h"

namespace sider::server {
namespace {

using Peer = consensus::RaftNode::Peer;
using std::chrono::milliseconds;

constexpr milliseconds kHelloTimeout{1000};
// Adding a voter waits for it to catch up with the log.
constexpr milliseconds kJoinTimeout{30000};
constexpr auto kRepeatLogEvery = std::chrono::seconds(30);
constexpr std::string_view kSerfCheck = "serfHealth";

// Whether `have` holds every key of `want` with the same value. Other
// writers (the node heartbeat, node_heartbeat.h) keep their own Meta keys on
// the same row; each side merges instead of replacing.
bool HasMeta(const structs::Meta& have, const structs::Meta& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

std::string HostOf(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  return colon == std::string::npos ? host_port : host_port.substr(0, colon);
}

// The catalog node of a server: the shape AgentService gives the leader's
// own node (agent_service.cc), so both paths agree.
structs::Node ServerNode(const JoinRequest& r) {
  structs::Node n;
  n.name = r.node;
  n.id = r.node_id;
  n.address = r.address.empty() ? HostOf(r.http_address) : r.address;
  n.datacenter = r.datacenter;
  n.tagged_addresses = {{"lan", n.address}, {"wan", n.address}};
  n.meta = {{kMetaRole, "server"},
            {kMetaRaftAddr, r.raft_address},
            {kMetaHttpAddr, r.http_address}};
  return n;
}

}  // namespace

ClusterMembership::ClusterMembership(MembershipOptions options,
                                     const NodeIdentity& self,
                                     consensus::RaftNode& raft,
                                     ClusterInfo& cluster,
                                     store::CatalogStore& catalog,
                                     asio::io_context& io, Clock& clock)
    : options_(std::move(options)),
      self_(self),
      raft_(raft),
      cluster_(cluster),
      catalog_(catalog),
      io_(io),
      clock_(clock),
      strand_(asio::make_strand(io)) {}

ClusterMembership::~ClusterMembership() = default;

Status ClusterMembership::Start() {
  bool has_state = false;
  if (!options_.bootstrap) {
    auto r = consensus::RaftNode::HasState(options_.raft_data_dir);
    if (!r.ok()) return r.status();
    has_state = *r;
  }
  const bool discover =
      !options_.bootstrap && !has_state && options_.bootstrap_expect > 0;
  if (discover) {
    spdlog::info("cluster: no raft state; waiting for {} servers "
                 "(bootstrap-expect) via --join {}",
                 options_.bootstrap_expect, fmt::join(options_.join, ", "));
    phase_ = Phase::kDiscover;
  } else {
    if (Status s = StartRaft({}); !s.ok()) return s;
    phase_ = options_.join.empty() || has_state || options_.bootstrap
                 ? Phase::kMember
                 : Phase::kJoin;
  }
  backoff_ = options_.min_backoff;
  asio::post(strand_, [this] { Arm(milliseconds(0)); });
  // A new leader registers its own server node at once, together with the
  // other start-of-term writes, rather than at the next tick where it would
  // wake blocking queries on this node a second later.
  raft_.OnLeadershipChange(strand_, [this](bool leader) {
    if (leader && !stopped_) EnsureRegistered();
  });
  return Status::Ok();
}

void ClusterMembership::Stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    alarm_.reset();
  });
}

Status ClusterMembership::StartRaft(std::vector<Peer> bootstrap_peers) {
  Status s = bootstrap_peers.empty() ? raft_.Start()
                                     : raft_.Start(std::move(bootstrap_peers));
  if (s.ok()) raft_started_.store(true);
  return s;
}

bool ClusterMembership::InOwnConfiguration() const {
  for (const Peer& p : raft_.Peers()) {
    if (p.id == raft_.Id()) return true;
  }
  return false;
}

bool ClusterMembership::OwnRoleDiffers() const {
  for (const Peer& p : raft_.Peers()) {
    if (p.id == raft_.Id()) return p.voter != options_.voter;
  }
  return false;
}

void ClusterMembership::Arm(milliseconds after) {
  if (stopped_) return;
  alarm_ = clock_.SetAlarm(clock_.Now() + after, strand_, [this] { Round(); });
}

void ClusterMembership::Backoff(const std::string& why) {
  const auto now = clock_.Now();
  if (why != last_log_ || now - last_log_at_ >= kRepeatLogEvery) {
    spdlog::info("cluster: {} (retrying with backoff)", why);
    last_log_ = why;
    last_log_at_ = now;
  } else {
    spdlog::debug("cluster: {}", why);
  }
  Arm(backoff_);
  backoff_ = std::min(options_.max_backoff, backoff_ * 2);
}

void ClusterMembership::Round() {
  if (stopped_) return;
  ++round_;
  switch (phase_) {
    case Phase::kDiscover:
      Discover(round_);
      return;
    case Phase::kJoin:
      JoinRound(round_);
      return;
    case Phase::kMember:
      MemberTick();
      Arm(options_.tick);
      return;
  }
}

// ---- hello ----------------------------------------------------------------

HelloInfo ClusterMembership::SelfHello() const {
  HelloInfo h;
  h.node = self_.name;
  h.node_id = self_.id;
  h.raft_id = raft_.Id();
  h.raft_address = self_.raft_address;
  h.http_address = cluster_.SelfHttpAddress();
  h.datacenter = self_.datacenter;
  h.voter = options_.voter;
  h.bootstrap_expect = options_.bootstrap_expect;
  if (raft_started_.load()) {
    h.servers = raft_.Peers();
    h.has_state = raft_.Term() > 0 || !h.servers.empty();
    h.leader_address = raft_.LeaderAddress();
    if (!h.leader_address.empty()) {
      h.leader_http_address = cluster_.LeaderHttpAddress();
    }
  }
  return h;
}

HelloInfo ClusterMembership::Hello(const std::string& from) {
  if (!from.empty()) {
    // A discovering server that hears from a new one asks again at once.
    asio::post(strand_, [this] {
      if (phase_ != Phase::kDiscover || stopped_ ||
          backoff_ <= options_.min_backoff) {
        return;
      }
      backoff_ = options_.min_backoff;
      Arm(milliseconds(0));
    });
  }
  return SelfHello();
}

void ClusterMembership::Discover(int round) {
  struct Gather {
    size_t pending = 0;
    std::vector<HelloInfo> replies;
  };
  if (options_.join.empty()) {
    Backoff("bootstrap-expect needs --join addresses of the other servers");
    return;
  }
  auto g = std::make_shared<Gather>();
  g->pending = options_.join.size();
  const std::string target =
      "/v1/internal/cluster/hello?from=" + cluster_.SelfHttpAddress();
  for (const std::string& addr : options_.join) {
    ClusterHttpCall(strand_, addr, "GET", target, "", kHelloTimeout,
                    [this, g, round, addr](Result<HttpReply> r) {
                      if (r.ok() && r->status == 200) {
                        auto h = DecodeHello(r->body);
                        if (h.ok()) g->replies.push_back(std::move(*h));
                      }
                      if (--g->pending == 0 && round == round_) {
                        OnHellos(round, std::move(g->replies));
                      }
                    });
  }
}

void ClusterMembership::OnHellos(int /*round*/, std::vector<HelloInfo> replies) {
  if (stopped_) return;
  for (const HelloInfo& h : replies) {
    cluster_.Remember(h.raft_address, h.node, h.http_address);
  }
  if (phase_ != Phase::kDiscover) return;
  BootstrapDecision d =
      DecideBootstrap(SelfHello(), replies, options_.bootstrap_expect);
  switch (d.plan) {
    case BootstrapPlan::kWait:
      Backoff("bootstrap: " + d.reason);
      return;
    case BootstrapPlan::kBootstrap: {
      std::string list;
      for (const Peer& p : d.peers) {
        list += (list.empty() ? "" : ", ") + p.address;
      }
      spdlog::info("cluster: bootstrapping with [{}]: {}", list, d.reason);
      if (Status s = StartRaft(std::move(d.peers)); !s.ok()) {
        Backoff("bootstrap failed: " + s.message());
        return;
      }
      phase_ = Phase::kMember;
      break;
    }
    case BootstrapPlan::kStartEmpty:
    case BootstrapPlan::kJoin:
      spdlog::info("cluster: starting without configuration: {}", d.reason);
      if (Status s = StartRaft({}); !s.ok()) {
        Backoff("starting raft failed: " + s.message());
        return;
      }
      phase_ = Phase::kJoin;
      break;
  }
  backoff_ = options_.min_backoff;
  Arm(milliseconds(0));
}

// ---- join -----------------------------------------------------------------

JoinRequest ClusterMembership::SelfJoin() const {
  JoinRequest j;
  j.node = self_.name;
  j.node_id = self_.id;
  j.raft_id = raft_.Id();
  j.raft_address = self_.raft_address;
  j.http_address = cluster_.SelfHttpAddress();
  j.address = self_.address;
  j.datacenter = self_.datacenter;
  j.voter = options_.voter;
  return j;
}

void ClusterMembership::JoinRound(int round) {
  if (InOwnConfiguration() && !cluster_.LeaderHttpAddress().empty()) {
    // Already a member (a restart, or the leader replicated to us): the
    // idempotent join below only makes sure our catalog node exists.
    SendJoin(round, cluster_.LeaderHttpAddress());
    return;
  }
  if (options_.join.empty()) {
    phase_ = Phase::kMember;
    Arm(options_.tick);
    return;
  }
  struct Gather {
    size_t pending = 0;
    std::string leader_http;
  };
  auto g = std::make_shared<Gather>();
  g->pending = options_.join.size();
  const std::string target = "/v1/internal/cluster/hello";
  for (const std::string& addr : options_.join) {
    ClusterHttpCall(
        strand_, addr, "GET", target, "", kHelloTimeout,
        [this, g, round](Result<HttpReply> r) {
          if (r.ok() && r->status == 200) {
            if (auto h = DecodeHello(r->body); h.ok()) {
              cluster_.Remember(h->raft_address, h->node, h->http_address);
              if (g->leader_http.empty()) g->leader_http = h->leader_http_address;
            }
          }
          if (--g->pending != 0 || round != round_ || stopped_) return;
          if (g->leader_http.empty()) {
            Backoff("join: no leader known at any --join address");
            return;
          }
          SendJoin(round, g->leader_http);
        });
  }
}

void ClusterMembership::SendJoin(int round, std::string target) {
  ClusterHttpCall(
      strand_, target, "PUT", "/v1/internal/cluster/join",
      EncodeJoin(SelfJoin()), kJoinTimeout,
      [this, round, target](Result<HttpReply> r) {
        if (round != round_ || stopped_) return;
        if (!r.ok()) {
          Backoff("join via " + target + ": " + r.status().message());
          return;
        }
        if (r->status != 200) {
          Backoff("join via " + target + ": HTTP " +
                  std::to_string(r->status) + " " + r->body);
          return;
        }
        spdlog::info("cluster: joined through the leader at {} as a {}",
                     target, options_.voter ? "voter" : "non-voter");
        phase_ = Phase::kMember;
        backoff_ = options_.min_backoff;
        last_log_.clear();
        Arm(options_.tick);
      });
}

void ClusterMembership::HandleJoin(JoinRequest req, Done done) {
  if (!raft_.IsLeader()) {
    done(Status(Code::kUnavailable, raft_.LeaderAddress().empty()
                                        ? "No cluster leader"
                                        : "not leader"));
    return;
  }
  if (req.raft_id == 0 || req.raft_address.empty() || req.node.empty()) {
    done(Status(Code::kInvalidArgument,
                "join: Node, RaftID and RaftAddress are required"));
    return;
  }
  cluster_.Remember(req.raft_address, req.node, req.http_address);
  bool present = false;
  bool role_differs = false;
  for (const Peer& p : raft_.Peers()) {
    if (p.id == req.raft_id && p.address == req.raft_address) {
      present = true;
      role_differs = p.voter != req.voter;
    } else if (p.id == req.raft_id || p.address == req.raft_address) {
      done(Status(Code::kConflict,
                  "join: raft id " + std::to_string(p.id) + " / address " +
                      p.address + " already belongs to another server; "
                      "remove it first"));
      return;
    }
  }
  if (present && role_differs) {
    // Restarted with (or without) --non-voter: the command line wins.
    spdlog::info("cluster: {} (id {}) rejoins as a {}", req.node, req.raft_id,
                 req.voter ? "voter" : "standby");
    raft_.AssignRole(req.raft_id, req.voter, io_.get_executor(),
                     [this, req, done = std::move(done)](Status s) mutable {
                       if (!s.ok()) {
                         spdlog::warn("cluster: changing the role of {}: {}",
                                      req.node, s.message());
                         done(std::move(s));
                         return;
                       }
                       RegisterServerNode(req, std::move(done));
                     });
    return;
  }
  if (present) {
    RegisterServerNode(req, std::move(done));
    return;
  }
  spdlog::info("cluster: adding {} ({}, id {}) as a {}", req.node,
               req.raft_address, req.raft_id,
               req.voter ? "voter" : "standby");
  auto then = [this, req, done = std::move(done)](Status s) mutable {
    if (!s.ok()) {
      spdlog::warn("cluster: adding {} failed: {}", req.node, s.message());
      done(std::move(s));
      return;
    }
    RegisterServerNode(req, std::move(done));
  };
  if (req.voter) {
    raft_.AddVoter(req.raft_id, req.raft_address, io_.get_executor(),
                   std::move(then));
  } else {
    raft_.AddStandby(req.raft_id, req.raft_address, io_.get_executor(),
                     std::move(then));
  }
}

void ClusterMembership::RegisterServerNode(const JoinRequest& req, Done done) {
  structs::Node want = ServerNode(req);
  auto have = catalog_.GetNode(want.name);
  auto have_check = catalog_.GetCheck(want.name, std::string(kSerfCheck));
  if (have && have->address == want.address &&
      have->id == want.id &&
      HasMeta(have->meta, want.meta) && have_check &&
      have_check->status == structs::HealthStatus::kPassing) {
    done(Status::Ok());
    return;
  }
  if (have) {
    structs::Meta merged = have->meta;
    for (auto& [k, v] : want.meta) merged[k] = v;
    want.meta = std::move(merged);
  }
  structs::RegisterCommand cmd;
  structs::Check serf;
  serf.node = want.name;
  serf.check_id = std::string(kSerfCheck);
  serf.name = "Serf Health Status";
  serf.status = structs::HealthStatus::kPassing;
  serf.output = "Agent alive and reachable";
  cmd.node = std::move(want);
  cmd.checks.push_back(std::move(serf));
  raft_.Propose(fsm::EncodeRegister(cmd), io_.get_executor(),
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

// ---- member ---------------------------------------------------------------

void ClusterMembership::MemberTick() {
  cluster_.RefreshFromCatalog();
  Probe();
  if (!options_.join.empty() && !InOwnConfiguration() &&
      raft_.Term() > 0 && !raft_.IsLeader()) {
    // Not (or no longer) in the configuration: ask to be added again.
    phase_ = Phase::kJoin;
    return;
  }
  if (InOwnConfiguration() && OwnRoleDiffers() && raft_.Term() > 0 &&
      !raft_.IsLeader()) {
    // Restarted with (or without) --non-voter: the join asks the leader
    // for the role the command line wants.
    phase_ = Phase::kJoin;
    return;
  }
  EnsureRegistered();
}

void ClusterMembership::EnsureRegistered() {
  if (!InOwnConfiguration()) return;
  const JoinRequest me = SelfJoin();
  const structs::Node want = ServerNode(me);
  auto have = catalog_.GetNode(want.name);
  if (have && HasMeta(have->meta, want.meta) &&
      have->address == want.address) {
    return;
  }
  if (raft_.IsLeader()) {
    RegisterServerNode(me, [](Status s) {
      if (!s.ok()) spdlog::debug("cluster: registering self: {}", s.message());
    });
    return;
  }
  const std::string leader = cluster_.LeaderHttpAddress();
  if (leader.empty()) return;
  ClusterHttpCall(strand_, leader, "PUT", "/v1/internal/cluster/join",
                  EncodeJoin(me), kJoinTimeout, [](Result<HttpReply> r) {
                    if (!r.ok() || r->status != 200) {
                      spdlog::debug("cluster: registration via leader: {}",
                                    r.ok() ? r->body : r.status().message());
                    }
                  });
}

void ClusterMembership::Probe() {
  for (const ServerInfo& s : cluster_.Servers()) {
    if (s.self || s.http_address.empty()) continue;
    ClusterHttpCall(strand_, s.http_address, "GET",
                    "/v1/internal/cluster/hello", "", kHelloTimeout,
                    [this, raft = s.raft_address](Result<HttpReply> r) {
                      const bool ok = r.ok() && r->status == 200;
                      if (ok) {
                        if (auto h = DecodeHello(r->body); h.ok()) {
                          cluster_.Remember(h->raft_address, h->node,
                                            h->http_address);
                        }
                      }
                      cluster_.RecordContact(raft, ok);
                    });
  }
}

void ClusterMembership::RemoveServer(uint64_t raft_id, Done done) {
  if (!raft_.IsLeader()) {
    done(Status(Code::kUnavailable, "not leader"));
    return;
  }
  if (raft_id == raft_.Id()) {
    done(Status(Code::kFailedPrecondition,
                "cannot remove the leader; transfer leadership first"));
    return;
  }
  spdlog::info("cluster: removing server {} from the configuration", raft_id);
  raft_.RemovePeer(raft_id, io_.get_executor(), std::move(done));
}

void ClusterMembership::TransferLeadership(uint64_t raft_id, Done done) {
  if (!raft_.IsLeader()) {
    done(Status(Code::kUnavailable, "not leader"));
    return;
  }
  spdlog::info("cluster: transferring leadership to {}",
               raft_id == 0 ? std::string("any voter") : std::to_string(raft_id));
  raft_.TransferLeadership(raft_id, io_.get_executor(), std::move(done));
}

}  // namespace sider::server
