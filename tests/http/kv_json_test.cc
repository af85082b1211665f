#include "http/handlers/kv_json.h"

#include <gtest/gtest.h>

namespace sider::http::handlers {
namespace {

std::string B64(std::string_view s) {
  std::string out;
  AppendBase64(out, s);
  return out;
}

TEST(KvJsonTest, Base64MatchesGoStdEncodingAndRoundTrips) {
  EXPECT_EQ(B64(""), "");
  EXPECT_EQ(B64("f"), "Zg==");
  EXPECT_EQ(B64("fo"), "Zm8=");
  EXPECT_EQ(B64("foo"), "Zm9v");
  EXPECT_EQ(B64("foobar"), "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto back = DecodeBase64(B64(all));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  EXPECT_FALSE(DecodeBase64("***").ok());
  EXPECT_FALSE(DecodeBase64("Zg=").ok());
  EXPECT_FALSE(DecodeBase64("Zg==Zg").ok());
}

TEST(KvJsonTest, EntriesHaveConsulsShape) {
  structs::KvEntry e;
  e.key = "a/b";
  e.value = "hi";
  e.flags = 7;
  e.lock_index = 2;
  e.create_index = 3;
  e.modify_index = 4;
  EXPECT_EQ(EncodeKvEntries({e}),
            R"([{"LockIndex":2,"Key":"a/b","Flags":7,"Value":"aGk=",)"
            R"("CreateIndex":3,"ModifyIndex":4}])");
  e.value.clear();
  e.session = "s1";
  EXPECT_EQ(EncodeKvEntries({e}),
            R"([{"LockIndex":2,"Key":"a/b","Flags":7,"Value":null,)"
            R"("Session":"s1","CreateIndex":3,"ModifyIndex":4}])");
}

TEST(KvJsonTest, SessionCreateAcceptsPythonConsulsLowerCaseBody) {
  auto r = DecodeSessionCreate(
      R"({"name":"n","lockdelay":"5s","behavior":"delete","ttl":"10s","checks":["a"]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->session.name, "n");
  EXPECT_EQ(r->session.lock_delay_ns, 5'000'000'000);
  EXPECT_EQ(r->session.behavior, structs::SessionBehavior::kDelete);
  EXPECT_EQ(r->session.ttl, "10s");
  EXPECT_EQ(r->ttl, std::chrono::seconds(10));
  EXPECT_TRUE(r->node_checks_given);
  EXPECT_EQ(r->session.node_checks, std::vector<std::string>{"a"});
}

TEST(KvJsonTest, LockDelayNumbersBelow1000AreSeconds) {
  auto secs = DecodeSessionCreate(R"({"LockDelay": 15})");
  ASSERT_TRUE(secs.ok());
  EXPECT_EQ(secs->session.lock_delay_ns, 15'000'000'000);
  auto ns = DecodeSessionCreate(R"({"LockDelay": 2000000000})");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->session.lock_delay_ns, 2'000'000'000);
}

TEST(KvJsonTest, EmptySessionBodyIsAllDefaults) {
  auto r = DecodeSessionCreate("");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->node_checks_given);
  EXPECT_EQ(r->session.lock_delay_ns, 15'000'000'000);
  EXPECT_EQ(r->session.behavior, structs::SessionBehavior::kRelease);
}

TEST(KvJsonTest, SessionCreateErrorsUseConsulsTexts) {
  EXPECT_EQ(DecodeSessionCreate(R"({"Behavior":"x"})").status().message(),
            "Invalid Behavior setting 'x'");
  EXPECT_EQ(DecodeSessionCreate(R"({"TTL":"abc"})").status().code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(DecodeSessionCreate("[]").ok());
}

TEST(KvJsonTest, TxnDecodesKvOperations) {
  auto ops = DecodeTxn(
      R"([{"KV":{"Verb":"cas","Key":"k","Value":"aGk=","Flags":3,"Index":9}},)"
      R"({"kv":{"verb":"check-session","key":"k","session":"s"}}])");
  ASSERT_TRUE(ops.ok()) << ops.status().message();
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].verb, structs::TxnKvVerb::kCas);
  EXPECT_EQ((*ops)[0].entry.value, "hi");
  EXPECT_EQ((*ops)[0].entry.flags, 3u);
  EXPECT_EQ((*ops)[0].entry.modify_index, 9u);
  EXPECT_EQ((*ops)[1].verb, structs::TxnKvVerb::kCheckSession);
  EXPECT_EQ((*ops)[1].entry.session, "s");
}

TEST(KvJsonTest, TxnRejectsWhatItCannotRun) {
  EXPECT_FALSE(DecodeTxn("{}").ok());
  EXPECT_FALSE(DecodeTxn(R"([{"Node":{}}])").ok());
  EXPECT_FALSE(DecodeTxn(R"([{"KV":{"Verb":"boom","Key":"k"}}])").ok());
  EXPECT_FALSE(DecodeTxn(R"([{"KV":{"Verb":"set","Key":"k","Flags":-1}}])").ok());
}

TEST(KvJsonTest, TxnResultShapes) {
  structs::TxnResult ok;
  ok.results.push_back({});
  ok.results.back().key = "k";
  EXPECT_EQ(EncodeTxnResult(ok),
            R"({"Results":[{"KV":{"LockIndex":0,"Key":"k","Flags":0,)"
            R"("Value":null,"CreateIndex":0,"ModifyIndex":0}}],"Errors":null})");
  structs::TxnResult failed;
  failed.errors.push_back({1, "boom"});
  EXPECT_EQ(EncodeTxnResult(failed),
            R"({"Results":null,"Errors":[{"OpIndex":1,"What":"boom"}]})");
}

}  // namespace
}  // namespace sider::http::handlers
