#include "store/kv_store.h"

#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"

namespace sider::store {
namespace {

using testutil::KvCas;
using testutil::KvDelete;
using testutil::KvDeleteCas;
using testutil::KvDeleteTree;
using testutil::KvLock;
using testutil::KvSet;
using testutil::KvUnlock;

// Applies `cmd`, expecting the store to accept it; returns true/false.
bool Put(KvStore& kv, uint64_t index, const structs::KvCommand& cmd) {
  Result<bool> r = kv.Apply(index, cmd);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() && *r;
}

class KvStoreTest : public ::testing::Test {
 protected:
  // A node with one session "s1" (and "s2"), for the lock tests.
  void AddSessions() {
    ASSERT_TRUE(catalog_.Register(1, testutil::Reg("n1", std::nullopt)).ok());
    ASSERT_TRUE(kv_.SessionCreate(2, testutil::MakeSession("s1", "n1"), catalog_).ok());
    ASSERT_TRUE(kv_.SessionCreate(3, testutil::MakeSession("s2", "n1"), catalog_).ok());
  }

  CatalogStore catalog_;
  KvStore kv_;
};

TEST_F(KvStoreTest, SetCreatesThenUpdatesKeepingCreateIndex) {
  EXPECT_TRUE(Put(kv_, 5, KvSet("a", "1", 42)));
  EXPECT_TRUE(Put(kv_, 6, KvSet("a", "2", 7)));
  auto got = kv_.Get("a", nullptr);
  ASSERT_TRUE(got.value.has_value());
  EXPECT_EQ(got.value->value, "2");
  EXPECT_EQ(got.value->flags, 7u);
  EXPECT_EQ(got.value->create_index, 5u);
  EXPECT_EQ(got.value->modify_index, 6u);
  EXPECT_EQ(got.value->lock_index, 0u);
  EXPECT_EQ(got.index, 6u);
}

TEST_F(KvStoreTest, MissingKeyReportsTheTableIndexAtLeastOne) {
  EXPECT_EQ(kv_.Get("nope", nullptr).index, 1u);
  ASSERT_TRUE(Put(kv_, 9, KvSet("x", "1")));
  auto got = kv_.Get("nope", nullptr);
  EXPECT_FALSE(got.value.has_value());
  EXPECT_EQ(got.index, 9u);
}

TEST_F(KvStoreTest, IdenticalSetChangesNothing) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a", "1", 3)));
  WatchSet ws;
  (void)kv_.Get("a", &ws);
  EXPECT_TRUE(Put(kv_, 6, KvSet("a", "1", 3)));
  EXPECT_EQ(kv_.Get("a", nullptr).value->modify_index, 5u);
  EXPECT_EQ(kv_.KvIndex(), 5u);
  EXPECT_FALSE(ws.AnyFired());
}

TEST_F(KvStoreTest, CasZeroCreatesOnlyIfAbsent) {
  EXPECT_TRUE(Put(kv_, 5, KvCas("a", "1", 0)));
  EXPECT_FALSE(Put(kv_, 6, KvCas("a", "2", 0)));
  EXPECT_EQ(kv_.Get("a", nullptr).value->value, "1");
  EXPECT_EQ(kv_.KvIndex(), 5u);
}

TEST_F(KvStoreTest, CasWithMismatchedIndexIsFalseAndChangesNothing) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a", "1")));
  EXPECT_FALSE(Put(kv_, 6, KvCas("a", "2", 4)));
  EXPECT_FALSE(Put(kv_, 7, KvCas("missing", "2", 5)));
  EXPECT_EQ(kv_.Get("a", nullptr).value->value, "1");
  EXPECT_TRUE(Put(kv_, 8, KvCas("a", "3", 5)));
  EXPECT_EQ(kv_.Get("a", nullptr).value->value, "3");
  EXPECT_EQ(kv_.Get("a", nullptr).value->modify_index, 8u);
  EXPECT_FALSE(kv_.Get("missing", nullptr).value.has_value());
}

