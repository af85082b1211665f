// Whole-state restore through the log (kRestore): determinism, indexes
// after a restore (never backwards, even from an archive taken further
// ahead), watches, and refusal of a corrupt payload.
#include <gtest/gtest.h>

#include "fsm/commands.h"
#include "fsm/commands.pb.h"
#include "fsm/fsm.h"
#include "store/catalog_fixtures.h"
#include "store/kv_fixtures.h"

namespace sider::fsm {
namespace {

using structs::HealthStatus;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::MakeSession;
using testutil::Reg;

struct Replica {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm{catalog, kv};
};

// Applies a small mixed log at first, first+1, ...; returns the next index.
uint64_t Populate(Fsm& fsm, uint64_t first, const std::string& tag) {
  std::vector<std::string> log;
  log.push_back(EncodeRegister(
      Reg("n1", MakeService("web", "web-" + tag),
          {MakeCheck("serfHealth", HealthStatus::kPassing)})));
  log.push_back(EncodeRegister(Reg("n2", MakeService("db"))));
  log.push_back(EncodeSessionCreate({MakeSession("s-" + tag, "n1", {"serfHealth"})}));
  log.push_back(EncodeKv(testutil::KvSet("app/" + tag, "v1")));
  log.push_back(EncodeKv(testutil::KvSet("app/x", tag)));
  log.push_back(EncodeKv(testutil::KvLock("lock", "s-" + tag, tag)));
  log.push_back(EncodeKv(testutil::KvSet("gone", "v")));
  log.push_back(EncodeKv(testutil::KvDelete("gone")));
  for (const std::string& e : log) {
    EXPECT_TRUE(fsm.Apply(first, e).status.ok()) << "at " << first;
    ++first;
  }
  return first;
}

// Every index a reader can be told, for one replica.
std::vector<uint64_t> ReadIndexes(Replica& r) {
  return {r.catalog.Nodes(nullptr).index,
          r.catalog.Services("", nullptr).index,
          r.catalog.ServiceNodes("", "web", {}, nullptr).index,
          r.catalog.ServiceNodes("", "never", {}, nullptr).index,
          r.catalog.CheckServiceNodes("", "db", {}, nullptr).index,
          r.catalog.NodeServices("n1", "", nullptr).index,
          r.catalog.NodeServices("ghost", "", nullptr).index,
          r.catalog.ChecksInState(std::nullopt, nullptr).index,
          r.catalog.NodeChecks("n1", nullptr).index,
          r.catalog.MaxIndex(),
          r.kv.Get("app/x", nullptr).index,
          r.kv.Get("missing", nullptr).index,
          r.kv.List("app/", nullptr).index,
          r.kv.List("", nullptr).index,
          r.kv.Keys("app/", "/", nullptr).index,
          r.kv.SessionList(nullptr).index,
          r.kv.MaxIndex()};
}

TEST(FsmRestoreTest, TwoReplicasApplyingOneRestoreEndByteIdentical) {
  Replica source, a, b;
  Populate(source.fsm, 1, "src");
  const std::string entry = *EncodeRestore(source.fsm.Snapshot());
  // Different histories before the restore, same log position after.
  Populate(a.fsm, 1, "a");
  (void)b.fsm.Apply(1, EncodeKv(testutil::KvSet("only-b", "x")));
  ASSERT_TRUE(a.fsm.Apply(40, entry).status.ok());
  ASSERT_TRUE(b.fsm.Apply(40, entry).status.ok());
  EXPECT_EQ(a.fsm.Snapshot(), b.fsm.Snapshot());
  EXPECT_EQ(a.fsm.StateHash(), b.fsm.StateHash());
  EXPECT_FALSE(b.kv.Get("only-b", nullptr).value.has_value());
  EXPECT_EQ(b.kv.Get("app/x", nullptr).value->value, "src");
  // And they stay identical afterwards.
  const std::string next = EncodeKv(testutil::KvSet("after", "1"));
  (void)a.fsm.Apply(41, next);
  (void)b.fsm.Apply(41, next);
  EXPECT_EQ(a.fsm.Snapshot(), b.fsm.Snapshot());
}

TEST(FsmRestoreTest, ReadsAfterARestoreReportAtLeastItsIndex) {
  Replica source, target;
  Populate(source.fsm, 1, "src");  // Indexes 1..8.
  Populate(target.fsm, 100, "t");  // Indexes 100..107, above the archive's.
  const std::vector<uint64_t> before = ReadIndexes(target);
  ASSERT_TRUE(
      target.fsm.Apply(108, *EncodeRestore(source.fsm.Snapshot())).status.ok());
  const std::vector<uint64_t> after = ReadIndexes(target);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i], 108u) << "read #" << i;
    EXPECT_GT(after[i], before[i]) << "read #" << i;
  }
  // The restored rows keep their own indexes (CAS with them still works).
  auto x = target.kv.Get("app/x", nullptr).value;
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(x->modify_index, 5u);
  auto cas = testutil::KvCas("app/x", "cas", 5);
  ApplyResult r = target.fsm.Apply(109, EncodeKv(cas));
  EXPECT_EQ(r.payload, "true");
  EXPECT_EQ(target.kv.Get("app/x", nullptr).index, 109u);
  EXPECT_EQ(target.kv.List("app/", nullptr).index, 109u);
}

