// Register/deregister semantics, validation, reads, filters and order.
#include "store/catalog_store.h"

#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"

namespace sider::store {
namespace {

using structs::HealthStatus;
using testutil::Dereg;
using testutil::MakeCheck;
using testutil::MakeNode;
using testutil::MakeService;
using testutil::Reg;
using testutil::Update;

std::vector<std::string> InstanceIds(const std::vector<structs::ServiceNode>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.node.name + "/" + r.service.id);
  return out;
}

TEST(CatalogStoreTest, RegisterCreatesNodeServiceAndChecks) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(5, Reg("n1", MakeService("web", "web-1", {"v1"}),
                                {MakeCheck("svc", HealthStatus::kPassing, "web-1"),
                                 MakeCheck("serf", HealthStatus::kPassing)}))
                  .ok());
  auto nodes = s.Nodes(nullptr);
  ASSERT_EQ(nodes.value.size(), 1u);
  EXPECT_EQ(nodes.value[0].address, "10.0.0.1");
  EXPECT_EQ(nodes.value[0].create_index, 5u);
  EXPECT_EQ(nodes.index, 5u);

  auto svc = s.GetService("n1", "default", "web-1");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->node, "n1");
  EXPECT_EQ(svc->ns, "default");
  EXPECT_EQ(svc->create_index, 5u);
  EXPECT_EQ(svc->modify_index, 5u);

  auto check = s.GetCheck("n1", "svc");
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->service_name, "web");
  EXPECT_EQ(check->service_tags, std::vector<std::string>{"v1"});
  EXPECT_EQ(check->node, "n1");
  EXPECT_TRUE(s.GetCheck("n1", "serf")->service_name.empty());
  EXPECT_EQ(s.MaxIndex(), 5u);
}

TEST(CatalogStoreTest, ServiceIdDefaultsToName) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  EXPECT_TRUE(s.GetService("n1", "", "web").has_value());
}

TEST(CatalogStoreTest, CheckForUnknownServiceIsRejectedAndChangesNothing) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  const std::string before = s.Snapshot();
  Status st = s.Register(2, Reg("n1", MakeService("db"),
                                {MakeCheck("ok", HealthStatus::kPassing, "db"),
                                 MakeCheck("bad", HealthStatus::kPassing, "nope")}));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.Snapshot(), before);
  EXPECT_FALSE(s.GetService("n1", "", "db").has_value());
  EXPECT_EQ(s.MaxIndex(), 1u);
}

TEST(CatalogStoreTest, CheckMayNameAServiceAlreadyOnTheNode) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web", "", {"a"}))).ok());
  ASSERT_TRUE(
      s.Register(2, Reg("n1", std::nullopt, {MakeCheck("c", HealthStatus::kWarning, "web")}))
          .ok());
  EXPECT_EQ(s.GetCheck("n1", "c")->service_tags, std::vector<std::string>{"a"});
}

TEST(CatalogStoreTest, MissingNodeNameAddressOrServiceNameIsRejected) {
  CatalogStore s;
  auto no_name = Reg("", std::nullopt);
  EXPECT_EQ(s.Register(1, no_name).code(), Code::kInvalidArgument);
  auto no_addr = Reg("n1", std::nullopt);
  no_addr.node.address.clear();
  EXPECT_EQ(s.Register(1, no_addr).code(), Code::kInvalidArgument);
  EXPECT_EQ(s.Register(1, Reg("n1", MakeService(""))).code(), Code::kInvalidArgument);
  auto wrong_node = Reg("n1", std::nullopt, {MakeCheck("c", HealthStatus::kPassing)});
  wrong_node.checks[0].node = "n2";
  EXPECT_EQ(s.Register(1, wrong_node).code(), Code::kInvalidArgument);
  EXPECT_TRUE(s.Nodes(nullptr).value.empty());
  EXPECT_EQ(s.MaxIndex(), 0u);
}

TEST(CatalogStoreTest, UpdateKeepsCreateIndexAndSetsModifyIndex) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  auto changed = MakeService("web");
  changed.port = 9090;
  ASSERT_TRUE(s.Register(7, Reg("n1", changed)).ok());
  auto svc = s.GetService("n1", "", "web");
  EXPECT_EQ(svc->create_index, 1u);
  EXPECT_EQ(svc->modify_index, 7u);
  EXPECT_EQ(svc->port, 9090);
  // The node row did not change, so its indexes did not move.
  EXPECT_EQ(s.Nodes(nullptr).value[0].modify_index, 1u);
  EXPECT_EQ(s.Nodes(nullptr).index, 1u);
}