TEST_F(KvStoreTest, InvalidKeysAndOversizedValuesAreRefused) {
  EXPECT_EQ(kv_.Apply(1, KvSet("", "x")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(kv_.Apply(1, KvSet("/a", "x")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(kv_.Apply(1, KvSet("bad\xff", "x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(kv_.Apply(1, KvSet("ok/\xc3\xa9", "x")).ok());
  std::string big(structs::kMaxKvValueBytes + 1, 'v');
  EXPECT_EQ(kv_.Apply(2, KvSet("big", big)).status().code(), Code::kTooLarge);
  big.pop_back();
  EXPECT_TRUE(kv_.Apply(3, KvSet("big", big)).ok());
  // delete-tree of the whole tree is allowed.
  EXPECT_TRUE(kv_.Apply(4, KvDeleteTree("")).ok());
  EXPECT_TRUE(kv_.List("", nullptr).value.empty());
}

TEST_F(KvStoreTest, LockIndexGrowsOnlyOnNewAcquisitions) {
  AddSessions();
  EXPECT_TRUE(Put(kv_, 10, KvLock("l", "s1", "v1")));
  auto e = *kv_.Get("l", nullptr).value;
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.session, "s1");
  // Re-acquire by the holder updates the value, not the LockIndex.
  EXPECT_TRUE(Put(kv_, 11, KvLock("l", "s1", "v2")));
  e = *kv_.Get("l", nullptr).value;
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.value, "v2");
  // Another session loses while it is held.
  EXPECT_FALSE(Put(kv_, 12, KvLock("l", "s2", "x")));
  EXPECT_EQ(kv_.Get("l", nullptr).value->value, "v2");
  // Release by a non-holder fails; by the holder clears the session.
  EXPECT_FALSE(Put(kv_, 13, KvUnlock("l", "s2")));
  EXPECT_TRUE(Put(kv_, 14, KvUnlock("l", "s1", "free")));
  e = *kv_.Get("l", nullptr).value;
  EXPECT_EQ(e.session, "");
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.value, "free");
  // A plain set keeps LockIndex; the next acquisition bumps it.
  EXPECT_TRUE(Put(kv_, 15, KvSet("l", "plain")));
  EXPECT_TRUE(Put(kv_, 16, KvLock("l", "s2")));
  e = *kv_.Get("l", nullptr).value;
  EXPECT_EQ(e.lock_index, 2u);
  EXPECT_EQ(e.session, "s2");
  EXPECT_EQ(e.create_index, 10u);
}

TEST_F(KvStoreTest, PlainSetKeepsTheLockHolder) {
  AddSessions();
  ASSERT_TRUE(Put(kv_, 10, KvLock("l", "s1")));
  EXPECT_TRUE(Put(kv_, 11, KvSet("l", "new")));
  EXPECT_EQ(kv_.Get("l", nullptr).value->session, "s1");
}

TEST_F(KvStoreTest, LockIndexRestartsWhenTheKeyIsDeletedAndRecreated) {
  AddSessions();
  ASSERT_TRUE(Put(kv_, 10, KvLock("l", "s1")));
  ASSERT_TRUE(Put(kv_, 11, KvUnlock("l", "s1")));
  ASSERT_TRUE(Put(kv_, 12, KvLock("l", "s1")));
  EXPECT_EQ(kv_.Get("l", nullptr).value->lock_index, 2u);
  ASSERT_TRUE(Put(kv_, 13, KvDelete("l")));
  ASSERT_TRUE(Put(kv_, 14, KvLock("l", "s2")));
  auto e = *kv_.Get("l", nullptr).value;
  EXPECT_EQ(e.lock_index, 1u);
  EXPECT_EQ(e.create_index, 14u);
}

TEST_F(KvStoreTest, LockNeedsALiveSession) {
  AddSessions();
  EXPECT_EQ(kv_.Apply(10, KvLock("l", "")).status().message(), "Missing session");
  EXPECT_EQ(kv_.Apply(10, KvLock("l", "ghost")).status().message(),
            "Invalid session \"ghost\"");
  EXPECT_EQ(kv_.Apply(10, KvUnlock("l", "")).status().message(), "Missing session");
  EXPECT_FALSE(kv_.Get("l", nullptr).value.has_value());
  EXPECT_FALSE(Put(kv_, 10, KvUnlock("l", "s1")));  // Missing key: false.
}

TEST_F(KvStoreTest, DeleteOfAMissingKeyChangesNothing) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/1", "x")));
  WatchSet ws;
  (void)kv_.List("a/", &ws);
  EXPECT_TRUE(Put(kv_, 6, KvDelete("a/2")));
  EXPECT_EQ(kv_.KvIndex(), 5u);
  EXPECT_EQ(kv_.List("a/", nullptr).index, 5u);
  EXPECT_EQ(kv_.TombstoneCount(), 0u);
  EXPECT_FALSE(ws.AnyFired());
}

TEST_F(KvStoreTest, DeleteCasNeedsTheIndexButMissingKeysSucceed) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a", "x")));
  EXPECT_FALSE(Put(kv_, 6, KvDeleteCas("a", 4)));
  EXPECT_TRUE(kv_.Get("a", nullptr).value.has_value());
  EXPECT_TRUE(Put(kv_, 7, KvDeleteCas("a", 5)));
  EXPECT_FALSE(kv_.Get("a", nullptr).value.has_value());
  EXPECT_TRUE(Put(kv_, 8, KvDeleteCas("a", 5)));  // As Consul: nothing to do.
}

TEST_F(KvStoreTest, DeleteTreeRemovesExactlyThePrefix) {
  for (const char* k : {"a", "a/1", "a/2/x", "ab", "b/1"}) {
    ASSERT_TRUE(Put(kv_, 5, KvSet(k, "v")));
  }
  ASSERT_TRUE(Put(kv_, 6, KvDeleteTree("a/")));
  std::vector<std::string> left;
  for (const auto& e : kv_.List("", nullptr).value) left.push_back(e.key);
  EXPECT_EQ(left, (std::vector<std::string>{"a", "ab", "b/1"}));
}

TEST_F(KvStoreTest, ListIsSortedAndIndexedByItsPrefixOnly) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/2", "v")));
  ASSERT_TRUE(Put(kv_, 6, KvSet("a/1", "v")));
  ASSERT_TRUE(Put(kv_, 7, KvSet("b/1", "v")));
  auto list = kv_.List("a/", nullptr);
  ASSERT_EQ(list.value.size(), 2u);
  EXPECT_EQ(list.value[0].key, "a/1");
  EXPECT_EQ(list.value[1].key, "a/2");
  EXPECT_EQ(list.index, 6u);
  EXPECT_EQ(kv_.List("", nullptr).index, 7u);
  // Nothing under the prefix: the table index.
  EXPECT_EQ(kv_.List("zzz", nullptr).index, 7u);
}

TEST_F(KvStoreTest, PrefixIndexIncludesDeletions) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/1", "v")));
  ASSERT_TRUE(Put(kv_, 6, KvSet("a/2", "v")));
  ASSERT_TRUE(Put(kv_, 7, KvSet("b/1", "v")));
  WatchSet ws;
  EXPECT_EQ(kv_.List("a/", &ws).index, 6u);
  ASSERT_TRUE(Put(kv_, 8, KvDelete("a/2")));
  EXPECT_TRUE(ws.AnyFired());
  auto list = kv_.List("a/", nullptr);
  EXPECT_EQ(list.value.size(), 1u);
  EXPECT_EQ(list.index, 8u);  // Not 5: the delete counts.
  EXPECT_EQ(kv_.Keys("a/", "", nullptr).index, 8u);
  ASSERT_TRUE(Put(kv_, 9, KvSet("b/2", "v")));
  EXPECT_EQ(kv_.List("a/", nullptr).index, 8u);  // b/ writes do not count.
}

