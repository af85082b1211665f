// DecideBootstrap: every member of a bootstrap-expect cluster computes the
// same configuration, and nobody bootstraps twice.
#include "server/cluster_bootstrap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace sider::server {
namespace {

using Peer = consensus::RaftNode::Peer;

HelloInfo Server(const std::string& name, unsigned expect = 3) {
  HelloInfo h;
  h.node = name;
  h.raft_id = consensus::RaftNode::IdFromName(name);
  h.raft_address = name + ":8300";
  h.http_address = name + ":8500";
  h.bootstrap_expect = expect;
  return h;
}

std::vector<HelloInfo> Others(const std::vector<HelloInfo>& all,
                              const HelloInfo& self) {
  std::vector<HelloInfo> out;
  for (const HelloInfo& h : all) {
    if (h.raft_id != self.raft_id) out.push_back(h);
  }
  return out;
}

TEST(DecideBootstrapTest, WaitsUntilItKnowsExpectServers) {
  const HelloInfo a = Server("a"), b = Server("b");
  BootstrapDecision d = DecideBootstrap(a, {b}, 3);
  EXPECT_EQ(d.plan, BootstrapPlan::kWait);
  EXPECT_NE(d.reason.find("2 of 3"), std::string::npos) << d.reason;
}

TEST(DecideBootstrapTest, AllMembersComputeTheSameSortedConfiguration) {
  std::vector<HelloInfo> all = {Server("a"), Server("b"), Server("c")};
  std::vector<Peer> first;
  std::mt19937 rng(7);
  for (const HelloInfo& self : all) {
    std::vector<HelloInfo> others = Others(all, self);
    std::shuffle(others.begin(), others.end(), rng);
    BootstrapDecision d = DecideBootstrap(self, others, 3);
    ASSERT_EQ(d.plan, BootstrapPlan::kBootstrap) << d.reason;
    ASSERT_EQ(d.peers.size(), 3u);
    EXPECT_TRUE(std::is_sorted(d.peers.begin(), d.peers.end(),
                               [](const Peer& x, const Peer& y) {
                                 return x.id < y.id;
                               }));
    for (const Peer& p : d.peers) EXPECT_TRUE(p.voter);
    if (first.empty()) first = d.peers;
    EXPECT_EQ(d.peers, first);
  }
}

TEST(DecideBootstrapTest, OnlyTheLowestIdsBootstrapWhenMoreServersShowUp) {
  std::vector<HelloInfo> all = {Server("a"), Server("b"), Server("c"),
                                Server("d")};
  std::vector<uint64_t> ids;
  for (const HelloInfo& h : all) ids.push_back(h.raft_id);
  std::sort(ids.begin(), ids.end());
  int bootstrapping = 0;
  for (const HelloInfo& self : all) {
    BootstrapDecision d = DecideBootstrap(self, Others(all, self), 3);
    if (self.raft_id == ids.back()) {
      EXPECT_EQ(d.plan, BootstrapPlan::kWait) << d.reason;
    } else {
      EXPECT_EQ(d.plan, BootstrapPlan::kBootstrap) << d.reason;
      bootstrapping++;
    }
  }
  EXPECT_EQ(bootstrapping, 3);
}

TEST(DecideBootstrapTest, IgnoresNonVotersAndOtherExpectations) {
  HelloInfo replica = Server("r");
  replica.voter = false;
  HelloInfo odd = Server("o", 5);
  EXPECT_EQ(DecideBootstrap(Server("a"), {Server("b"), replica, odd}, 3).plan,
            BootstrapPlan::kWait);
  // A non-voter never bootstraps, even when it could count to N.
  EXPECT_EQ(DecideBootstrap(replica, {Server("a"), Server("b"), Server("c")}, 3)
                .plan,
            BootstrapPlan::kWait);
}

TEST(DecideBootstrapTest, FollowsAPeerThatAlreadyBootstrappedUs) {
  const HelloInfo a = Server("a"), b = Server("b"), c = Server("c");
  HelloInfo booted = b;
  booted.has_state = true;
  booted.servers = {{a.raft_id, a.raft_address, true},
                    {b.raft_id, b.raft_address, true},
                    {c.raft_id, c.raft_address, true}};
  // No leader yet: bootstrap with exactly its configuration.
  BootstrapDecision d = DecideBootstrap(a, {booted}, 3);
  ASSERT_EQ(d.plan, BootstrapPlan::kBootstrap) << d.reason;
  EXPECT_EQ(d.peers, booted.servers);
  // A leader exists: start empty, it replicates to us.
  booted.leader_address = b.raft_address;
  EXPECT_EQ(DecideBootstrap(a, {booted}, 3).plan, BootstrapPlan::kStartEmpty);
}

TEST(DecideBootstrapTest, JoinsAClusterThatDoesNotListUs) {
  HelloInfo member = Server("b");
  member.has_state = true;
  member.servers = {{member.raft_id, member.raft_address, true}};
  member.leader_address = member.raft_address;
  EXPECT_EQ(DecideBootstrap(Server("z"), {member, Server("c")}, 3).plan,
            BootstrapPlan::kJoin);
  // Same address but another id (a renamed server) is not "us".
  HelloInfo self = Server("a");
  member.servers.push_back({self.raft_id + 1, self.raft_address, true});
  EXPECT_EQ(DecideBootstrap(self, {member}, 3).plan, BootstrapPlan::kJoin);
}

}  // namespace
}  // namespace sider::server
