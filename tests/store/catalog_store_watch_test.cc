// Index monotonicity and fine-grained watch firing.
#include <gtest/gtest.h>

#include <memory>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"

namespace sider::store {
namespace {

using structs::HealthStatus;
using testutil::Dereg;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::Reg;
using testutil::Update;

// The watch sets of every read, taken at one moment.
struct Reads {
  WatchSet web, db, nodes, node_n1, node_n2, services, checks;

  explicit Reads(const CatalogStore& s) {
    (void)s.CheckServiceNodes("", "web", {}, &web);
    (void)s.ServiceNodes("", "db", {}, &db);
    (void)s.Nodes(&nodes);
    (void)s.NodeServices("n1", "", &node_n1);
    (void)s.NodeChecks("n2", &node_n2);
    (void)s.Services("", &services);
    (void)s.ChecksInState(std::nullopt, &checks);
  }
};

class CatalogWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(s_.Register(1, Reg("n1", MakeService("web"),
                                   {MakeCheck("web-c", HealthStatus::kPassing, "web"),
                                    MakeCheck("n1-c", HealthStatus::kPassing)}))
                    .ok());
    ASSERT_TRUE(s_.Register(2, Reg("n2", MakeService("db"),
                                   {MakeCheck("db-c", HealthStatus::kPassing, "db"),
                                    MakeCheck("n2-c", HealthStatus::kPassing)}))
                    .ok());
  }
  CatalogStore s_;
};

TEST_F(CatalogWatchTest, ServiceCheckUpdateFiresOnlyThatServiceNodeAndChecks) {
  Reads r(s_);
  ASSERT_TRUE(s_.UpdateCheck(3, Update("n1", "web-c", HealthStatus::kCritical)).ok());
  EXPECT_TRUE(r.web.AnyFired());
  EXPECT_TRUE(r.node_n1.AnyFired());
  EXPECT_TRUE(r.checks.AnyFired());
  EXPECT_FALSE(r.db.AnyFired());
  EXPECT_FALSE(r.nodes.AnyFired());
  EXPECT_FALSE(r.node_n2.AnyFired());
  EXPECT_FALSE(r.services.AnyFired());
  EXPECT_EQ(s_.CheckServiceNodes("", "web", {}, nullptr).index, 3u);
  EXPECT_EQ(s_.ServiceNodes("", "db", {}, nullptr).index, 2u);
}

TEST_F(CatalogWatchTest, NodeCheckChangeFiresEveryServiceOnThatNode) {
  Reads r(s_);
  ASSERT_TRUE(s_.UpdateCheck(3, Update("n2", "n2-c", HealthStatus::kWarning)).ok());
  EXPECT_TRUE(r.db.AnyFired());
  EXPECT_TRUE(r.node_n2.AnyFired());
  EXPECT_FALSE(r.web.AnyFired());
  EXPECT_EQ(s_.ServiceNodes("", "db", {}, nullptr).index, 3u);
}

TEST_F(CatalogWatchTest, NodeRowChangeFiresNodesAndItsServices) {
  Reads r(s_);
  auto moved = Reg("n1", std::nullopt);
  moved.node.address = "10.1.1.1";
  ASSERT_TRUE(s_.Register(3, moved).ok());
  EXPECT_TRUE(r.nodes.AnyFired());
  EXPECT_TRUE(r.node_n1.AnyFired());
  EXPECT_TRUE(r.web.AnyFired());  // Its rows carry the node's address.
  EXPECT_FALSE(r.db.AnyFired());
  EXPECT_FALSE(r.checks.AnyFired());
  EXPECT_FALSE(r.services.AnyFired());
}

TEST_F(CatalogWatchTest, NewInstanceFiresServiceListAndThatService) {
  Reads r(s_);
  ASSERT_TRUE(s_.Register(3, Reg("n2", MakeService("web", "web-2"))).ok());
  EXPECT_TRUE(r.web.AnyFired());
  EXPECT_TRUE(r.services.AnyFired());
  EXPECT_FALSE(r.db.AnyFired());
  EXPECT_FALSE(r.nodes.AnyFired());
  EXPECT_FALSE(r.checks.AnyFired());
}