TEST(FsmRestoreTest, AnArchiveFromFurtherAheadIsLoweredToTheRestoreIndex) {
  Replica source, target;
  Populate(source.fsm, 5000, "src");
  Populate(target.fsm, 1, "t");
  ASSERT_TRUE(
      target.fsm.Apply(20, *EncodeRestore(source.fsm.Snapshot())).status.ok());
  for (uint64_t i : ReadIndexes(target)) EXPECT_EQ(i, 20u);
  auto x = target.kv.Get("app/x", nullptr).value;
  ASSERT_TRUE(x.has_value());
  EXPECT_LE(x->modify_index, 20u);
  EXPECT_LE(x->create_index, 20u);
  auto svc = target.catalog.GetService("n1", "", "web-src");
  ASSERT_TRUE(svc.has_value());
  EXPECT_LE(svc->modify_index, 20u);
  // The next write moves every index it touches forward, past the restore.
  ASSERT_TRUE(target.fsm.Apply(21, EncodeKv(testutil::KvSet("app/x", "new")))
                  .status.ok());
  EXPECT_EQ(target.kv.Get("app/x", nullptr).index, 21u);
  EXPECT_EQ(target.kv.Get("app/x", nullptr).value->modify_index, 21u);
  ASSERT_TRUE(target.fsm.Apply(22, EncodeRegister(Reg("n3", MakeService("web"))))
                  .status.ok());
  EXPECT_EQ(target.catalog.ServiceNodes("", "web", {}, nullptr).index, 22u);
}

TEST(FsmRestoreTest, TheIndexFloorSurvivesASnapshotRoundTrip) {
  Replica source, target, follower;
  Populate(source.fsm, 1, "src");
  ASSERT_TRUE(
      target.fsm.Apply(50, *EncodeRestore(source.fsm.Snapshot())).status.ok());
  // A follower catching up from a Raft snapshot taken after the restore.
  ASSERT_TRUE(follower.fsm.Restore(target.fsm.Snapshot()).ok());
  EXPECT_EQ(follower.fsm.Snapshot(), target.fsm.Snapshot());
  for (uint64_t i : ReadIndexes(follower)) EXPECT_EQ(i, 50u);
}