TEST_F(KvStoreTest, DeleteTreeBumpsEveryCoveredPrefix) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/b/1", "v")));
  ASSERT_TRUE(Put(kv_, 6, KvSet("a/c", "v")));
  ASSERT_TRUE(Put(kv_, 7, KvSet("z", "v")));
  WatchSet ws;
  (void)kv_.List("a/b/", &ws);
  ASSERT_TRUE(Put(kv_, 8, KvDeleteTree("a/")));
  EXPECT_TRUE(ws.AnyFired());
  EXPECT_EQ(kv_.List("a/b/", nullptr).index, 8u);
  EXPECT_EQ(kv_.Get("a/c", nullptr).index, 8u);
}

TEST_F(KvStoreTest, ReapingTombstonesNeverLowersAPrefixIndex) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/1", "v")));
  ASSERT_TRUE(Put(kv_, 6, KvSet("a/2", "v")));
  ASSERT_TRUE(Put(kv_, 7, KvDelete("a/2")));
  ASSERT_TRUE(Put(kv_, 8, KvSet("b", "v")));
  EXPECT_EQ(kv_.List("a/", nullptr).index, 7u);
  EXPECT_EQ(kv_.TombstoneCount(), 1u);
  kv_.ReapTombstones(9, 7);
  EXPECT_EQ(kv_.TombstoneCount(), 0u);
  EXPECT_GE(kv_.List("a/", nullptr).index, 7u);
}

