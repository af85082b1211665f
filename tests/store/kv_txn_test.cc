// KvStore::Txn: every verb, all-or-nothing, Consul's error texts.
#include <gtest/gtest.h>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"
#include "store/kv_store.h"

namespace sider::store {
namespace {

using structs::TxnKvVerb;
using testutil::KvSet;
using testutil::Op;

class KvTxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(catalog_.Register(1, testutil::Reg("n1", std::nullopt)).ok());
    ASSERT_TRUE(kv_.SessionCreate(2, testutil::MakeSession("s1", "n1"), catalog_).ok());
    ASSERT_TRUE(kv_.Apply(3, KvSet("a", "A", 1)).ok());
    ASSERT_TRUE(kv_.Apply(4, KvSet("t/1", "T1")).ok());
    ASSERT_TRUE(kv_.Apply(5, KvSet("t/2", "T2")).ok());
    ASSERT_TRUE(kv_.Apply(6, testutil::KvLock("held", "s1", "H")).ok());
  }

  structs::TxnResult Run(uint64_t index, const std::vector<structs::TxnKvOp>& ops) {
    Result<structs::TxnResult> r = kv_.Txn(index, ops);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : structs::TxnResult{};
  }

  CatalogStore catalog_;
  KvStore kv_;
};

TEST_F(KvTxnTest, SuccessfulTxnAppliesEveryOpAtOneIndex) {
  auto r = Run(10, {Op(TxnKvVerb::kSet, "new", "N"),
                    Op(TxnKvVerb::kCas, "a", "A2", 3),
                    Op(TxnKvVerb::kGet, "new"),
                    Op(TxnKvVerb::kGetTree, "t/"),
                    Op(TxnKvVerb::kCheckIndex, "t/1", "", 4),
                    Op(TxnKvVerb::kCheckSession, "held", "", 0, "s1"),
                    Op(TxnKvVerb::kCheckNotExists, "nope"),
                    Op(TxnKvVerb::kDelete, "t/2"),
                    Op(TxnKvVerb::kLock, "lk", "L", 0, "s1"),
                    Op(TxnKvVerb::kUnlock, "held", "H2", 0, "s1")});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].what;
  std::vector<std::string> keys;
  for (const auto& e : r.results) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"new", "a", "new", "t/1", "t/2", "t/1",
                                            "held", "lk", "held"}));
  // Writes and checks come back without values; get and get-tree with.
  EXPECT_EQ(r.results[0].value, "");
  EXPECT_EQ(r.results[0].modify_index, 10u);
  EXPECT_EQ(r.results[1].value, "");
  EXPECT_EQ(r.results[2].value, "N");
  EXPECT_EQ(r.results[3].value, "T1");
  EXPECT_EQ(r.results[5].value, "");
  EXPECT_EQ(r.results[7].lock_index, 1u);
  EXPECT_EQ(r.results[8].session, "");
  EXPECT_EQ(kv_.Get("a", nullptr).value->value, "A2");
  EXPECT_FALSE(kv_.Get("t/2", nullptr).value.has_value());
  EXPECT_EQ(kv_.Get("lk", nullptr).value->session, "s1");
  EXPECT_EQ(kv_.Get("held", nullptr).value->session, "");
  EXPECT_EQ(kv_.KvIndex(), 10u);
  EXPECT_EQ(kv_.List("t/", nullptr).index, 10u);
}

TEST_F(KvTxnTest, FailedTxnChangesNothingAndFiresNothing) {
  const std::string before = kv_.Snapshot();
  WatchSet ws;
  (void)kv_.List("", &ws);
  auto r = Run(10, {Op(TxnKvVerb::kSet, "new", "N"),
                    Op(TxnKvVerb::kDeleteTree, "t/"),
                    Op(TxnKvVerb::kLock, "a", "", 0, "s1"),
                    Op(TxnKvVerb::kDelete, "held"),
                    Op(TxnKvVerb::kCas, "a", "x", 99)});
  EXPECT_TRUE(r.results.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].op_index, 4u);
  EXPECT_EQ(r.errors[0].what, "failed to set key \"a\", index is stale");
  EXPECT_EQ(kv_.Snapshot(), before);
  EXPECT_FALSE(ws.AnyFired());
}

