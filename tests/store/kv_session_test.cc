// Sessions in the KV store: create validation against the catalog, and
// invalidation (destroy, checks critical or gone, node gone) releasing or
// deleting exactly the session's keys.
#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"
#include "store/kv_store.h"

namespace sider::store {
namespace {

using structs::HealthStatus;
using structs::ReleasedLock;
using structs::SessionBehavior;
using testutil::KvLock;
using testutil::KvSet;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::MakeSession;
using testutil::Reg;

class KvSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(catalog_.Register(
        1, Reg("n1", MakeService("web"),
               {MakeCheck("serfHealth", HealthStatus::kPassing),
                MakeCheck("web-check", HealthStatus::kPassing, "web"),
                MakeCheck("sick", HealthStatus::kCritical)})).ok());
    ASSERT_TRUE(catalog_.Register(
        2, Reg("n2", std::nullopt,
               {MakeCheck("serfHealth", HealthStatus::kPassing)})).ok());
  }

  void Lock(uint64_t index, const std::string& key, const std::string& session) {
    Result<bool> r = kv_.Apply(index, KvLock(key, session, "v-" + key));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(*r);
  }

  // Re-validates n1's sessions the way the FSM does after a catalog write.
  std::vector<ReleasedLock> Revalidate(uint64_t index, const std::string& node = "n1") {
    return kv_.InvalidateNodeSessions(index, node, catalog_);
  }

  CatalogStore catalog_;
  KvStore kv_;
};

TEST_F(KvSessionTest, CreateStoresTheSessionWithItsIndexes) {
  auto s = MakeSession("s1", "n1", {"serfHealth"});
  s.service_checks = {{.id = "web-check", .ns = "default"}};
  s.ttl = "30s";
  s.lock_delay_ns = 5'000'000'000;
  ASSERT_TRUE(kv_.SessionCreate(10, s, catalog_).ok());
  auto got = kv_.SessionGet("s1", nullptr);
  ASSERT_TRUE(got.value.has_value());
  s.create_index = s.modify_index = 10;
  EXPECT_EQ(*got.value, s);
  EXPECT_EQ(got.index, 10u);
  EXPECT_EQ(kv_.SessionList(nullptr).value.size(), 1u);
  EXPECT_EQ(kv_.NodeSessions("n1", nullptr).value.size(), 1u);
  EXPECT_TRUE(kv_.NodeSessions("n2", nullptr).value.empty());
  EXPECT_EQ(kv_.SessionsIndex(), 10u);
}

TEST_F(KvSessionTest, CreateRefusesAnUnknownNode) {
  Status s = kv_.SessionCreate(10, MakeSession("s1", "ghost"), catalog_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "Missing node registration");
  EXPECT_TRUE(kv_.SessionList(nullptr).value.empty());
}

TEST_F(KvSessionTest, CreateRefusesMissingAndCriticalChecks) {
  Status s = kv_.SessionCreate(10, MakeSession("s1", "n1", {"nope"}), catalog_);
  EXPECT_EQ(s.message(), "Missing check 'nope' registration");
  s = kv_.SessionCreate(10, MakeSession("s1", "n1", {"sick"}), catalog_);
  EXPECT_EQ(s.message(), "Check 'sick' is in critical state");
  auto svc = MakeSession("s1", "n1");
  svc.service_checks = {{.id = "nope"}};
  EXPECT_EQ(kv_.SessionCreate(10, svc, catalog_).code(), Code::kInvalidArgument);
  EXPECT_TRUE(kv_.SessionList(nullptr).value.empty());
  EXPECT_EQ(kv_.SessionsIndex(), 0u);
}

TEST_F(KvSessionTest, CreateRefusesADuplicateId) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("s1", "n1"), catalog_).ok());
  EXPECT_EQ(kv_.SessionCreate(11, MakeSession("s1", "n2"), catalog_).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(kv_.SessionGet("s1", nullptr).value->node, "n1");
}