TEST(CatalogStoreTest, NoOpRegisterChangesNoIndex) {
  CatalogStore s;
  auto cmd = Reg("n1", MakeService("web"), {MakeCheck("c", HealthStatus::kPassing, "web")});
  ASSERT_TRUE(s.Register(1, cmd).ok());
  const std::string before = s.Snapshot();
  ASSERT_TRUE(s.Register(2, cmd).ok());
  EXPECT_EQ(s.Snapshot(), before);
  EXPECT_EQ(s.MaxIndex(), 1u);
  EXPECT_EQ(s.ServiceNodes("", "web", {}, nullptr).index, 1u);
}

TEST(CatalogStoreTest, SkipNodeUpdateLeavesAnExistingNodeAlone) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", std::nullopt)).ok());
  auto cmd = Reg("n1", MakeService("web"));
  cmd.node.address = "10.9.9.9";
  cmd.skip_node_update = true;
  ASSERT_TRUE(s.Register(2, cmd).ok());
  EXPECT_EQ(s.Nodes(nullptr).value[0].address, "10.0.0.1");
  EXPECT_TRUE(s.GetService("n1", "", "web").has_value());
}

TEST(CatalogStoreTest, DeregisterCheckRemovesOnlyThatCheck) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("a", HealthStatus::kPassing, "web"),
                                 MakeCheck("b", HealthStatus::kPassing, "web")}))
                  .ok());
  ASSERT_TRUE(s.Deregister(2, Dereg("n1", "", "a")).ok());
  EXPECT_FALSE(s.GetCheck("n1", "a").has_value());
  EXPECT_TRUE(s.GetCheck("n1", "b").has_value());
  EXPECT_TRUE(s.GetService("n1", "", "web").has_value());
}

TEST(CatalogStoreTest, DeregisterServiceRemovesItsChecksButNotNodeChecks) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("svc", HealthStatus::kPassing, "web"),
                                 MakeCheck("node", HealthStatus::kPassing)}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("db"),
                                {MakeCheck("dbc", HealthStatus::kPassing, "db")}))
                  .ok());
  ASSERT_TRUE(s.Deregister(3, Dereg("n1", "web")).ok());
  EXPECT_FALSE(s.GetService("n1", "", "web").has_value());
  EXPECT_FALSE(s.GetCheck("n1", "svc").has_value());
  EXPECT_TRUE(s.GetCheck("n1", "node").has_value());
  EXPECT_TRUE(s.GetCheck("n1", "dbc").has_value());
  EXPECT_TRUE(s.ServiceNodes("", "web", {}, nullptr).value.empty());
}

TEST(CatalogStoreTest, DeregisterNodeRemovesItsServicesAndChecks) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("svc", HealthStatus::kPassing, "web"),
                                 MakeCheck("node", HealthStatus::kPassing)}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n2", MakeService("web"))).ok());
  ASSERT_TRUE(s.Deregister(3, Dereg("n1")).ok());
  EXPECT_EQ(s.Nodes(nullptr).value.size(), 1u);
  EXPECT_TRUE(s.ChecksOnNode("n1").empty());
  EXPECT_TRUE(s.ServicesOnNode("n1").empty());
  EXPECT_EQ(InstanceIds(s.ServiceNodes("", "web", {}, nullptr).value),
            std::vector<std::string>{"n2/web"});
  EXPECT_TRUE(s.AllChecks().empty());
}

TEST(CatalogStoreTest, DeregisteringWhatIsGoneIsANoOp) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  EXPECT_TRUE(s.Deregister(2, Dereg("n9")).ok());
  EXPECT_TRUE(s.Deregister(3, Dereg("n1", "nope")).ok());
  EXPECT_TRUE(s.Deregister(4, Dereg("n1", "", "nope")).ok());
  EXPECT_EQ(s.MaxIndex(), 1u);
  EXPECT_EQ(s.Deregister(5, Dereg("")).code(), Code::kInvalidArgument);
}

TEST(CatalogStoreTest, UpdateCheckChangesStatusAndIgnoresAMissingCheck) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("c", HealthStatus::kPassing, "web")}))
                  .ok());
  ASSERT_TRUE(s.UpdateCheck(2, Update("n1", "c", HealthStatus::kCritical, "boom")).ok());
  auto c = s.GetCheck("n1", "c");
  EXPECT_EQ(c->status, HealthStatus::kCritical);
  EXPECT_EQ(c->output, "boom");
  EXPECT_EQ(c->create_index, 1u);
  EXPECT_EQ(c->modify_index, 2u);
  EXPECT_TRUE(s.UpdateCheck(3, Update("n1", "gone", HealthStatus::kPassing)).ok());
  EXPECT_TRUE(s.UpdateCheck(4, Update("n9", "c", HealthStatus::kPassing)).ok());
  EXPECT_EQ(s.MaxIndex(), 2u);
}

