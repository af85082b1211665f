#include "server/cluster_bootstrap.h"

#include <algorithm>
#include <map>

namespace sider::server {

using Peer = consensus::RaftNode::Peer;

BootstrapDecision DecideBootstrap(const HelloInfo& self,
                                  const std::vector<HelloInfo>& reached,
                                  unsigned expect) {
  BootstrapDecision d;
  // Rules 1 and 2: someone already has state.
  for (const HelloInfo& h : reached) {
    if (!h.has_state || h.raft_id == self.raft_id) continue;
    const bool lists_us =
        std::any_of(h.servers.begin(), h.servers.end(), [&](const Peer& p) {
          return p.id == self.raft_id && p.address == self.raft_address;
        });
    if (lists_us && h.leader_address.empty()) {
      d.plan = BootstrapPlan::kBootstrap;
      d.peers = h.servers;
      d.reason = h.node + " bootstrapped a configuration that includes us";
      return d;
    }
    if (lists_us) {
      d.plan = BootstrapPlan::kStartEmpty;
      d.reason = h.node + " knows a leader whose configuration includes us";
      return d;
    }
  }
  for (const HelloInfo& h : reached) {
    if (h.has_state && h.raft_id != self.raft_id) {
      d.plan = BootstrapPlan::kJoin;
      d.reason = h.node + " belongs to an existing cluster";
      return d;
    }
  }
  // Rule 3: everyone is new.
  if (!self.voter || expect == 0) {
    d.reason = self.voter ? "no bootstrap-expect" : "a non-voter never bootstraps";
    return d;
  }
  std::map<uint64_t, const HelloInfo*> candidates;  // Sorted by raft id.
  candidates[self.raft_id] = &self;
  for (const HelloInfo& h : reached) {
    if (h.voter && h.bootstrap_expect == expect && h.raft_id != 0) {
      candidates.emplace(h.raft_id, &h);
    }
  }
  if (candidates.size() < expect) {
    d.reason = "know " + std::to_string(candidates.size()) + " of " +
               std::to_string(expect) + " expected servers";
    return d;
  }
  bool chosen = false;
  for (const auto& [id, h] : candidates) {
    if (d.peers.size() == expect) break;
    d.peers.push_back(Peer{id, h->raft_address, true});
    chosen = chosen || id == self.raft_id;
  }
  if (!chosen) {
    d.peers.clear();
    d.reason = "not among the " + std::to_string(expect) +
               " lowest ids; waiting to join them";
    return d;
  }
  d.plan = BootstrapPlan::kBootstrap;
  d.reason = "found " + std::to_string(expect) + " new servers";
  return d;
}

}  // namespace sider::server