TEST_F(KvTxnTest, EveryFailingOpIsReportedWithConsulsText) {
  auto r = Run(10, {Op(TxnKvVerb::kCas, "a", "x", 99),
                    Op(TxnKvVerb::kLock, "held", "", 0, "s2-unknown"),
                    Op(TxnKvVerb::kUnlock, "a", "", 0, "s1"),
                    Op(TxnKvVerb::kCheckSession, "held", "", 0, "other"),
                    Op(TxnKvVerb::kGet, "nope"),
                    Op(TxnKvVerb::kCheckIndex, "a", "", 7),
                    Op(TxnKvVerb::kCheckIndex, "nope", "", 7),
                    Op(TxnKvVerb::kCheckSession, "nope"),
                    Op(TxnKvVerb::kCheckNotExists, "a"),
                    Op(TxnKvVerb::kDeleteCas, "a", "", 2),
                    Op(TxnKvVerb::kLock, "a", "", 0, ""),
                    Op(TxnKvVerb::kGetTree, "none/")});
  std::vector<std::string> want = {
      "failed to set key \"a\", index is stale",
      "Invalid session \"s2-unknown\"",
      "failed to unlock key \"a\", lock isn't held, or is held by another session",
      "failed session check for key \"held\", current session \"s1\" != \"other\"",
      "key \"nope\" doesn't exist",
      "failed index check for key \"a\", current modify index 3 != 7",
      "failed to check index, key \"nope\" doesn't exist",
      "failed to check session, key \"nope\" doesn't exist",
      "key \"a\" exists",
      "failed to delete key \"a\", index is stale",
      "Missing session",
  };
  ASSERT_EQ(r.errors.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.errors[i].op_index, i);
    EXPECT_EQ(r.errors[i].what, want[i]);
  }
  EXPECT_TRUE(r.results.empty());
}

TEST_F(KvTxnTest, LockHeldByAnotherSessionFails) {
  ASSERT_TRUE(kv_.SessionCreate(7, testutil::MakeSession("s2", "n1"), catalog_).ok());
  auto r = Run(10, {Op(TxnKvVerb::kLock, "held", "", 0, "s2")});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].what, "failed to lock key \"held\", lock is already held");
}

TEST_F(KvTxnTest, LaterOpsSeeEarlierOnes) {
  auto r = Run(10, {Op(TxnKvVerb::kCheckNotExists, "k"),
                    Op(TxnKvVerb::kSet, "k", "1"),
                    Op(TxnKvVerb::kCheckIndex, "k", "", 10),
                    Op(TxnKvVerb::kDeleteCas, "k", "", 10),
                    Op(TxnKvVerb::kCheckNotExists, "k")});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_FALSE(kv_.Get("k", nullptr).value.has_value());
}

TEST_F(KvTxnTest, RollbackRestoresRowsTouchedSeveralTimes) {
  const std::string before = kv_.Snapshot();
  auto r = Run(10, {Op(TxnKvVerb::kSet, "a", "1"),
                    Op(TxnKvVerb::kDelete, "a"),
                    Op(TxnKvVerb::kSet, "a", "2"),
                    Op(TxnKvVerb::kUnlock, "held", "", 0, "s1"),
                    Op(TxnKvVerb::kDeleteTree, ""),
                    Op(TxnKvVerb::kGet, "a")});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].op_index, 5u);
  EXPECT_EQ(kv_.Snapshot(), before);
  // The session index still knows the held key: invalidation releases it.
  auto released = kv_.SessionDestroy(11, "s1");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].key, "held");
}

TEST_F(KvTxnTest, SixtyFourOpsAreAllowedSixtyFiveAreTooLarge) {
  std::vector<structs::TxnKvOp> ops;
  for (int i = 0; i < 64; ++i) ops.push_back(Op(TxnKvVerb::kSet, "k" + std::to_string(i)));
  EXPECT_TRUE(Run(10, ops).errors.empty());
  ops.push_back(Op(TxnKvVerb::kSet, "one-too-many"));
  Result<structs::TxnResult> r = kv_.Txn(11, ops);
  EXPECT_EQ(r.status().code(), Code::kTooLarge);
  EXPECT_EQ(kv_.Get("k0", nullptr).value->modify_index, 10u);
}

TEST_F(KvTxnTest, MalformedOpsRejectTheWholeTxn) {
  EXPECT_EQ(kv_.Txn(10, {Op(TxnKvVerb::kSet, "ok"), Op(TxnKvVerb::kSet, "/bad")})
                .status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(kv_.Txn(10, {Op(TxnKvVerb::kSet, "big",
                            std::string(structs::kMaxKvValueBytes + 1, 'x'))})
                .status().code(),
            Code::kTooLarge);
  structs::TxnKvOp bad = Op(TxnKvVerb::kGet, "a");
  bad.verb = static_cast<TxnKvVerb>(200);
  EXPECT_EQ(kv_.Txn(10, {bad}).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(kv_.Get("ok", nullptr).value.has_value());
}

TEST_F(KvTxnTest, ReadOnlyTxnBumpsNoIndex) {
  auto r = Run(10, {Op(TxnKvVerb::kGet, "a"), Op(TxnKvVerb::kGetTree, "")});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.results.size(), 5u);
  EXPECT_EQ(kv_.KvIndex(), 6u);
}

TEST_F(KvTxnTest, TxnWakesTheWatchersOfWhatItChanged) {
  WatchSet a, t, untouched;
  (void)kv_.Get("a", &a);
  (void)kv_.List("t/", &t);
  (void)kv_.Get("held", &untouched);
  auto r = Run(10, {Op(TxnKvVerb::kSet, "a", "new"), Op(TxnKvVerb::kDelete, "t/1")});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_TRUE(a.AnyFired());
  EXPECT_TRUE(t.AnyFired());
  EXPECT_FALSE(untouched.AnyFired());
}

}  // namespace
}  // namespace sider::store