TEST_F(KvSessionTest, DestroyReleasesExactlyItsKeysAndFiresTheirWatches) {
  auto s1 = MakeSession("s1", "n1");
  s1.lock_delay_ns = 7;
  ASSERT_TRUE(kv_.SessionCreate(10, s1, catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(11, MakeSession("s2", "n1"), catalog_).ok());
  Lock(12, "a", "s1");
  Lock(13, "b", "s1");
  Lock(14, "c", "s2");
  ASSERT_TRUE(kv_.Apply(15, KvSet("d", "plain")).ok());
  WatchSet wa, wc, wsessions;
  (void)kv_.Get("a", &wa);
  (void)kv_.Get("c", &wc);
  (void)kv_.SessionList(&wsessions);

  auto released = kv_.SessionDestroy(20, "s1");
  EXPECT_EQ(released, (std::vector<ReleasedLock>{{"a", "s1", 7}, {"b", "s1", 7}}));
  auto a = *kv_.Get("a", nullptr).value;
  EXPECT_EQ(a.session, "");
  EXPECT_EQ(a.value, "v-a");
  EXPECT_EQ(a.lock_index, 1u);
  EXPECT_EQ(a.modify_index, 20u);
  EXPECT_EQ(kv_.Get("c", nullptr).value->session, "s2");
  EXPECT_EQ(kv_.Get("d", nullptr).value->modify_index, 15u);
  EXPECT_TRUE(wa.AnyFired());
  EXPECT_FALSE(wc.AnyFired());
  EXPECT_TRUE(wsessions.AnyFired());
  EXPECT_FALSE(kv_.SessionGet("s1", nullptr).value.has_value());
  EXPECT_EQ(kv_.SessionsIndex(), 20u);
  EXPECT_EQ(kv_.KvIndex(), 20u);
}

TEST_F(KvSessionTest, DeleteBehaviorDeletesExactlyItsKeys) {
  ASSERT_TRUE(kv_.SessionCreate(
      10, MakeSession("eph", "n1", {}, SessionBehavior::kDelete), catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(11, MakeSession("s2", "n1"), catalog_).ok());
  Lock(12, "svc/a", "eph");
  Lock(13, "svc/b", "s2");
  WatchSet prefix;
  (void)kv_.List("svc/", &prefix);
  auto released = kv_.SessionDestroy(20, "eph");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].key, "svc/a");
  EXPECT_FALSE(kv_.Get("svc/a", nullptr).value.has_value());
  EXPECT_TRUE(kv_.Get("svc/b", nullptr).value.has_value());
  EXPECT_TRUE(prefix.AnyFired());
  EXPECT_EQ(kv_.List("svc/", nullptr).index, 20u);
}

TEST_F(KvSessionTest, DestroyOfAnUnknownSessionChangesNothing) {
  EXPECT_TRUE(kv_.SessionDestroy(5, "ghost").empty());
  EXPECT_EQ(kv_.SessionsIndex(), 0u);
  EXPECT_EQ(kv_.MaxIndex(), 0u);
}

TEST_F(KvSessionTest, ReleasedKeysCanBeAcquiredByAnotherSession) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("s1", "n1"), catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(11, MakeSession("s2", "n1"), catalog_).ok());
  Lock(12, "l", "s1");
  (void)kv_.SessionDestroy(13, "s1");
  Lock(14, "l", "s2");
  EXPECT_EQ(kv_.Get("l", nullptr).value->lock_index, 2u);
  // The destroyed session cannot acquire any more.
  EXPECT_EQ(kv_.Apply(15, KvLock("m", "s1")).status().message(),
            "Invalid session \"s1\"");
}

TEST_F(KvSessionTest, CheckTurningCriticalInvalidatesItsSessionsOnly) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("on-serf", "n1", {"serfHealth"}),
                                catalog_).ok());
  auto web = MakeSession("on-web", "n1");
  web.service_checks = {{.id = "web-check"}};
  ASSERT_TRUE(kv_.SessionCreate(11, web, catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(12, MakeSession("other-node", "n2", {"serfHealth"}),
                                catalog_).ok());
  Lock(13, "a", "on-serf");
  Lock(14, "b", "on-web");
  Lock(15, "c", "other-node");
  // A passing -> warning update invalidates nothing.
  ASSERT_TRUE(catalog_.UpdateCheck(16, testutil::Update("n1", "web-check",
                                                        HealthStatus::kWarning)).ok());
  EXPECT_TRUE(Revalidate(16).empty());
  ASSERT_TRUE(catalog_.UpdateCheck(17, testutil::Update("n1", "web-check",
                                                        HealthStatus::kCritical)).ok());
  auto released = Revalidate(17);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].key, "b");
  EXPECT_FALSE(kv_.SessionGet("on-web", nullptr).value.has_value());
  EXPECT_TRUE(kv_.SessionGet("on-serf", nullptr).value.has_value());
  EXPECT_EQ(kv_.Get("a", nullptr).value->session, "on-serf");
  EXPECT_EQ(kv_.Get("b", nullptr).value->session, "");
  EXPECT_EQ(kv_.Get("c", nullptr).value->session, "other-node");
}