TEST_F(CatalogWatchTest, NoOpWriteFiresNothing) {
  Reads r(s_);
  ASSERT_TRUE(s_.Register(3, Reg("n1", MakeService("web"),
                                 {MakeCheck("web-c", HealthStatus::kPassing, "web")}))
                  .ok());
  ASSERT_TRUE(s_.UpdateCheck(4, Update("n1", "web-c", HealthStatus::kPassing)).ok());
  ASSERT_TRUE(s_.Deregister(5, Dereg("n1", "nope")).ok());
  for (WatchSet* ws : {&r.web, &r.db, &r.nodes, &r.node_n1, &r.node_n2,
                       &r.services, &r.checks}) {
    EXPECT_FALSE(ws->AnyFired());
  }
  EXPECT_EQ(s_.MaxIndex(), 2u);
}

TEST_F(CatalogWatchTest, DeregisterNodeFiresItsServicesAndTables) {
  Reads r(s_);
  ASSERT_TRUE(s_.Deregister(3, Dereg("n1")).ok());
  EXPECT_TRUE(r.web.AnyFired());
  EXPECT_TRUE(r.node_n1.AnyFired());
  EXPECT_TRUE(r.nodes.AnyFired());
  EXPECT_TRUE(r.services.AnyFired());
  EXPECT_TRUE(r.checks.AnyFired());
  EXPECT_FALSE(r.db.AnyFired());
  EXPECT_FALSE(r.node_n2.AnyFired());
}

TEST_F(CatalogWatchTest, ServiceIndexNeverGoesBackAcrossDeletes) {
  ASSERT_TRUE(s_.Deregister(3, Dereg("n1", "web")).ok());
  EXPECT_EQ(s_.ServiceNodes("", "web", {}, nullptr).index, 3u);
  ASSERT_TRUE(s_.Register(4, Reg("n2", MakeService("api"))).ok());
  ASSERT_TRUE(s_.Deregister(5, Dereg("n2", "api")).ok());
  // Gone, but its index stays where its last change left it.
  EXPECT_EQ(s_.ServiceNodes("", "web", {}, nullptr).index, 3u);
  EXPECT_EQ(s_.CheckServiceNodes("", "api", {}, nullptr).index, 5u);
  ASSERT_TRUE(s_.Deregister(6, Dereg("n2")).ok());
  EXPECT_EQ(s_.NodeServices("n2", "", nullptr).index, 6u);
  EXPECT_EQ(s_.NodeChecks("n2", nullptr).index, 6u);
  EXPECT_EQ(s_.Nodes(nullptr).index, 6u);
  EXPECT_EQ(s_.ChecksInState(std::nullopt, nullptr).index, 6u);
  EXPECT_EQ(s_.MaxIndex(), 6u);
}

TEST(CatalogIndexTest, ReadsOnAnEmptyStoreReturnIndexOne) {
  CatalogStore s;
  EXPECT_EQ(s.Nodes(nullptr).index, 1u);
  EXPECT_EQ(s.Services("", nullptr).index, 1u);
  EXPECT_EQ(s.ServiceNodes("", "web", {}, nullptr).index, 1u);
  EXPECT_EQ(s.CheckServiceNodes("", "web", {}, nullptr).index, 1u);
  EXPECT_EQ(s.ChecksInState(std::nullopt, nullptr).index, 1u);
  EXPECT_EQ(s.NodeServices("n1", "", nullptr).index, 1u);
  EXPECT_EQ(s.NodeChecks("n1", nullptr).index, 1u);
}

TEST(CatalogIndexTest, AServiceThatNeverExistedWakesWhenItIsCreated) {
  CatalogStore s;
  WatchSet ws;
  auto r = s.CheckServiceNodes("", "web", {}, &ws);
  EXPECT_TRUE(r.value.empty());
  ASSERT_TRUE(s.Register(4, Reg("n1", MakeService("web"))).ok());
  EXPECT_TRUE(ws.AnyFired());
  EXPECT_EQ(s.CheckServiceNodes("", "web", {}, nullptr).index, 4u);
}

TEST_F(CatalogWatchTest, WatchesFireAfterTheLockIsReleased) {
  WatchSet ws;
  (void)s_.CheckServiceNodes("", "web", {}, &ws);
  uint64_t seen = 0;
  // Reading the store from the callback would deadlock if Fire ran under
  // the writer lock.
  ws.OnAnyFire([&] { seen = s_.CheckServiceNodes("", "web", {}, nullptr).index; });
  ASSERT_TRUE(s_.UpdateCheck(3, Update("n1", "web-c", HealthStatus::kWarning)).ok());
  EXPECT_EQ(seen, 3u);
}

