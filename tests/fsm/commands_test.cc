#include "fsm/commands.h"

#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"

namespace sider::fsm {
namespace {

using structs::HealthStatus;

TEST(CommandsTest, RegisterRoundTripsEveryField) {
  auto cmd = testutil::Reg("n1", testutil::MakeService("web", "web-1", {"a", "b"}),
                           {testutil::MakeCheck("c", HealthStatus::kWarning, "web-1")});
  cmd.node.meta = {{"k", "v"}};
  cmd.node.tagged_addresses = {{"lan", "10.0.0.1"}};
  cmd.service->weights = {.passing = 3, .warning = 2};
  cmd.service->enabled = false;
  cmd.service->meta = {{"m", "1"}};
  cmd.checks[0].type = structs::CheckType::kTcp;
  cmd.checks[0].definition.tcp = "localhost:80";
  cmd.checks[0].definition.args = {"/bin/true", "-x"};
  cmd.checks[0].definition.header = {{"H", {"1", "2"}}};
  cmd.checks[0].definition.deregister_critical_after_ns = -1;
  cmd.skip_node_update = true;
  auto got = DecodeRegister(EncodeRegister(cmd));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->node, cmd.node);
  EXPECT_EQ(got->service, cmd.service);
  EXPECT_EQ(got->checks, cmd.checks);
  EXPECT_TRUE(got->skip_node_update);
}

TEST(CommandsTest, RegisterWithoutServiceStaysWithoutService) {
  auto got = DecodeRegister(EncodeRegister(testutil::Reg("n1", std::nullopt)));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->service.has_value());
}

TEST(CommandsTest, OtherCommandsRoundTrip) {
  structs::DeregisterCommand d{.node = "n1", .ns = "x", .service_id = "s", .check_id = "c"};
  auto dg = DecodeDeregister(EncodeDeregister(d));
  ASSERT_TRUE(dg.ok());
  EXPECT_EQ(dg->node, "n1");
  EXPECT_EQ(dg->ns, "x");
  EXPECT_EQ(dg->service_id, "s");
  EXPECT_EQ(dg->check_id, "c");

  auto u = testutil::Update("n1", "c", HealthStatus::kMaintenance, "out");
  auto ug = DecodeUpdateCheck(EncodeUpdateCheck(u));
  ASSERT_TRUE(ug.ok());
  EXPECT_EQ(ug->status, HealthStatus::kMaintenance);
  EXPECT_EQ(ug->output, "out");

  structs::SetServiceEnabledCommand e{.node = "n1", .service_id = "s", .enabled = false};
  auto eg = DecodeSetServiceEnabled(EncodeSetServiceEnabled(e));
  ASSERT_TRUE(eg.ok());
  EXPECT_FALSE(eg->enabled);
  EXPECT_EQ(eg->ns, "default");
}

TEST(CommandsTest, EntriesCarryTheirAppendOnlyTypeNumbers) {
  EXPECT_EQ(DecodeEntry(EncodeRegister({}))->type, 1u);
  EXPECT_EQ(DecodeEntry(EncodeDeregister({}))->type, 2u);
  EXPECT_EQ(DecodeEntry(EncodeUpdateCheck({}))->type, 3u);
  EXPECT_EQ(DecodeEntry(EncodeSetServiceEnabled({}))->type, 4u);
}

TEST(CommandsTest, DecodingTheWrongTypeOrGarbageIsDataLoss) {
  EXPECT_EQ(DecodeRegister(EncodeDeregister({})).status().code(), Code::kDataLoss);
  EXPECT_EQ(DecodeEntry("\xff\xff\xff").status().code(), Code::kDataLoss);
}

TEST(CommandsTest, EncodingIsDeterministic) {
  auto cmd = testutil::Reg("n1", testutil::MakeService("web"));
  for (int i = 0; i < 20; ++i) {
    cmd.node.meta["k" + std::to_string(i)] = std::to_string(i);
  }
  EXPECT_EQ(EncodeRegister(cmd), EncodeRegister(cmd));
}

}  // namespace
}  // namespace sider::fsm