TEST_F(KvSessionTest, MaintenanceCountsAsCritical) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("s", "n1", {"serfHealth"}),
                                catalog_).ok());
  ASSERT_TRUE(catalog_.UpdateCheck(11, testutil::Update("n1", "serfHealth",
                                                        HealthStatus::kMaintenance)).ok());
  (void)Revalidate(11);
  EXPECT_FALSE(kv_.SessionGet("s", nullptr).value.has_value());
}

TEST_F(KvSessionTest, CheckDeregistrationInvalidatesItsSessions) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("s", "n1", {"serfHealth"}),
                                catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(11, MakeSession("free", "n1"), catalog_).ok());
  Lock(12, "k", "s");
  ASSERT_TRUE(catalog_.Deregister(13, testutil::Dereg("n1", "", "serfHealth")).ok());
  EXPECT_EQ(Revalidate(13).size(), 1u);
  EXPECT_FALSE(kv_.SessionGet("s", nullptr).value.has_value());
  EXPECT_TRUE(kv_.SessionGet("free", nullptr).value.has_value());
}

TEST_F(KvSessionTest, ServiceDeregistrationInvalidatesSessionsOnItsChecks) {
  auto web = MakeSession("s", "n1");
  web.service_checks = {{.id = "web-check"}};
  ASSERT_TRUE(kv_.SessionCreate(10, web, catalog_).ok());
  ASSERT_TRUE(catalog_.Deregister(11, testutil::Dereg("n1", "web")).ok());
  (void)Revalidate(11);
  EXPECT_FALSE(kv_.SessionGet("s", nullptr).value.has_value());
}

TEST_F(KvSessionTest, NodeDeregistrationInvalidatesAllItsSessions) {
  ASSERT_TRUE(kv_.SessionCreate(
      10, MakeSession("eph", "n1", {}, SessionBehavior::kDelete), catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(11, MakeSession("rel", "n1"), catalog_).ok());
  ASSERT_TRUE(kv_.SessionCreate(12, MakeSession("n2s", "n2"), catalog_).ok());
  Lock(13, "e", "eph");
  Lock(14, "r", "rel");
  Lock(15, "x", "n2s");
  ASSERT_TRUE(catalog_.Deregister(16, testutil::Dereg("n1")).ok());
  EXPECT_EQ(Revalidate(16).size(), 2u);
  EXPECT_FALSE(kv_.Get("e", nullptr).value.has_value());
  EXPECT_EQ(kv_.Get("r", nullptr).value->session, "");
  EXPECT_EQ(kv_.Get("x", nullptr).value->session, "n2s");
  EXPECT_TRUE(kv_.NodeSessions("n1", nullptr).value.empty());
  EXPECT_EQ(kv_.NodeSessions("n2", nullptr).value.size(), 1u);
}

TEST_F(KvSessionTest, HealthyCatalogWritesInvalidateNothing) {
  ASSERT_TRUE(kv_.SessionCreate(10, MakeSession("s", "n1", {"serfHealth"}),
                                catalog_).ok());
  Lock(11, "k", "s");
  ASSERT_TRUE(catalog_.Register(12, Reg("n1", MakeService("api"))).ok());
  EXPECT_TRUE(Revalidate(12).empty());
  EXPECT_EQ(kv_.SessionsIndex(), 10u);
  EXPECT_EQ(kv_.Get("k", nullptr).value->modify_index, 11u);
}

}  // namespace
}  // namespace sider::store