TEST(CatalogStoreTest, SetServiceEnabledTogglesAndRejectsUnknownInstance) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  structs::SetServiceEnabledCommand cmd{.node = "n1", .service_id = "web", .enabled = false};
  ASSERT_TRUE(s.SetServiceEnabled(2, cmd).ok());
  EXPECT_FALSE(s.GetService("n1", "", "web")->enabled);
  ServiceFilter passing;
  passing.passing_only = true;
  EXPECT_TRUE(s.CheckServiceNodes("", "web", passing, nullptr).value.empty());
  cmd.service_id = "nope";
  EXPECT_EQ(s.SetServiceEnabled(3, cmd).code(), Code::kNotFound);
  cmd.node = "n9";
  EXPECT_EQ(s.SetServiceEnabled(3, cmd).code(), Code::kNotFound);
}

TEST(CatalogStoreTest, ReregisteringWithNewTagsRefreshesTheServiceChecks) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web", "", {"v1"}),
                                {MakeCheck("c", HealthStatus::kPassing, "web")}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("web", "", {"v2"}))).ok());
  auto c = s.GetCheck("n1", "c");
  EXPECT_EQ(c->service_tags, std::vector<std::string>{"v2"});
  EXPECT_EQ(c->modify_index, 2u);
}

TEST(CatalogStoreTest, RenamingAnInstanceMovesItBetweenServices) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web", "x"))).ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("api", "x"))).ok());
  EXPECT_TRUE(s.ServiceNodes("", "web", {}, nullptr).value.empty());
  EXPECT_EQ(s.ServiceNodes("", "web", {}, nullptr).index, 2u);
  EXPECT_EQ(s.ServiceNodes("", "api", {}, nullptr).value.size(), 1u);
}

TEST(CatalogStoreTest, InstancesAreSortedByNodeThenId) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n2", MakeService("web", "b"))).ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("web", "b"))).ok());
  ASSERT_TRUE(s.Register(3, Reg("n2", MakeService("web", "a"))).ok());
  ASSERT_TRUE(s.Register(4, Reg("n10", MakeService("web", "z"))).ok());
  const std::vector<std::string> want{"n1/b", "n10/z", "n2/a", "n2/b"};
  EXPECT_EQ(InstanceIds(s.ServiceNodes("", "web", {}, nullptr).value), want);
  auto health = s.CheckServiceNodes("", "web", {}, nullptr).value;
  ASSERT_EQ(health.size(), 4u);
  EXPECT_EQ(health[1].node.name, "n10");
}

TEST(CatalogStoreTest, CheckServiceNodesListsNodeChecksFirst) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("a-svc", HealthStatus::kPassing, "web"),
                                 MakeCheck("z-node", HealthStatus::kWarning)}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("db"),
                                {MakeCheck("db-c", HealthStatus::kCritical, "db")}))
                  .ok());
  auto rows = s.CheckServiceNodes("", "web", {}, nullptr).value;
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].checks.size(), 2u);
  EXPECT_EQ(rows[0].checks[0].check_id, "z-node");
  EXPECT_EQ(rows[0].checks[1].check_id, "a-svc");
  EXPECT_EQ(structs::AggregateHealth(rows[0].service, rows[0].checks),
            HealthStatus::kWarning);
}

TEST(CatalogStoreTest, PassingOnlyKeepsInstancesWhoseChecksAllPass) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("c", HealthStatus::kPassing, "web")}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n2", MakeService("web"),
                                {MakeCheck("c", HealthStatus::kWarning, "web")}))
                  .ok());
  ASSERT_TRUE(s.Register(3, Reg("n3", MakeService("web"),
                                {MakeCheck("node", HealthStatus::kCritical)}))
                  .ok());
  ASSERT_TRUE(s.Register(4, Reg("n4", MakeService("web"),
                                {MakeCheck(std::string(structs::kNodeMaintenanceCheckId),
                                           HealthStatus::kMaintenance)}))
                  .ok());
  ServiceFilter f;
  f.passing_only = true;
  auto rows = s.CheckServiceNodes("", "web", f, nullptr).value;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].node.name, "n1");
  EXPECT_EQ(s.CheckServiceNodes("", "web", {}, nullptr).value.size(), 4u);
}

