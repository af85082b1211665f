#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/http.h"

namespace sider::http {
namespace {

Request Parsed(std::string target) {
  Request req;
  req.target = std::move(target);
  Status s = ParseTarget(&req);
  EXPECT_TRUE(s.ok()) << s.message();
  return req;
}

TEST(PercentDecodeTest, DecodesEscapes) {
  auto r = PercentDecode("a%20b%2Fc%2f", /*plus_is_space=*/false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "a b/c/");
}

TEST(PercentDecodeTest, PlusIsSpaceOnlyInQueries) {
  EXPECT_EQ(*PercentDecode("a+b", /*plus_is_space=*/false), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", /*plus_is_space=*/true), "a b");
  EXPECT_EQ(*PercentDecode("a%2Bb", /*plus_is_space=*/true), "a+b");
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "abc%"}) {
    auto r = PercentDecode(bad, false);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST(ParseTargetTest, SplitsAndDecodesPathAndQuery) {
  Request req = Parsed("/v1/kv/my%20key%2Fsub?recurse&sep=%2F&x=a+b");
  EXPECT_EQ(req.path, "/v1/kv/my key/sub");
  ASSERT_EQ(req.query.size(), 3u);
  EXPECT_EQ(req.query[0], (std::pair<std::string, std::string>{"recurse", ""}));
  EXPECT_EQ(req.query[1].second, "/");
  EXPECT_EQ(req.query[2].second, "a b");
}

TEST(ParseTargetTest, FlagParameterIsPresentWithEmptyValue) {
  Request req = Parsed("/v1/health/service/web?passing");
  EXPECT_TRUE(req.Has("passing"));
  EXPECT_EQ(req.Get("passing"), std::optional<std::string>(""));
  EXPECT_FALSE(req.Has("pass"));
  EXPECT_EQ(req.Get("near"), std::nullopt);
}

TEST(ParseTargetTest, RepeatedParametersKeepTheirOrder) {
  Request req = Parsed("/v1/catalog/service/web?tag=a&tag=b&dc=x&tag=c");
  EXPECT_EQ(req.GetAll("tag"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(req.Get("tag"), std::optional<std::string>("a"));
  EXPECT_TRUE(req.GetAll("missing").empty());
}

TEST(ParseTargetTest, SkipsEmptySegmentsAndDropsTheFragment) {
  Request req = Parsed("/p?&a=1&&b=2&#frag");
  ASSERT_EQ(req.query.size(), 2u);
  EXPECT_EQ(req.Get("b"), std::optional<std::string>("2"));
  EXPECT_EQ(Parsed("/p#x").path, "/p");
}

TEST(ParseTargetTest, ValueMayContainEquals) {
  EXPECT_EQ(Parsed("/p?filter=a==b").Get("filter"),
            std::optional<std::string>("a==b"));
}

TEST(ParseTargetTest, AcceptsAbsoluteForm) {
  Request req = Parsed("http://example.com:8500/v1/status/leader?x=1");
  EXPECT_EQ(req.path, "/v1/status/leader");
  EXPECT_EQ(req.Get("x"), std::optional<std::string>("1"));
}

TEST(ParseTargetTest, RejectsBadEscapesInPathOrQuery) {
  for (const char* bad : {"/v1/kv/%zz", "/p?a=%", "/p?%4=1", "*", ""}) {
    Request req;
    req.target = bad;
    EXPECT_EQ(ParseTarget(&req).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(RequestTest, HeaderLookupIgnoresCase) {
  Request req;
  req.headers = {{"X-Consul-Token", "secret"}, {"Content-Type", "text/x"}};
  EXPECT_EQ(req.Header("x-consul-token"), std::optional<std::string>("secret"));
  EXPECT_EQ(req.Header("CONTENT-TYPE"), std::optional<std::string>("text/x"));
  EXPECT_EQ(req.Header("Accept"), std::nullopt);
}

TEST(RequestTest, ParamIsEmptyUnlessSet) {
  Request req;
  req.path = "/v1/kv/a/b";
  EXPECT_EQ(req.Param(), "");
  req.param_pos = 7;
  EXPECT_EQ(req.Param(), "a/b");
}

}  // namespace
}  // namespace sider::http
