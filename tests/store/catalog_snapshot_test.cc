// Snapshot round trip, index preservation and corruption handling.
#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"

namespace sider::store {
namespace {

using structs::HealthStatus;
using testutil::Dereg;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::Reg;

void Populate(CatalogStore& s) {
  auto web = Reg("n1", MakeService("web", "web-1", {"v1", "primary"}),
                 {MakeCheck("web-c", HealthStatus::kPassing, "web-1"),
                  MakeCheck("serf", HealthStatus::kPassing)});
  web.node.meta = {{"rack", "r1"}, {"os", "linux"}, {"az", "a"}};
  web.service->meta = {{"version", "1.2"}, {"build", "x"}};
  web.checks[0].definition.http = "http://localhost:8080/health";
  web.checks[0].definition.header = {{"X-A", {"1", "2"}}, {"X-B", {"3"}}};
  web.checks[0].definition.interval_ns = 10'000'000'000;
  web.checks[0].type = structs::CheckType::kHttp;
  ASSERT_TRUE(s.Register(3, web).ok());
  ASSERT_TRUE(s.Register(4, Reg("n2", MakeService("db"),
                                {MakeCheck("db-c", HealthStatus::kWarning, "db")}))
                  .ok());
  ASSERT_TRUE(s.Register(5, Reg("n2", MakeService("tmp"))).ok());
  ASSERT_TRUE(s.Deregister(6, Dereg("n2", "tmp")).ok());
}

TEST(CatalogSnapshotTest, RoundTripIsByteIdenticalAndKeepsEveryRow) {
  CatalogStore a;
  Populate(a);
  const std::string snap = a.Snapshot();
  CatalogStore b;
  ASSERT_TRUE(b.Restore(snap).ok());
  EXPECT_EQ(b.Snapshot(), snap);
  EXPECT_EQ(b.AllChecks(), a.AllChecks());
  EXPECT_EQ(b.ServicesOnNode("n1"), a.ServicesOnNode("n1"));
  EXPECT_EQ(b.Nodes(nullptr).value, a.Nodes(nullptr).value);
  EXPECT_EQ(b.MaxIndex(), 6u);
}

TEST(CatalogSnapshotTest, RestoreKeepsEveryIndexIncludingDeletedServices) {
  CatalogStore a;
  Populate(a);
  CatalogStore b;
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  EXPECT_EQ(b.ServiceNodes("", "tmp", {}, nullptr).index, 6u);
  EXPECT_EQ(b.ServiceNodes("", "web", {}, nullptr).index, 3u);
  EXPECT_EQ(b.CheckServiceNodes("", "db", {}, nullptr).index, 4u);
  EXPECT_EQ(b.NodeServices("n2", "", nullptr).index, 6u);
  EXPECT_EQ(b.Services("", nullptr).index, 6u);
  EXPECT_EQ(b.ChecksInState(std::nullopt, nullptr).index, 4u);
  EXPECT_EQ(b.Nodes(nullptr).index, 4u);
  // Writes after a restore continue from there.
  ASSERT_TRUE(b.Register(7, Reg("n3", MakeService("web", "web-3"))).ok());
  EXPECT_EQ(b.ServiceNodes("", "web", {}, nullptr).index, 7u);
  EXPECT_EQ(b.GetService("n1", "", "web-1")->create_index, 3u);
}

TEST(CatalogSnapshotTest, EmptyStoreRoundTrips) {
  CatalogStore a;
  CatalogStore b;
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  EXPECT_EQ(b.Snapshot(), a.Snapshot());
}

TEST(CatalogSnapshotTest, EncodingDoesNotDependOnInsertionOrder) {
  CatalogStore a;
  CatalogStore b;
  auto r1 = Reg("n1", MakeService("web"));
  r1.node.meta = {{"a", "1"}, {"b", "2"}};
  auto r2 = Reg("n2", MakeService("web"));
  ASSERT_TRUE(a.Register(1, r1).ok());
  ASSERT_TRUE(a.Register(2, r2).ok());
  ASSERT_TRUE(b.Register(1, r1).ok());
  ASSERT_TRUE(b.Register(2, r2).ok());
  EXPECT_EQ(a.Snapshot(), b.Snapshot());
}

TEST(CatalogSnapshotTest, CorruptSnapshotIsRefusedAndChangesNothing) {
  CatalogStore src;
  Populate(src);
  const std::string good = src.Snapshot();

  CatalogStore dst;
  ASSERT_TRUE(dst.Register(1, Reg("other", MakeService("x"))).ok());
  const std::string before = dst.Snapshot();

  std::vector<std::string> bad;
  for (size_t pos : {size_t{0}, size_t{5}, size_t{10}, size_t{17}, size_t{25},
                     good.size() / 2, good.size() - 1}) {
    std::string b = good;
    b[pos] = static_cast<char>(b[pos] ^ 0x40);
    bad.push_back(b);
  }
  bad.push_back(good.substr(0, good.size() - 1));
  bad.push_back(good.substr(0, 10));
  bad.push_back(good + "x");
  bad.push_back("");
  for (const std::string& b : bad) {
    Status st = dst.Restore(b);
    EXPECT_EQ(st.code(), Code::kDataLoss) << st.message();
    EXPECT_EQ(dst.Snapshot(), before);
  }
}

}  // namespace
}  // namespace sider::store
