// The composition root: builds store -> fsm -> consensus -> server -> http
// for one server process and runs it until SIGINT/SIGTERM.
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "app/options.h"
#include "app/version.h"
#include "base/asio.h"
#include "base/clock.h"
#include "consensus/raft_node.h"
#include "fsm/fsm.h"
#include "http/api.h"
#include "http/client_pool.h"
#include "http/cluster_dispatch.h"
#include "http/read.h"
#include "http/response_cache.h"
#include "http/router.h"
#include "http/server.h"
#include "server/agent_service.h"
#include "server/catalog_writer.h"
#include "server/cluster_info.h"
#include "server/cluster_membership.h"
#include "server/event_service.h"
#include "server/health_manager.h"
#include "server/node_heartbeat.h"
#include "server/read_gate.h"
#include "server/read_index_gate.h"
#include "server/kv_service.h"
#include "server/lock_delay.h"
#include "server/session_manager.h"
#include "server/snapshot_service.h"
#include "server/tombstone_reaper.h"
#include "store/catalog_store.h"
#include "store/kv_store.h"

namespace sider::app {
namespace {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

Result<HostPort> ParseHostPort(const std::string& s, const char* what) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) {
    return Status(Code::kInvalidArgument,
                  std::string(what) + ": want HOST:PORT, got \"" + s + "\"");
  }
  HostPort hp;
  hp.host = s.substr(0, colon);
  try {
    const int port = std::stoi(s.substr(colon + 1));
    if (port < 1 || port > 65535) throw std::out_of_range("port");
    hp.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return Status(Code::kInvalidArgument,
                  std::string(what) + ": bad port in \"" + s + "\"");
  }
  return hp;
}

std::string NewUuid() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string out = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : out) {
    if (c == 'x' || c == 'y') {
      int v = hex(rd);
      if (c == 'y') v = (v & 0x3) | 0x8;
      c = "0123456789abcdef"[v];
    }
  }
  return out;
}

// The node ID is generated once and kept in the data dir, like Consul's
// node-id file, so it survives restarts.
Result<std::string> LoadOrCreateNodeId(const std::filesystem::path& dir) {
  const auto path = dir / "node-id";
  std::ifstream in(path);
  std::string id;
  if (in && std::getline(in, id) && !id.empty()) return id;
  id = NewUuid();
  std::ofstream out(path, std::ios::trunc);
  out << id << "\n";
  if (!out) {
    return Status(Code::kInternal, "cannot write " + path.string());
  }
  return id;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "sider";
  return buf;
}

bool IsSoleVoter(const consensus::RaftNode& raft) {
  int voters = 0;
  bool self = false;
  for (const auto& p : raft.Peers()) {
    if (!p.voter) continue;
    ++voters;
    self = self || p.id == raft.Id();
  }
  return voters == 1 && self;
}

}  // namespace

