// The FSM over the KV store: KV / session / txn entries, session
// invalidation inside catalog applies, the released-locks observer,
// determinism, snapshots and the state hash.
#include <gtest/gtest.h>

#include "fsm/commands.pb.h"
#include "fsm/fsm.h"
#include "store/catalog_fixtures.h"
#include "store/catalog_proto.h"
#include "store/snapshot_frame.h"
#include "store/kv_fixtures.h"

namespace sider::fsm {
namespace {

using structs::HealthStatus;
using structs::ReleasedLock;
using structs::SessionBehavior;
using structs::TxnKvVerb;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::MakeSession;
using testutil::Op;
using testutil::Reg;

struct Replica {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm{catalog, kv};
};

std::string Create(structs::Session s) { return EncodeSessionCreate({std::move(s)}); }

// A log exercising every KV, session and txn command, interleaved with
// catalog writes that invalidate sessions.
std::vector<std::string> SampleKvLog() {
  std::vector<std::string> log;
  log.push_back(EncodeRegister(Reg("n1", MakeService("web"),
                                   {MakeCheck("serfHealth", HealthStatus::kPassing),
                                    MakeCheck("web-c", HealthStatus::kPassing, "web")})));
  log.push_back(EncodeRegister(Reg("n2", std::nullopt,
                                   {MakeCheck("serfHealth", HealthStatus::kPassing)})));
  log.push_back(Create(MakeSession("s1", "n1", {"serfHealth"})));
  log.push_back(Create(MakeSession("s2", "n2", {"serfHealth"}, SessionBehavior::kDelete)));
  auto web = MakeSession("s3", "n1");
  web.service_checks = {{.id = "web-c"}};
  log.push_back(Create(web));
  log.push_back(Create(MakeSession("bad", "ghost")));  // Rejected.
  for (int i = 0; i < 10; ++i) {
    log.push_back(EncodeKv(testutil::KvSet("k/" + std::to_string(i), "v", i)));
  }
  log.push_back(EncodeKv(testutil::KvLock("lock/1", "s1", "a")));
  log.push_back(EncodeKv(testutil::KvLock("lock/2", "s2", "b")));
  log.push_back(EncodeKv(testutil::KvLock("lock/3", "s3", "c")));
  log.push_back(EncodeKv(testutil::KvLock("lock/1", "s2", "lost")));
  log.push_back(EncodeKv(testutil::KvCas("k/1", "cas", 8)));
  log.push_back(EncodeKv(testutil::KvDelete("k/2")));
  log.push_back(EncodeKv(testutil::KvDeleteCas("k/3", 1)));
  log.push_back(EncodeTxn({{Op(TxnKvVerb::kSet, "t/a", "1"),
                            Op(TxnKvVerb::kCheckSession, "lock/1", "", 0, "s1")}}));
  log.push_back(EncodeTxn({{Op(TxnKvVerb::kSet, "t/b", "1"),
                            Op(TxnKvVerb::kCheckNotExists, "t/a")}}));  // Fails.
  log.push_back(EncodeUpdateCheck(testutil::Update("n1", "web-c", HealthStatus::kCritical)));
  log.push_back(EncodeKv(testutil::KvDeleteTree("k/")));
  log.push_back(EncodeDeregister(testutil::Dereg("n2")));
  log.push_back(EncodeKvReapTombstones(30));
  log.push_back(EncodeSessionDestroy({"s1"}));
  log.push_back(EncodeKv(testutil::KvSet("after", "x")));
  return log;
}

void ApplyAll(Fsm& fsm, const std::vector<std::string>& log, uint64_t first = 1) {
  for (size_t i = 0; i < log.size(); ++i) (void)fsm.Apply(first + i, log[i]);
}

TEST(FsmKvTest, KvPutAnswersTrueOrFalse) {
  Replica r;
  ApplyResult a = r.fsm.Apply(1, EncodeKv(testutil::KvCas("k", "1", 0)));
  EXPECT_TRUE(a.status.ok());
  EXPECT_EQ(a.payload, "true");
  a = r.fsm.Apply(2, EncodeKv(testutil::KvCas("k", "2", 0)));
  EXPECT_EQ(a.payload, "false");
  a = r.fsm.Apply(3, EncodeKv(testutil::KvDelete("k")));
  EXPECT_EQ(a.payload, "true");
  a = r.fsm.Apply(4, EncodeKv(testutil::KvSet("/bad", "x")));
  EXPECT_EQ(a.status.code(), Code::kInvalidArgument);
  EXPECT_EQ(a.payload, "");
}

TEST(FsmKvTest, TxnPayloadDecodesToResultsOrErrors) {
  Replica r;
  ApplyResult a = r.fsm.Apply(
      1, EncodeTxn({{Op(TxnKvVerb::kSet, "a", "1"), Op(TxnKvVerb::kGet, "a")}}));
  ASSERT_TRUE(a.status.ok());
  auto res = DecodeTxnResult(a.payload);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->results.size(), 2u);
  EXPECT_EQ(res->results[1].value, "1");
  EXPECT_TRUE(res->errors.empty());

