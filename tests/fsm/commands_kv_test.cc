// Round trips of the KV, session and txn entries and the txn reply.
#include <gtest/gtest.h>

#include "fsm/commands.h"
#include "store/kv_fixtures.h"

namespace sider::fsm {
namespace {

using structs::TxnKvVerb;

TEST(CommandsKvTest, KvCommandRoundTripsEveryField) {
  structs::KvCommand cmd = testutil::KvLock("a/b", "sess", std::string("v\0x", 3));
  cmd.entry.flags = 0xfffffffffffffffful;
  cmd.entry.modify_index = 42;
  auto got = DecodeKv(EncodeKv(cmd));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->op, structs::KvOp::kLock);
  EXPECT_EQ(got->entry, cmd.entry);
}

TEST(CommandsKvTest, SessionCommandsRoundTrip) {
  auto s = testutil::MakeSession("id-1", "n1", {"serfHealth", "c2"},
                                 structs::SessionBehavior::kDelete);
  s.service_checks = {{.id = "web", .ns = "ns1"}};
  s.ttl = "30s";
  s.lock_delay_ns = 0;
  auto got = DecodeSessionCreate(EncodeSessionCreate({s}));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->session, s);
  auto d = DecodeSessionDestroy(EncodeSessionDestroy({"id-1"}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->id, "id-1");
}

TEST(CommandsKvTest, TxnAndItsResultRoundTrip) {
  structs::TxnCommand cmd{{testutil::Op(TxnKvVerb::kDeleteCas, "k", "", 9),
                           testutil::Op(TxnKvVerb::kCheckSession, "l", "", 0, "s")}};
  auto got = DecodeTxn(EncodeTxn(cmd));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->ops.size(), 2u);
  EXPECT_EQ(got->ops[0].verb, TxnKvVerb::kDeleteCas);
  EXPECT_EQ(got->ops[0].entry.modify_index, 9u);
  EXPECT_EQ(got->ops[1].entry.session, "s");

  structs::TxnResult r;
  r.results.push_back(testutil::Kv("a", "1", 3));
  r.errors.push_back({.op_index = 7, .what = "key \"a\" exists"});
  auto rg = DecodeTxnResult(EncodeTxnResult(r));
  ASSERT_TRUE(rg.ok());
  EXPECT_EQ(*rg, r);
  EXPECT_EQ(DecodeTxnResult("\xff\xff").status().code(), Code::kDataLoss);
}

TEST(CommandsKvTest, KvEntriesCarryTheirAppendOnlyTypeNumbers) {
  EXPECT_EQ(DecodeEntry(EncodeKv({}))->type, 5u);
  EXPECT_EQ(DecodeEntry(EncodeKvReapTombstones(3))->type, 6u);
  EXPECT_EQ(DecodeEntry(EncodeSessionCreate({}))->type, 16u);
  EXPECT_EQ(DecodeEntry(EncodeSessionDestroy({}))->type, 17u);
  EXPECT_EQ(DecodeEntry(EncodeTxn({}))->type, 24u);
  auto reap = DecodeEntry(EncodeKvReapTombstones(77));
  EXPECT_EQ(*DecodeKvReapTombstonesPayload(reap->payload), 77u);
}

TEST(CommandsKvTest, VerbNamesRoundTrip) {
  for (int v = 0; v <= static_cast<int>(TxnKvVerb::kDeleteCas); ++v) {
    auto verb = static_cast<TxnKvVerb>(v);
    EXPECT_EQ(structs::ParseTxnKvVerb(structs::TxnKvVerbName(verb)), verb);
  }
  EXPECT_EQ(structs::TxnKvVerbName(TxnKvVerb::kCheckNotExists), "check-not-exists");
  EXPECT_FALSE(structs::ParseTxnKvVerb("nope").has_value());
  EXPECT_EQ(structs::ParseSessionBehavior("delete"), structs::SessionBehavior::kDelete);
}

}  // namespace
}  // namespace sider::fsm
