#include "fsm/fsm.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "fsm/commands.pb.h"
#include "store/catalog_fixtures.h"

namespace sider::fsm {
namespace {

using structs::HealthStatus;
using testutil::Dereg;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::Reg;
using testutil::Update;

// A log exercising every command type, including a rejected one.
std::vector<std::string> SampleLog() {
  std::vector<std::string> log;
  for (int i = 0; i < 20; ++i) {
    const std::string node = "n" + std::to_string(i % 5);
    auto reg = Reg(node, MakeService("svc" + std::to_string(i % 3),
                                     "id" + std::to_string(i), {"t" + std::to_string(i)}),
                   {MakeCheck("c" + std::to_string(i), HealthStatus::kPassing,
                              "id" + std::to_string(i)),
                    MakeCheck("node-" + node, HealthStatus::kPassing)});
    reg.node.meta = {{"i", std::to_string(i)}, {"zone", "z" + std::to_string(i % 2)}};
    log.push_back(EncodeRegister(reg));
  }
  log.push_back(EncodeRegister(
      Reg("n1", std::nullopt, {MakeCheck("x", HealthStatus::kPassing, "missing")})));
  log.push_back(EncodeUpdateCheck(Update("n2", "c7", HealthStatus::kCritical, "down")));
  log.push_back(EncodeSetServiceEnabled({.node = "n3", .service_id = "id8", .enabled = false}));
  log.push_back(EncodeDeregister(Dereg("n4", "id9")));
  log.push_back(EncodeDeregister(Dereg("n0", "", "c5")));
  log.push_back(EncodeDeregister(Dereg("n1")));
  log.push_back(EncodeUpdateCheck(Update("n1", "c1", HealthStatus::kWarning)));  // gone
  return log;
}

// Death tests read the child's stderr; the default spdlog logger writes to
// stdout.
void LogToStderr() {
  spdlog::set_default_logger(spdlog::stderr_logger_st("fsm-death-test"));
}

void ApplyAll(Fsm& fsm, const std::vector<std::string>& log, uint64_t first = 1) {
  for (size_t i = 0; i < log.size(); ++i) (void)fsm.Apply(first + i, log[i]);
}

TEST(FsmTest, ApplyRegisterWritesTheCatalog) {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm(catalog, kv);
  ApplyResult r = fsm.Apply(10, EncodeRegister(Reg("n1", MakeService("web"))));
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(catalog.GetService("n1", "", "web").has_value());
  EXPECT_EQ(catalog.MaxIndex(), 10u);
}

TEST(FsmTest, ApplyReturnsTheStoresRejection) {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm(catalog, kv);
  ApplyResult r = fsm.Apply(
      1, EncodeRegister(Reg("n1", std::nullopt,
                            {MakeCheck("c", HealthStatus::kPassing, "nope")})));
  EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
  EXPECT_TRUE(catalog.Nodes(nullptr).value.empty());
  r = fsm.Apply(2, EncodeSetServiceEnabled({.node = "n1", .service_id = "web"}));
  EXPECT_EQ(r.status.code(), Code::kNotFound);
}

TEST(FsmTest, TwoReplicasFedOneLogEndByteIdentical) {
  const auto log = SampleLog();
  store::CatalogStore a_store, b_store;
  store::KvStore a_kv, b_kv;
  Fsm a(a_store, a_kv), b(b_store, b_kv);
  ApplyAll(a, log);
  ApplyAll(b, log);
  EXPECT_EQ(a.Snapshot(), b.Snapshot());
  EXPECT_EQ(a_store.AllChecks(), b_store.AllChecks());
  EXPECT_FALSE(a_store.GetService("n3", "", "id8")->enabled);
}

TEST(FsmTest, SnapshotRestoreRoundTripsByteIdentical) {
  store::CatalogStore a_store, b_store;
  store::KvStore a_kv, b_kv;
  Fsm a(a_store, a_kv), b(b_store, b_kv);
  ApplyAll(a, SampleLog());
  const std::string snap = a.Snapshot();
  ASSERT_TRUE(b.Restore(snap).ok());
  EXPECT_EQ(b.Snapshot(), snap);
  EXPECT_EQ(b_store.Nodes(nullptr).value, a_store.Nodes(nullptr).value);
}

TEST(FsmTest, ReplicaRestoredMidLogCatchesUpByteIdentical) {
  const auto log = SampleLog();
  const size_t half = log.size() / 2;
  store::CatalogStore a_store, b_store;
  store::KvStore a_kv, b_kv;
  Fsm a(a_store, a_kv), b(b_store, b_kv);
  ApplyAll(a, std::vector<std::string>(log.begin(), log.begin() + half));
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  ApplyAll(a, std::vector<std::string>(log.begin() + half, log.end()), half + 1);
  ApplyAll(b, std::vector<std::string>(log.begin() + half, log.end()), half + 1);
  EXPECT_EQ(a.Snapshot(), b.Snapshot());
}

TEST(FsmTest, IndexesSurviveRestoreAndKeepGrowing) {
  store::CatalogStore a_store, b_store;
  store::KvStore a_kv, b_kv;
  Fsm a(a_store, a_kv), b(b_store, b_kv);
  ASSERT_TRUE(a.Apply(5, EncodeRegister(Reg("n1", MakeService("web")))).status.ok());
  ASSERT_TRUE(a.Apply(6, EncodeDeregister(Dereg("n1", "web"))).status.ok());
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  EXPECT_EQ(b_store.ServiceNodes("", "web", {}, nullptr).index, 6u);
  ASSERT_TRUE(b.Apply(7, EncodeRegister(Reg("n2", MakeService("web")))).status.ok());
  EXPECT_EQ(b_store.ServiceNodes("", "web", {}, nullptr).index, 7u);
}

TEST(FsmTest, CorruptSnapshotIsDataLossAndChangesNothing) {
  store::CatalogStore a_store, b_store;
  store::KvStore a_kv, b_kv;
  Fsm a(a_store, a_kv), b(b_store, b_kv);
  ApplyAll(a, SampleLog());
  const std::string good = a.Snapshot();
  ASSERT_TRUE(b.Apply(1, EncodeRegister(Reg("keep", MakeService("me")))).status.ok());
  const std::string before = b.Snapshot();
  for (size_t pos = 0; pos < good.size(); pos += 37) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
    EXPECT_EQ(b.Restore(bad).code(), Code::kDataLoss) << "byte " << pos;
  }
  EXPECT_EQ(b.Restore(good.substr(0, good.size() / 2)).code(), Code::kDataLoss);
  EXPECT_EQ(b.Restore(a_store.Snapshot()).code(), Code::kDataLoss);  // Not an FSM one.
  EXPECT_EQ(b.Snapshot(), before);
}

TEST(FsmTest, RestoreFiresWatches) {
  store::CatalogStore store;
  store::KvStore kv;
  Fsm fsm(store, kv);
  ASSERT_TRUE(fsm.Apply(1, EncodeRegister(Reg("n1", MakeService("web")))).status.ok());
  store::WatchSet ws;
  (void)store.CheckServiceNodes("", "web", {}, &ws);
  ASSERT_TRUE(fsm.Restore(fsm.Snapshot()).ok());
  EXPECT_TRUE(ws.AnyFired());
}

TEST(FsmDeathTest, UndecodableEntryAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  store::CatalogStore store;
  store::KvStore kv;
  Fsm fsm(store, kv);
  EXPECT_DEATH(
      {
        LogToStderr();
        (void)fsm.Apply(1, "\xff\xff\xff\xff");
      },
      "cannot apply log entry 1");
}

TEST(FsmDeathTest, UnknownMessageTypeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  store::CatalogStore store;
  store::KvStore kv;
  Fsm fsm(store, kv);
  pb::Envelope env;
  env.set_type(999);
  EXPECT_DEATH(
      {
        LogToStderr();
        (void)fsm.Apply(2, env.SerializeAsString());
      },
      "unknown message type 999");
}

TEST(FsmDeathTest, MalformedPayloadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  store::CatalogStore store;
  store::KvStore kv;
  Fsm fsm(store, kv);
  pb::Envelope env;
  env.set_type(static_cast<uint32_t>(MessageType::kRegister));
  env.set_payload("\xff\xff\xff");
  EXPECT_DEATH(
      {
        LogToStderr();
        (void)fsm.Apply(3, env.SerializeAsString());
      },
      "cannot apply log entry 3");
}

}  // namespace
}  // namespace sider::fsm