  a = r.fsm.Apply(2, EncodeTxn({{Op(TxnKvVerb::kCheckNotExists, "a")}}));
  res = DecodeTxnResult(a.payload);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->results.empty());
  EXPECT_EQ(res->errors, (std::vector<structs::TxnError>{{0, "key \"a\" exists"}}));

  std::vector<structs::TxnKvOp> ops(65, Op(TxnKvVerb::kGet, "a"));
  a = r.fsm.Apply(3, EncodeTxn({ops}));
  EXPECT_EQ(a.status.code(), Code::kTooLarge);
}

TEST(FsmKvTest, SessionCreateIsCheckedAgainstTheCatalog) {
  Replica r;
  EXPECT_EQ(r.fsm.Apply(1, Create(MakeSession("s", "n1"))).status.message(),
            "Missing node registration");
  ASSERT_TRUE(r.fsm.Apply(2, EncodeRegister(Reg("n1", std::nullopt))).status.ok());
  EXPECT_TRUE(r.fsm.Apply(3, Create(MakeSession("s", "n1"))).status.ok());
  EXPECT_TRUE(r.kv.SessionGet("s", nullptr).value.has_value());
}

TEST(FsmKvTest, CheckGoingCriticalReleasesLocksInTheSameApply) {
  Replica r;
  std::vector<std::pair<uint64_t, std::vector<ReleasedLock>>> seen;
  r.fsm.SetReleasedLocksObserver(
      [&](uint64_t idx, const std::vector<ReleasedLock>& rel) { seen.emplace_back(idx, rel); });
  ASSERT_TRUE(r.fsm.Apply(1, EncodeRegister(Reg("n1", std::nullopt,
                                                {MakeCheck("serfHealth", HealthStatus::kPassing)})))
                  .status.ok());
  auto s = MakeSession("s", "n1", {"serfHealth"});
  s.lock_delay_ns = 15'000'000'000;
  ASSERT_TRUE(r.fsm.Apply(2, Create(s)).status.ok());
  ASSERT_EQ(r.fsm.Apply(3, EncodeKv(testutil::KvLock("leader", "s", "me"))).payload, "true");
  store::WatchSet ws;
  (void)r.kv.Get("leader", &ws);
  EXPECT_TRUE(seen.empty());

  ASSERT_TRUE(r.fsm.Apply(4, EncodeUpdateCheck(testutil::Update(
                                 "n1", "serfHealth", HealthStatus::kCritical)))
                  .status.ok());
  auto e = *r.kv.Get("leader", nullptr).value;
  EXPECT_EQ(e.session, "");
  EXPECT_EQ(e.modify_index, 4u);
  EXPECT_TRUE(ws.AnyFired());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, 4u);
  EXPECT_EQ(seen[0].second,
            (std::vector<ReleasedLock>{{"leader", "s", 15'000'000'000}}));
}

TEST(FsmKvTest, NodeDeregistrationDeletesEphemeralKeys) {
  Replica r;
  std::vector<ReleasedLock> seen;
  r.fsm.SetReleasedLocksObserver(
      [&](uint64_t, const std::vector<ReleasedLock>& rel) { seen = rel; });
  ASSERT_TRUE(r.fsm.Apply(1, EncodeRegister(Reg("n1", std::nullopt))).status.ok());
  ASSERT_TRUE(r.fsm.Apply(2, Create(MakeSession("e", "n1", {}, SessionBehavior::kDelete)))
                  .status.ok());
  ASSERT_EQ(r.fsm.Apply(3, EncodeKv(testutil::KvLock("svc/e", "e"))).payload, "true");
  ASSERT_TRUE(r.fsm.Apply(4, EncodeDeregister(testutil::Dereg("n1"))).status.ok());
  EXPECT_FALSE(r.kv.Get("svc/e", nullptr).value.has_value());
  EXPECT_EQ(r.kv.List("svc/", nullptr).index, 4u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].key, "svc/e");
}

TEST(FsmKvTest, SessionDestroyReportsReleasedLocks) {
  Replica r;
  uint64_t seen_at = 0;
  r.fsm.SetReleasedLocksObserver(
      [&](uint64_t idx, const std::vector<ReleasedLock>&) { seen_at = idx; });
  ASSERT_TRUE(r.fsm.Apply(1, EncodeRegister(Reg("n1", std::nullopt))).status.ok());
  ASSERT_TRUE(r.fsm.Apply(2, Create(MakeSession("s", "n1"))).status.ok());
  ASSERT_TRUE(r.fsm.Apply(3, EncodeSessionDestroy({"s"})).status.ok());
  EXPECT_EQ(seen_at, 0u);  // Nothing held: not called.
  ASSERT_TRUE(r.fsm.Apply(4, Create(MakeSession("t", "n1"))).status.ok());
  ASSERT_EQ(r.fsm.Apply(5, EncodeKv(testutil::KvLock("k", "t"))).payload, "true");
  ASSERT_TRUE(r.fsm.Apply(6, EncodeSessionDestroy({"t"})).status.ok());
  EXPECT_EQ(seen_at, 6u);
  EXPECT_TRUE(r.fsm.Apply(7, EncodeSessionDestroy({"unknown"})).status.ok());
}

TEST(FsmKvTest, TwoReplicasFedOneKvLogEndByteIdentical) {
  const auto log = SampleKvLog();
  Replica a, b;
  ApplyAll(a.fsm, log);
  ApplyAll(b.fsm, log);
  EXPECT_EQ(a.fsm.Snapshot(), b.fsm.Snapshot());
  EXPECT_EQ(a.fsm.StateHash(), b.fsm.StateHash());
  // The log did what it says: s3 (web-c critical) and s2 (n2 gone) are
  // invalidated, s1 destroyed; s2's key deleted, s3's released.
  EXPECT_TRUE(a.kv.SessionList(nullptr).value.empty());
  EXPECT_FALSE(a.kv.Get("lock/2", nullptr).value.has_value());
  EXPECT_EQ(a.kv.Get("lock/3", nullptr).value->session, "");
  EXPECT_EQ(a.kv.Get("lock/1", nullptr).value->value, "a");
  EXPECT_TRUE(a.kv.Get("t/a", nullptr).value.has_value());
  EXPECT_FALSE(a.kv.Get("t/b", nullptr).value.has_value());
  EXPECT_TRUE(a.kv.List("k/", nullptr).value.empty());
}

TEST(FsmKvTest, StateHashTracksTheState) {
  Replica a;
  const uint64_t empty = a.fsm.StateHash();
  ASSERT_TRUE(a.fsm.Apply(1, EncodeKv(testutil::KvSet("k", "v"))).status.ok());
  EXPECT_NE(a.fsm.StateHash(), empty);
  Replica b;
  EXPECT_EQ(b.fsm.StateHash(), empty);
}

TEST(FsmKvTest, SnapshotRoundTripCoversKvAndSessions) {
  const auto log = SampleKvLog();
  const size_t half = 20;  // Sessions and locks exist, invalidations not yet.
  Replica a, b;
  ApplyAll(a.fsm, std::vector<std::string>(log.begin(), log.begin() + half));
  ASSERT_FALSE(a.kv.SessionList(nullptr).value.empty());
  const std::string snap = a.fsm.Snapshot();
  ASSERT_TRUE(b.fsm.Restore(snap).ok());
  EXPECT_EQ(b.fsm.Snapshot(), snap);
  EXPECT_EQ(b.kv.SessionList(nullptr).value, a.kv.SessionList(nullptr).value);
  EXPECT_EQ(b.kv.List("", nullptr).value, a.kv.List("", nullptr).value);
  // Restored mid-log, the replica catches up byte-identical (invalidations
  // included).
  ApplyAll(a.fsm, std::vector<std::string>(log.begin() + half, log.end()), half + 1);
  ApplyAll(b.fsm, std::vector<std::string>(log.begin() + half, log.end()), half + 1);
  EXPECT_EQ(a.fsm.Snapshot(), b.fsm.Snapshot());
}

TEST(FsmKvTest, RestoreKeepsKvIndexes) {
  Replica a, b;
  ASSERT_TRUE(a.fsm.Apply(5, EncodeKv(testutil::KvSet("p/1", "v"))).status.ok());
  ASSERT_TRUE(a.fsm.Apply(6, EncodeKv(testutil::KvSet("p/2", "v"))).status.ok());
  ASSERT_TRUE(a.fsm.Apply(7, EncodeKv(testutil::KvDelete("p/2"))).status.ok());
  ASSERT_TRUE(b.fsm.Restore(a.fsm.Snapshot()).ok());
  EXPECT_EQ(b.kv.List("p/", nullptr).index, 7u);
  EXPECT_EQ(b.kv.KvIndex(), 7u);
  ASSERT_TRUE(b.fsm.Apply(8, EncodeKv(testutil::KvSet("p/3", "v"))).status.ok());
  EXPECT_EQ(b.kv.List("p/", nullptr).index, 8u);
}

TEST(FsmKvTest, CorruptKvPartChangesNeitherStore) {
  Replica a, b;
  ApplyAll(a.fsm, SampleKvLog());
  ASSERT_TRUE(b.fsm.Apply(1, EncodeRegister(Reg("keep", std::nullopt))).status.ok());
  const std::string before = b.fsm.Snapshot();
  std::string bad = a.fsm.Snapshot();
  bad[bad.size() - 3] ^= 0x01;  // Inside the kv part (serialized last).
  EXPECT_EQ(b.fsm.Restore(bad).code(), Code::kDataLoss);
  EXPECT_EQ(b.fsm.Snapshot(), before);
}

TEST(FsmKvTest, VersionOneSnapshotRestoresWithAnEmptyKvStore) {
  Replica a, b;
  ASSERT_TRUE(a.fsm.Apply(1, EncodeRegister(Reg("n1", std::nullopt))).status.ok());
  pb::FsmSnapshot v1;
  v1.set_catalog(a.catalog.Snapshot());
  const std::string bytes =
      store::FrameSnapshot("SFSM", 1, store::SerializeDeterministic(v1));
  ASSERT_TRUE(b.fsm.Apply(1, EncodeKv(testutil::KvSet("gone", "x"))).status.ok());
  ASSERT_TRUE(b.fsm.Restore(bytes).ok());
  EXPECT_TRUE(b.catalog.HasNode("n1"));
  EXPECT_FALSE(b.kv.Get("gone", nullptr).value.has_value());
  EXPECT_EQ(b.fsm.Snapshot(), a.fsm.Snapshot());
}

}  // namespace
}  // namespace sider::fsm
