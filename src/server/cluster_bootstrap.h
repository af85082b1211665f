// Bootstrap decision for `sider server --bootstrap-expect=N`: a pure
// function from what this server and the servers it reached said in their
// hello replies to what it should do next. Kept free of I/O and time so
// every member can be shown to compute the same answer (unit-tested).
//
// The rule (docs/cluster.md):
//   1. A reached server with Raft state whose configuration already holds
//      this server: if that server knows no leader yet, it is a member
//      that bootstrapped a moment before us — bootstrap with ITS
//      configuration (the same list we would compute); if it knows a
//      leader, start empty and let the leader replicate to us.
//   2. Any other reached server with state: a cluster exists without us —
//      join it through the leader.
//   3. No server has state: the bootstrap candidates are this server and
//      the reached stateless servers that may vote and expect the same N.
//      Once there are at least N, the N with the lowest raft ids bootstrap
//      together, each with that same sorted list; a server not among them
//      waits (it joins once they have state). Non-voters never bootstrap.
//   4. Otherwise wait and ask again.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/raft_node.h"

namespace sider::server {

// One server's answer to GET /v1/internal/cluster/hello.
struct HelloInfo {
  std::string node;
  std::string node_id;  // Catalog node UUID.
  uint64_t raft_id = 0;
  std::string raft_address;
  std::string http_address;
  std::string datacenter;
  bool has_state = false;
  bool voter = true;  // false: started with --non-voter.
  unsigned bootstrap_expect = 0;
  std::string leader_address;       // Raft; "" if none known.
  std::string leader_http_address;  // "" if none known.
  std::vector<consensus::RaftNode::Peer> servers;  // Its configuration.
};

enum class BootstrapPlan {
  kWait,       // Ask again later.
  kBootstrap,  // raft bootstrap with `peers`, then start.
  kStartEmpty, // Start without configuration; a leader already lists us.
  kJoin,       // Start without configuration and ask the leader to add us.
};

struct BootstrapDecision {
  BootstrapPlan plan = BootstrapPlan::kWait;
  std::vector<consensus::RaftNode::Peer> peers;  // kBootstrap.
  std::string reason;                            // For the log.
};

BootstrapDecision DecideBootstrap(const HelloInfo& self,
                                  const std::vector<HelloInfo>& reached,
                                  unsigned expect);

}  // namespace sider::server