TEST_F(KvStoreTest, RecreatingAKeyDropsItsTombstone) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a", "v")));
  ASSERT_TRUE(Put(kv_, 6, KvDelete("a")));
  EXPECT_EQ(kv_.TombstoneCount(), 1u);
  ASSERT_TRUE(Put(kv_, 7, KvSet("a", "w")));
  EXPECT_EQ(kv_.TombstoneCount(), 0u);
  EXPECT_EQ(kv_.Get("a", nullptr).value->create_index, 7u);
}

TEST_F(KvStoreTest, KeysWithASeparatorFoldsSubtrees) {
  for (const char* k : {"web/a", "web/b/1", "web/b/2", "web/b.c", "web/c/", "webx"}) {
    ASSERT_TRUE(Put(kv_, 5, KvSet(k, "v")));
  }
  EXPECT_EQ(kv_.Keys("web/", "/", nullptr).value,
            (std::vector<std::string>{"web/a", "web/b.c", "web/b/", "web/c/"}));
  EXPECT_EQ(kv_.Keys("web", "/", nullptr).value,
            (std::vector<std::string>{"web/", "webx"}));
  EXPECT_EQ(kv_.Keys("web/b", "", nullptr).value,
            (std::vector<std::string>{"web/b.c", "web/b/1", "web/b/2"}));
}

TEST_F(KvStoreTest, KeyWatchFiresOnlyForItsKey) {
  ASSERT_TRUE(Put(kv_, 5, KvSet("a/1", "v")));
  WatchSet a1, a2, missing;
  (void)kv_.Get("a/1", &a1);
  (void)kv_.Get("a/2", &a2);
  (void)kv_.Get("later", &missing);
  ASSERT_TRUE(Put(kv_, 6, KvSet("a/1", "w")));
  EXPECT_TRUE(a1.AnyFired());
  EXPECT_FALSE(a2.AnyFired());
  EXPECT_FALSE(missing.AnyFired());
  ASSERT_TRUE(Put(kv_, 7, KvSet("later", "w")));  // Creation wakes it.
  EXPECT_TRUE(missing.AnyFired());
  EXPECT_FALSE(a2.AnyFired());
}

TEST_F(KvStoreTest, PrefixWatchFiresForWritesUnderItOnly) {
  WatchSet app, ap, apple_only, other, all;
  (void)kv_.List("app/", &app);
  (void)kv_.Keys("ap", "/", &ap);
  (void)kv_.List("apple/", &apple_only);
  (void)kv_.List("b/", &other);
  (void)kv_.List("", &all);
  ASSERT_TRUE(Put(kv_, 5, KvSet("app/x", "v")));
  EXPECT_TRUE(app.AnyFired());
  EXPECT_TRUE(ap.AnyFired());
  EXPECT_TRUE(all.AnyFired());
  EXPECT_FALSE(apple_only.AnyFired());
  EXPECT_FALSE(other.AnyFired());
}

TEST_F(KvStoreTest, WatchesRegisteredAgainAfterFiringFireAgain) {
  WatchSet first;
  (void)kv_.List("p/", &first);
  ASSERT_TRUE(Put(kv_, 5, KvSet("p/1", "v")));
  ASSERT_TRUE(first.AnyFired());
  WatchSet second;
  (void)kv_.List("p/", &second);
  EXPECT_FALSE(second.AnyFired());
  ASSERT_TRUE(Put(kv_, 6, KvDelete("p/1")));
  EXPECT_TRUE(second.AnyFired());
}

TEST_F(KvStoreTest, IndexesNeverGoBackwards) {
  uint64_t last_table = 0;
  uint64_t last_prefix = 0;
  uint64_t idx = 1;
  for (int round = 0; round < 5; ++round) {
    for (const auto& cmd : {KvSet("p/a", "1"), KvSet("p/b", "2"), KvDelete("p/a"),
                            KvDeleteTree("p/"), KvSet("q", "3")}) {
      ASSERT_TRUE(kv_.Apply(++idx, cmd).ok());
      EXPECT_GE(kv_.KvIndex(), last_table);
      EXPECT_GE(kv_.List("p/", nullptr).index, last_prefix);
      last_table = kv_.KvIndex();
      last_prefix = kv_.List("p/", nullptr).index;
    }
    ++idx;
    kv_.ReapTombstones(idx, idx - 3);
    EXPECT_GE(kv_.List("p/", nullptr).index, last_prefix);
  }
}

}  // namespace
}  // namespace sider::store
