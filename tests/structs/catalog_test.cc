#include "structs/catalog.h"

#include <gtest/gtest.h>

namespace sider::structs {
namespace {

Check MakeCheck(std::string id, HealthStatus status, std::string service_id = "") {
  Check c;
  c.node = "n1";
  c.check_id = std::move(id);
  c.status = status;
  c.service_id = std::move(service_id);
  return c;
}

Service Web() {
  Service s;
  s.node = "n1";
  s.id = "web-1";
  s.name = "web";
  return s;
}

TEST(AggregateHealthTest, NoChecksIsPassing) {
  EXPECT_EQ(AggregateHealth(Web(), {}), HealthStatus::kPassing);
}

TEST(AggregateHealthTest, WorstOfServiceAndNodeChecks) {
  EXPECT_EQ(AggregateHealth(Web(), {MakeCheck("a", HealthStatus::kPassing, "web-1"),
                                    MakeCheck("node", HealthStatus::kWarning)}),
            HealthStatus::kWarning);
  EXPECT_EQ(AggregateHealth(Web(), {MakeCheck("a", HealthStatus::kCritical, "web-1"),
                                    MakeCheck("node", HealthStatus::kWarning)}),
            HealthStatus::kCritical);
}

TEST(AggregateHealthTest, IgnoresOtherInstancesChecks) {
  EXPECT_EQ(AggregateHealth(Web(), {MakeCheck("b", HealthStatus::kCritical, "web-2")}),
            HealthStatus::kPassing);
  Check elsewhere = MakeCheck("node", HealthStatus::kCritical);
  elsewhere.node = "n2";
  EXPECT_EQ(AggregateHealth(Web(), {elsewhere}), HealthStatus::kPassing);
}

TEST(AggregateHealthTest, MaintenanceCountsAsCritical) {
  EXPECT_EQ(AggregateHealth(Web(), {MakeCheck(std::string(kNodeMaintenanceCheckId),
                                              HealthStatus::kMaintenance)}),
            HealthStatus::kCritical);
}

TEST(AggregateHealthTest, DisabledInstanceIsCriticalEvenWhenChecksPass) {
  Service s = Web();
  s.enabled = false;
  EXPECT_EQ(AggregateHealth(s, {MakeCheck("a", HealthStatus::kPassing, "web-1")}),
            HealthStatus::kCritical);
  EXPECT_EQ(AggregateHealth(s, {}), HealthStatus::kCritical);
}

TEST(HealthStatusTest, NamesRoundTrip) {
  for (auto s : {HealthStatus::kPassing, HealthStatus::kWarning,
                 HealthStatus::kCritical, HealthStatus::kMaintenance}) {
    EXPECT_EQ(ParseHealthStatus(HealthStatusName(s)), s);
  }
  EXPECT_EQ(ParseHealthStatus("any"), std::nullopt);
  EXPECT_EQ(ParseHealthStatus("Passing"), std::nullopt);
}

TEST(CheckTypeTest, NamesMatchConsul) {
  EXPECT_EQ(CheckTypeName(CheckType::kNone), "");
  EXPECT_EQ(CheckTypeName(CheckType::kTtl), "ttl");
  EXPECT_EQ(CheckTypeName(CheckType::kHttp), "http");
  EXPECT_EQ(CheckTypeName(CheckType::kTcp), "tcp");
  EXPECT_EQ(CheckTypeName(CheckType::kCmd), "script");
  EXPECT_EQ(CheckTypeName(CheckType::kGrpc), "grpc");
  EXPECT_EQ(CheckTypeName(CheckType::kAlias), "alias");
}

}  // namespace
}  // namespace sider::structs