TEST(FsmRestoreTest, ARestoreWakesEveryWatch) {
  Replica source, target;
  Populate(source.fsm, 1, "src");
  Populate(target.fsm, 1, "t");
  store::WatchSet key, prefix, service, nodes, sessions;
  (void)target.kv.Get("app/t", &key);
  (void)target.kv.List("app/", &prefix);
  (void)target.catalog.CheckServiceNodes("", "web", {}, &service);
  (void)target.catalog.Nodes(&nodes);
  (void)target.kv.SessionList(&sessions);
  ASSERT_TRUE(
      target.fsm.Apply(9, *EncodeRestore(source.fsm.Snapshot())).status.ok());
  for (auto* ws : {&key, &prefix, &service, &nodes, &sessions}) {
    EXPECT_TRUE(ws->AnyFired());
  }
}

TEST(FsmRestoreTest, ACorruptPayloadIsRefusedAndChangesNothing) {
  Replica source, target;
  Populate(source.fsm, 1, "src");
  Populate(target.fsm, 1, "t");
  const std::string good = source.fsm.Snapshot();
  const std::string before = target.fsm.Snapshot();
  store::WatchSet ws;
  (void)target.kv.Get("app/t", &ws);
  uint64_t index = 9;
  for (size_t pos = 0; pos < good.size(); pos += 41) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    ApplyResult r = target.fsm.Apply(index++, *EncodeRestore(bad));
    EXPECT_EQ(r.status.code(), Code::kDataLoss) << "byte " << pos;
  }
  ApplyResult r = target.fsm.Apply(
      index++, *EncodeRestore(good.substr(0, good.size() - 1)));
  EXPECT_EQ(r.status.code(), Code::kDataLoss);
  EXPECT_EQ(target.fsm.Apply(index++, *EncodeRestore("")).status.code(),
            Code::kDataLoss);
  EXPECT_EQ(target.fsm.Snapshot(), before);
  EXPECT_FALSE(ws.AnyFired());
}

TEST(FsmRestoreTest, InspectCountsRowsAndRefusesCorruption) {
  Replica source;
  Populate(source.fsm, 1, "src");
  const std::string snap = source.fsm.Snapshot();
  auto s = Fsm::Inspect(snap);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->nodes, 2u);
  EXPECT_EQ(s->services, 2u);
  EXPECT_EQ(s->checks, 1u);
  EXPECT_EQ(s->kv_entries, 3u);  // app/src, app/x, lock
  EXPECT_EQ(s->tombstones, 1u);  // gone
  EXPECT_EQ(s->sessions, 1u);
  EXPECT_EQ(Fsm::Inspect(snap.substr(0, 10)).status().code(), Code::kDataLoss);
}

TEST(FsmRestoreTest, RestoreEntryRoundTripsItsPayload) {
  const std::string snap = "not really a snapshot\0with a nul";
  auto e = DecodeEntry(*EncodeRestore(snap));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, static_cast<uint32_t>(MessageType::kRestore));
  auto p = DecodeRestorePayload(e->payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, snap);
}

TEST(FsmRestoreTest, RestoreEntryCarriesTheStateCompressed) {
  std::string snap;
  for (int i = 0; i < 20000; i++) {
    snap += "service web-" + std::to_string(i) + " on node n1, tags v1 ";
  }
  Result<std::string> entry = EncodeRestore(snap);
  ASSERT_TRUE(entry.ok()) << entry.status().message();
  EXPECT_LT(entry->size(), snap.size() / 4);
  auto e = DecodeEntry(*entry);
  ASSERT_TRUE(e.ok());
  auto p = DecodeRestorePayload(e->payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, snap);
}

TEST(FsmRestoreTest, EntriesOfOlderVersionsCarryTheStateAsIs) {
  pb::Restore msg;
  msg.set_snapshot("an uncompressed state");
  auto p = DecodeRestorePayload(msg.SerializeAsString());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "an uncompressed state");
}

TEST(FsmRestoreTest, StateThatDoesNotCompressUnderTheEntryLimitIsRefused) {
  // Random bytes do not compress.
  std::string snap(kMaxRestoreEntryBytes + 1024, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : snap) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  EXPECT_EQ(EncodeRestore(snap).status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace sider::fsm