// Parked blocking queries each hold a socket (and, forwarded, one more to
// the leader): take every descriptor the hard limit allows.
void RaiseDescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int RunServer(const ServerOptions& options) {
  signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");

  auto http_addr = ParseHostPort(options.http_addr, "--http-addr");
  auto raft_addr = ParseHostPort(options.raft_addr, "--raft-addr");
  for (const Status& s : {http_addr.status(), raft_addr.status()}) {
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      return 2;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data dir {}: {}", options.data_dir,
                  ec.message());
    return 1;
  }
  auto node_id = LoadOrCreateNodeId(options.data_dir);
  if (!node_id.ok()) {
    spdlog::error("{}", node_id.status().message());
    return 1;
  }

  server::NodeIdentity self;
  self.name = options.node_name.empty() ? HostName() : options.node_name;
  self.id = *node_id;
  self.address = http_addr->host;
  self.datacenter = options.datacenter;
  self.raft_address = options.raft_addr;
  self.http_port = http_addr->port;
  self.version = kVersion;

  SystemClock clock;
  store::CatalogStore catalog;
  store::KvStore kv;
  fsm::Fsm fsm(catalog, kv);
  // Lock-delays are recorded on every replica as the FSM applies session
  // invalidations (server/lock_delay.h); set before the log replays.
  server::LockDelays lock_delays(clock);
  fsm.SetReleasedLocksObserver(
      [&lock_delays](uint64_t, const std::vector<structs::ReleasedLock>& r) {
        lock_delays.Record(r);
      });
  consensus::RaftNode::Options raft_options;
  raft_options.node_name = self.name;
  raft_options.address = options.raft_addr;
  raft_options.data_dir =
      (std::filesystem::path(options.data_dir) / "raft").string();
  raft_options.bootstrap = options.bootstrap;
  raft_options.election_timeout_ms =
      static_cast<unsigned>(options.raft_election_timeout.count());
  raft_options.heartbeat_timeout_ms =
      static_cast<unsigned>(options.raft_heartbeat_timeout.count());
  raft_options.connect_retry_ms =
      static_cast<unsigned>(options.raft_reconnect_delay.count());
  raft_options.leader_loss_stagger_ms =
      static_cast<unsigned>(options.raft_leader_loss_stagger.count());
  raft_options.snapshot_threshold = options.raft_snapshot_threshold;
  raft_options.snapshot_trailing = options.raft_snapshot_trailing;
  // Started by `membership` (below): at once, or once bootstrap-expect has
  // found its peers.
  consensus::RaftNode raft(raft_options, &fsm);

  const unsigned threads = options.io_threads
                               ? options.io_threads
                               : std::max(2u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  server::ClusterInfo cluster(raft, catalog, self, clock);
  server::MembershipOptions membership_options;
  membership_options.raft_data_dir = raft_options.data_dir;
  membership_options.bootstrap = options.bootstrap;
  membership_options.bootstrap_expect = options.bootstrap_expect;
  membership_options.join = options.join;
  membership_options.voter = !options.non_voter;
  server::ClusterMembership membership(std::move(membership_options), self,
                                       raft, cluster, catalog, io, clock);
  server::HealthManager health(self, io, clock, catalog, raft);
  server::AgentService agent(self, io.get_executor(), catalog, raft, health);

  server::CatalogWriter catalog_writer(io.get_executor(), raft);
  server::KvService kv_service(io.get_executor(), raft, lock_delays);
  server::SessionManager::Options session_options;
  session_options.ttl_min = options.session_ttl_min;
  server::SessionManager sessions(self, io, clock, kv, raft, session_options);
  server::TombstoneReaper tombstones(clock, io.get_executor(), kv, raft);
  server::EventService events([&catalog, &self](const server::UserEvent& e) {
    return server::EventService::Matches(e, self.name,
                                         catalog.ServicesOnNode(self.name));
  });

  // Node failure detection (leader) and this node's heartbeat to it.
  server::NodeFailureDetector node_failure(self, clock, io.get_executor(),
                                           catalog, raft, options.node_ttl);

  http::Router router;  // The API; `front` reaches it through `dispatch`.
  http::ApiDeps api_deps{agent, catalog_writer, catalog, cluster,
                         clock, io.get_executor(), self, kv,
                         kv_service, sessions, events};
  api_deps.node_failure = &node_failure;
  api_deps.health = &health;
  api_deps.membership = &membership;
  server::SnapshotService snapshots(
      io.get_executor(), raft, fsm,
      {.node = self.name,
       .version = kVersion,
       .on_restored = [&health, &sessions, &node_failure] {
         health.RearmAfterRestore();
         sessions.RearmAfterRestore();
         node_failure.RearmAfterRestore();
       }});
  api_deps.snapshots = &snapshots;
  http::ResponseCache response_cache;
  api_deps.response_cache = &response_cache;
  http::RegisterApi(router, api_deps);

  // "Any node serves any request" (docs/consistency.md).
  server::ReadGate read_gate(io.get_executor(),
                             [&raft, &io](server::ReadGate::Done done) {
                               raft.Barrier(io.get_executor(), std::move(done));
                             });
  http::ClientPool client_pool(io);
  // Follower reads (docs/consistency.md, "Default reads on a follower"): a
  // read index from the leader, batched, then this node's own applies.
  auto leader_http_address = [&raft, &cluster, &self]() -> std::string {
    // Elected but not yet ready: wait rather than forward to ourselves.
    if (raft.LeaderAddress() == self.raft_address) return "";
    return cluster.LeaderHttpAddress();
  };
  server::ReadIndexGate read_index_gate(
      clock, io.get_executor(),
      [&leader_http_address, &client_pool, &self](
          std::chrono::milliseconds timeout,
          server::ReadIndexGate::IndexDone done) {
        const std::string leader = leader_http_address();
        if (leader.empty()) {
          done(Status(Code::kUnavailable, std::string(http::kNoLeaderText)));
          return;
        }
        http::FetchReadIndex(client_pool, leader, self.name, timeout,
                             std::move(done));
      },
      [&raft, &io](uint64_t index, std::chrono::milliseconds timeout,
                   server::ReadIndexGate::Done done) {
        raft.WaitApplied(index, timeout, io.get_executor(), std::move(done));
      },
      {});
  http::ClusterView view;
  view.node_name = self.name;
  view.is_ready_leader = [&raft] { return raft.IsLeader(); };
  view.leader_http_address = leader_http_address;
  view.last_contact_ms = [&cluster] { return cluster.LastContactMs(); };
  view.read_barrier = [&read_gate, &raft](std::function<void(Status)> done) {
    // The only voter cannot be deposed, and it acknowledges a write only
    // after applying it, so its local state is already linearizable: no
    // quorum round (and no log entry) is needed.
    if (raft.IsLeader() && IsSoleVoter(raft)) {
      done(Status::Ok());
      return;
    }
    read_gate.Wait(std::move(done));
  };
  view.state_index = [&raft] { return raft.StateIndex(); };
  if (!options.forward_reads) {
    view.follower_read = [&read_index_gate](Clock::TimePoint deadline,
                                            std::function<void(Status)> done) {
      read_index_gate.Wait(deadline, std::move(done));
    };
  }
  http::ClusterDispatch dispatch(router, client_pool, std::move(view), clock,
                                 io.get_executor(), {});
  http::Router front;
  dispatch.Install(front);

  health.SetRemoteUpdate([&dispatch](structs::UpdateCheckCommand cmd,
                                     std::function<void(Status)> done) {
    dispatch.Dispatch(
        http::MakeRequest(http::Method::kPut, "/v1/internal/check-update",
                          {{"node", cmd.node},
                           {"check", cmd.check_id},
                           {"status", std::string(structs::HealthStatusName(
                                          cmd.status))}},
                          std::move(cmd.output)),
        [done = std::move(done)](http::Response r) {
          done(http::StatusOfResponse(r));
        });
  });
  server::HeartbeatSender heartbeat(
      clock, io.get_executor(), options.node_heartbeat_interval,
      [&dispatch, &self](std::function<void(Status)> done) {
        const structs::Node row = server::NodeRowFor(self);
        dispatch.Dispatch(
            http::MakeRequest(
                http::Method::kPut, "/v1/internal/node-heartbeat",
                {{"node", row.name},
                 {"id", row.id},
                 {"address", row.address},
                 {"http", row.meta.at(server::kMetaHttpAddr)},
                 {"raft", row.meta.at(server::kMetaRaftAddr)}}),
            [done = std::move(done)](http::Response r) {
              done(http::StatusOfResponse(r));
            });
      });
  http::Server::Options http_options;
  http_options.address = http_addr->host;
  http_options.port = http_addr->port;
  // Restores carry the whole state (docs/backup.md has the limits).
  http_options.max_body_bytes_by_path = {{"/v1/snapshot", 64u << 20}};
  http::Server http_server(io, http_options, front,
                           [&cluster, &catalog, &kv](http::Response& r) {
                             http::AddClusterHeaders(cluster, r);
                             http::EnsureIndexHeader(r, [&catalog, &kv] {
                               return std::max(catalog.MaxIndex(),
                                               kv.MaxIndex());
                             });
                           });
  if (Status s = http_server.Start(); !s.ok()) {
    spdlog::error("http: {}", s.message());
    raft.Stop();
    return 1;
  }

  if (Status s = membership.Start(); !s.ok()) {
    spdlog::error("raft: {}", s.message());
    http_server.Stop();
    return 1;
  }
  health.Start();
  node_failure.Start();
  heartbeat.Start();
  sessions.Start();
  tombstones.Start();
  raft.OnLeadershipChange(io.get_executor(), [&agent](bool leader) {
    if (!leader) return;
    agent.EnsureSelfRegistered([](Status s) {
      if (!s.ok()) spdlog::warn("registering this node: {}", s.message());
    });
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int sig) {
    if (e) return;
    spdlog::info("signal {}: shutting down", sig);
    http_server.Stop();
    membership.Stop();
    heartbeat.Stop();
    node_failure.Stop();
    health.Stop();
    client_pool.Shutdown();
    sessions.Stop();
    tombstones.Stop();
    io.stop();
  });

  spdlog::info("sider {} node {} ({}) http {} raft {} data {}", kVersion,
               self.name, self.id, options.http_addr, options.raft_addr,
               options.data_dir);
  {
    std::vector<std::jthread> pool;
    for (unsigned i = 1; i < threads; ++i) {
      pool.emplace_back([&io, i] {
        pthread_setname_np(pthread_self(),
                           ("io-" + std::to_string(i)).c_str());
        io.run();
      });
    }
    io.run();
  }  // Joins the pool.
  raft.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sider::app