TEST_F(CatalogWatchTest, TenThousandParkedQueriesOnOneServiceWakeTogether) {
  constexpr int kWaiters = 10000;
  auto woken = std::make_shared<int>(0);
  std::vector<WatchSet> sets(kWaiters);
  for (WatchSet& ws : sets) {
    (void)s_.CheckServiceNodes("", "web", {}, &ws);
    ws.OnAnyFire([woken] { ++*woken; });
  }
  ASSERT_TRUE(s_.UpdateCheck(3, Update("n2", "db-c", HealthStatus::kWarning)).ok());
  EXPECT_EQ(*woken, 0);  // Another service's change wakes none of them.
  ASSERT_TRUE(s_.UpdateCheck(4, Update("n1", "web-c", HealthStatus::kWarning)).ok());
  EXPECT_EQ(*woken, kWaiters);
  // A fresh read gets a fresh, unfired watch.
  WatchSet again;
  (void)s_.CheckServiceNodes("", "web", {}, &again);
  EXPECT_FALSE(again.AnyFired());
}

TEST_F(CatalogWatchTest, RestoreFiresEveryWatch) {
  const std::string snap = s_.Snapshot();
  Reads r(s_);
  ASSERT_TRUE(s_.Restore(snap).ok());
  for (WatchSet* ws : {&r.web, &r.db, &r.nodes, &r.node_n1, &r.node_n2,
                       &r.services, &r.checks}) {
    EXPECT_TRUE(ws->AnyFired());
  }
  Reads after(s_);
  EXPECT_FALSE(after.web.AnyFired());
}

}  // namespace
}  // namespace sider::store

namespace sider::store {
namespace {

structs::RegisterCommand ProbeRegistration(const std::string& id,
                                           structs::CheckType type) {
  structs::RegisterCommand cmd;
  cmd.node.name = "n1";
  cmd.node.address = "10.0.0.1";
  structs::Service svc;
  svc.node = "n1";
  svc.id = id;
  svc.name = id;
  cmd.service = svc;
  structs::Check c;
  c.node = "n1";
  c.check_id = "service:" + id;
  c.service_id = id;
  c.type = type;
  cmd.checks.push_back(c);
  return cmd;
}

TEST(CatalogProbeWatchTest, FiresForProbeChecksOnlyAndListsThem) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, ProbeRegistration("web", structs::CheckType::kHttp)).ok());
  WatchSet ws;
  auto probes = s.ProbeChecksOnNode("n1", &ws);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].check_id, "service:web");

  // A TTL service on the same node: not a probe, no wake-up.
  ASSERT_TRUE(s.Register(2, ProbeRegistration("db", structs::CheckType::kTtl)).ok());
  EXPECT_FALSE(ws.AnyFired());

  // Another probe: wakes the node's agent.
  ASSERT_TRUE(s.Register(3, ProbeRegistration("api", structs::CheckType::kTcp)).ok());
  EXPECT_TRUE(ws.AnyFired());
  EXPECT_EQ(s.ProbeChecksOnNode("n1", nullptr).size(), 2u);

  // Deregistering the probed service removes its probe and wakes again.
  WatchSet ws2;
  s.ProbeChecksOnNode("n1", &ws2);
  structs::DeregisterCommand dereg;
  dereg.node = "n1";
  dereg.service_id = "web";
  ASSERT_TRUE(s.Deregister(4, dereg).ok());
  EXPECT_TRUE(ws2.AnyFired());
  EXPECT_EQ(s.ProbeChecksOnNode("n1", nullptr).size(), 1u);
}

TEST(CatalogCheckIndexTest, InstanceChecksAreItsOwnAndTheNodesAmongMany) {
  CatalogStore s;
  uint64_t index = 1;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(s.Register(index++, ProbeRegistration(
                                        "svc-" + std::to_string(i),
                                        structs::CheckType::kTtl))
                    .ok());
  }
  auto rows = s.CheckServiceNodes("default", "svc-1234", {}, nullptr).value;
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].checks.size(), 1u);
  EXPECT_EQ(rows[0].checks[0].check_id, "service:svc-1234");
  EXPECT_EQ(s.ServiceCheckIds("n1", "default", "svc-7"),
            std::vector<std::string>{"service:svc-7"});

  // The index survives a snapshot round trip.
  CatalogStore restored;
  ASSERT_TRUE(restored.Restore(s.Snapshot()).ok());
  EXPECT_EQ(restored.ServiceCheckIds("n1", "default", "svc-7"),
            std::vector<std::string>{"service:svc-7"});
  EXPECT_EQ(restored.ProbeChecksOnNode("n1", nullptr).size(), 0u);
}

}  // namespace
}  // namespace sider::store
