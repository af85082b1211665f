// Command-line options of the `sider` binary and the server composition
// root that turns them into running modules.
//
// Thread safety: RunServer is called once from main() and blocks until
// SIGINT/SIGTERM; it owns every thread it starts and joins them all.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sider::app {

struct ServerOptions {
  std::string node_name;
  std::string data_dir = "./sider-data";
  std::string http_addr = "127.0.0.1:8500";
  std::string raft_addr = "127.0.0.1:8300";
  std::string datacenter = "dc1";
  std::string log_level = "info";
  bool bootstrap = false;
  unsigned io_threads = 0;  // 0: one per core.
  // Consul's session_ttl_min: the shortest session TTL accepted (10s).
  // Lowered only by tests that want sessions to expire quickly.
  std::chrono::nanoseconds session_ttl_min = std::chrono::seconds(10);
  // Cluster formation (docs/cluster.md): bootstrap together with N servers
  // found through `join` (HTTP addresses), or join an existing cluster.
  unsigned bootstrap_expect = 0;
  std::vector<std::string> join;
  bool non_voter = false;  // A standby: receives the log, never votes.
  // Follower default reads forwarded, as before read indexes (a fallback
  // switch and a benchmark baseline; docs/consistency.md).
  bool forward_reads = false;
  // Raft timing, tuned for fast failover on a LAN (docs/cluster.md).
  std::chrono::milliseconds raft_election_timeout{300};
  std::chrono::milliseconds raft_heartbeat_timeout{30};
  std::chrono::milliseconds raft_reconnect_delay{150};
  // A follower that finds the leader gone (its connection refused) starts
  // an election after rank x this, instead of waiting for its election
  // timer; 0 turns that off (docs/cluster.md).
  std::chrono::milliseconds raft_leader_loss_stagger{20};
  // Raft log compaction: take a snapshot every `threshold` entries and keep
  // `trailing` entries after it. Lower values are for tests only (a lagging
  // follower then catches up through a snapshot install).
  unsigned raft_snapshot_threshold = 16384;
  unsigned raft_snapshot_trailing = 8192;
  // Server failure detection (docs/cluster.md): every server reports to the
  // leader each `node_heartbeat_interval`; the leader marks a server's
  // checks critical when it has not heard from it for `node_ttl`.
  std::chrono::milliseconds node_ttl{5000};
  std::chrono::milliseconds node_heartbeat_interval{1000};
};

// Returns the process exit code.
int RunServer(const ServerOptions& options);

}  // namespace sider::app
