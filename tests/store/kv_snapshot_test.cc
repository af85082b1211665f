// KvStore snapshots: round trip, indexes kept exactly, corruption refused.
#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"
#include "store/kv_store.h"

namespace sider::store {
namespace {

using testutil::KvDelete;
using testutil::KvLock;
using testutil::KvSet;

// A store with keys, a tombstone, a reaped floor and held locks.
void Fill(CatalogStore& catalog, KvStore& kv) {
  ASSERT_TRUE(catalog.Register(1, testutil::Reg("n1", std::nullopt)).ok());
  auto eph = testutil::MakeSession("eph", "n1", {},
                                   structs::SessionBehavior::kDelete);
  ASSERT_TRUE(kv.SessionCreate(2, eph, catalog).ok());
  ASSERT_TRUE(kv.SessionCreate(3, testutil::MakeSession("rel", "n1"), catalog).ok());
  ASSERT_TRUE(kv.Apply(4, KvSet("a/1", std::string("bin\0ary", 7), 9)).ok());
  ASSERT_TRUE(kv.Apply(5, KvSet("a/2", "x")).ok());
  ASSERT_TRUE(kv.Apply(6, KvDelete("a/2")).ok());
  ASSERT_TRUE(kv.Apply(7, KvSet("old", "x")).ok());
  ASSERT_TRUE(kv.Apply(8, KvDelete("old")).ok());
  kv.ReapTombstones(9, 8);
  ASSERT_TRUE(kv.Apply(10, KvSet("b/1", "x")).ok());
  ASSERT_TRUE(kv.Apply(11, KvDelete("b/1")).ok());
  ASSERT_TRUE(kv.Apply(12, KvLock("lock/e", "eph")).ok());
  ASSERT_TRUE(kv.Apply(13, KvLock("lock/r", "rel")).ok());
}

TEST(KvSnapshotTest, RoundTripIsByteIdenticalAndKeepsEveryIndex) {
  CatalogStore catalog;
  KvStore a, b;
  Fill(catalog, a);
  const std::string snap = a.Snapshot();
  ASSERT_TRUE(b.Restore(snap).ok());
  EXPECT_EQ(b.Snapshot(), snap);
  EXPECT_EQ(b.KvIndex(), a.KvIndex());
  EXPECT_EQ(b.SessionsIndex(), a.SessionsIndex());
  EXPECT_EQ(b.MaxIndex(), 13u);
  EXPECT_EQ(b.List("a/", nullptr).index, a.List("a/", nullptr).index);
  EXPECT_EQ(b.List("b/", nullptr).index, 11u);
  EXPECT_EQ(b.List("", nullptr).value, a.List("", nullptr).value);
  EXPECT_EQ(b.SessionList(nullptr).value, a.SessionList(nullptr).value);
  EXPECT_EQ(b.TombstoneCount(), a.TombstoneCount());
}

TEST(KvSnapshotTest, RestoredStoreKeepsSessionKeyLinks) {
  CatalogStore catalog;
  KvStore a, b;
  Fill(catalog, a);
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  auto released = b.SessionDestroy(20, "eph");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_FALSE(b.Get("lock/e", nullptr).value.has_value());
  EXPECT_EQ(b.NodeSessions("n1", nullptr).value.size(), 1u);
}

TEST(KvSnapshotTest, RestoreFiresEveryWatch) {
  CatalogStore catalog;
  KvStore kv;
  Fill(catalog, kv);
  WatchSet key, prefix, sessions;
  (void)kv.Get("zzz", &key);
  (void)kv.List("q/", &prefix);
  (void)kv.SessionList(&sessions);
  ASSERT_TRUE(kv.Restore(kv.Snapshot()).ok());
  EXPECT_TRUE(key.AnyFired());
  EXPECT_TRUE(prefix.AnyFired());
  EXPECT_TRUE(sessions.AnyFired());
}

TEST(KvSnapshotTest, CorruptSnapshotIsDataLossAndChangesNothing) {
  CatalogStore catalog;
  KvStore a, b;
  Fill(catalog, a);
  const std::string good = a.Snapshot();
  ASSERT_TRUE(b.Apply(1, KvSet("keep", "me")).ok());
  const std::string before = b.Snapshot();
  for (size_t pos = 0; pos < good.size(); pos += 13) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    EXPECT_EQ(b.Restore(bad).code(), Code::kDataLoss) << "byte " << pos;
  }
  EXPECT_EQ(b.Restore(good.substr(0, good.size() - 1)).code(), Code::kDataLoss);
  EXPECT_EQ(b.Restore(catalog.Snapshot()).code(), Code::kDataLoss);
  EXPECT_EQ(b.Snapshot(), before);
}

TEST(KvSnapshotTest, EmptyStoreRoundTrips) {
  KvStore a, b;
  ASSERT_TRUE(b.Restore(a.Snapshot()).ok());
  EXPECT_EQ(b.Snapshot(), a.Snapshot());
  EXPECT_EQ(b.Get("x", nullptr).index, 1u);
}

}  // namespace
}  // namespace sider::store