TEST(CatalogStoreTest, TagFilterRequiresEveryTagIgnoringCase) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web", "a", {"v1", "Primary"}))).ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", MakeService("web", "b", {"v1"}))).ok());
  ServiceFilter f;
  f.tags = {"v1", "primary"};
  EXPECT_EQ(InstanceIds(s.ServiceNodes("", "web", f, nullptr).value),
            std::vector<std::string>{"n1/a"});
  f.tags = {"v1"};
  EXPECT_EQ(s.CheckServiceNodes("", "web", f, nullptr).value.size(), 2u);
  f.tags = {"v2"};
  EXPECT_TRUE(s.ServiceNodes("", "web", f, nullptr).value.empty());
}

TEST(CatalogStoreTest, NodeMetaFilterRequiresEveryPair) {
  CatalogStore s;
  auto a = Reg("n1", MakeService("web"));
  a.node.meta = {{"rack", "r1"}, {"zone", "z1"}};
  auto b = Reg("n2", MakeService("web"));
  b.node.meta = {{"rack", "r1"}, {"zone", "z2"}};
  ASSERT_TRUE(s.Register(1, a).ok());
  ASSERT_TRUE(s.Register(2, b).ok());
  ServiceFilter f;
  f.node_meta = {{"rack", "r1"}};
  EXPECT_EQ(s.ServiceNodes("", "web", f, nullptr).value.size(), 2u);
  f.node_meta = {{"rack", "r1"}, {"zone", "z2"}};
  EXPECT_EQ(InstanceIds(s.ServiceNodes("", "web", f, nullptr).value),
            std::vector<std::string>{"n2/web"});
  f.node_meta = {{"missing", "x"}};
  EXPECT_TRUE(s.CheckServiceNodes("", "web", f, nullptr).value.empty());
}

TEST(CatalogStoreTest, ServicesListsNamesWithTheUnionOfTheirTags) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web", "a", {"v2", "x"}))).ok());
  ASSERT_TRUE(s.Register(2, Reg("n2", MakeService("web", "b", {"v1", "x"}))).ok());
  ASSERT_TRUE(s.Register(3, Reg("n2", MakeService("db"))).ok());
  ASSERT_TRUE(s.Register(4, Reg("n2", MakeService("gone"))).ok());
  ASSERT_TRUE(s.Deregister(5, Dereg("n2", "gone")).ok());
  auto services = s.Services("", nullptr);
  using Row = std::pair<std::string, std::vector<std::string>>;
  const std::vector<Row> want{{"db", {}}, {"web", {"v1", "v2", "x"}}};
  EXPECT_EQ(services.value, want);
  EXPECT_EQ(services.index, 5u);
}

TEST(CatalogStoreTest, HealthReadsFilterByStateAndNode) {
  CatalogStore s;
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"),
                                {MakeCheck("a", HealthStatus::kPassing, "web"),
                                 MakeCheck("b", HealthStatus::kCritical)}))
                  .ok());
  ASSERT_TRUE(s.Register(2, Reg("n2", MakeService("web"),
                                {MakeCheck("c", HealthStatus::kCritical, "web")}))
                  .ok());
  EXPECT_EQ(s.ChecksInState(HealthStatus::kCritical, nullptr).value.size(), 2u);
  EXPECT_EQ(s.ChecksInState(std::nullopt, nullptr).value.size(), 3u);
  EXPECT_EQ(s.NodeChecks("n1", nullptr).value.size(), 2u);
  auto svc_checks = s.ServiceChecks("", "web", nullptr).value;
  ASSERT_EQ(svc_checks.size(), 2u);  // Service checks only, by node.
  EXPECT_EQ(svc_checks[0].check_id, "a");
  EXPECT_EQ(svc_checks[1].check_id, "c");
  auto ns = s.NodeServices("n1", "", nullptr);
  ASSERT_TRUE(ns.value.has_value());
  EXPECT_EQ(ns.value->services.size(), 1u);
  EXPECT_FALSE(s.NodeServices("n9", "", nullptr).value.has_value());
}

TEST(CatalogStoreTest, NamespacesKeepServicesApart) {
  CatalogStore s;
  auto other = MakeService("web");
  other.ns = "team-b";
  ASSERT_TRUE(s.Register(1, Reg("n1", MakeService("web"))).ok());
  ASSERT_TRUE(s.Register(2, Reg("n1", other,
                                {MakeCheck("c", HealthStatus::kCritical, "web")}))
                  .ok());
  EXPECT_EQ(s.GetCheck("n1", "c")->ns, "team-b");
  EXPECT_EQ(s.ServiceNodes("team-b", "web", {}, nullptr).value.size(), 1u);
  ServiceFilter f;
  f.passing_only = true;
  EXPECT_EQ(s.CheckServiceNodes("default", "web", f, nullptr).value.size(), 1u);
  EXPECT_TRUE(s.CheckServiceNodes("team-b", "web", f, nullptr).value.empty());
}

}  // namespace
}  // namespace sider::store
