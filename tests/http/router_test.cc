#include "http/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace sider::http {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  // Dispatches synchronously; every handler here answers inline.
  Response Call(Method method, std::string path) {
    Request req;
    req.method = method;
    req.path = std::move(path);
    std::optional<Response> out;
    router_.Dispatch(std::move(req), [&](Response r) { out = std::move(r); });
    EXPECT_TRUE(out.has_value()) << "the router must answer";
    return out ? *out : Response{};
  }

  // A handler that answers "<tag>:<Param()>".
  static Handler Echo(std::string tag) {
    return [tag](Request req, Responder respond) {
      respond(JsonResponse(tag + ":" + std::string(req.Param())));
    };
  }

  static std::optional<std::string> HeaderOf(const Response& r,
                                             std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }

  Router router_;
};

TEST_F(RouterTest, ExactPathCallsItsHandler) {
  router_.Add({Method::kGet}, "/v1/status/leader", Echo("leader"));
  Response r = Call(Method::kGet, "/v1/status/leader");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "leader:");
}

TEST_F(RouterTest, UnknownPathIs404PlainText) {
  router_.Add({Method::kGet}, "/v1/status/leader", Echo("leader"));
  for (const char* path : {"/v1/status/leader/x", "/v1/status", "/", ""}) {
    Response r = Call(Method::kGet, path);
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  router_.Add({Method::kPut}, "/v1/agent/service/register", Echo("reg"));
  router_.Add({Method::kGet}, "/v1/agent/service/register", Echo("reg"));
  Response r = Call(Method::kDelete, "/v1/agent/service/register");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(HeaderOf(r, "Allow"), std::optional<std::string>("GET, PUT"));
}

TEST_F(RouterTest, PrefixPatternPassesTheRestAsParam) {
  router_.Add({Method::kPut}, "/v1/agent/service/deregister/*", Echo("dereg"));
  EXPECT_EQ(Call(Method::kPut, "/v1/agent/service/deregister/web-1").body,
            "dereg:web-1");
  EXPECT_EQ(Call(Method::kPut, "/v1/agent/service/deregister/a/b").body,
            "dereg:a/b");
  EXPECT_EQ(Call(Method::kPut, "/v1/agent/service/deregister/").body,
            "dereg:");
  EXPECT_EQ(Call(Method::kPut, "/v1/agent/service/deregister").status, 404u);
  EXPECT_EQ(Call(Method::kGet, "/v1/agent/service/deregister/x").status,
            405u);
}

TEST_F(RouterTest, ExactBeatsPrefixAndLongestPrefixWins) {
  router_.Add({Method::kGet}, "/v1/catalog/*", Echo("catalog"));
  router_.Add({Method::kGet}, "/v1/catalog/service/*", Echo("service"));
  router_.Add({Method::kGet}, "/v1/catalog/services", Echo("services"));
  EXPECT_EQ(Call(Method::kGet, "/v1/catalog/services").body, "services:");
  EXPECT_EQ(Call(Method::kGet, "/v1/catalog/service/web").body,
            "service:web");
  EXPECT_EQ(Call(Method::kGet, "/v1/catalog/nodes").body, "catalog:nodes");
}

TEST_F(RouterTest, MethodsMayHaveDifferentHandlersOnOnePattern) {
  router_.Add({Method::kGet}, "/v1/kv/*", Echo("get"));
  router_.Add({Method::kPut, Method::kPost}, "/v1/kv/*", Echo("put"));
  EXPECT_EQ(Call(Method::kGet, "/v1/kv/a").body, "get:a");
  EXPECT_EQ(Call(Method::kPost, "/v1/kv/a").body, "put:a");
  Response r = Call(Method::kDelete, "/v1/kv/a");
  EXPECT_EQ(HeaderOf(r, "Allow"), std::optional<std::string>("GET, PUT, POST"));
}

}  // namespace
}  // namespace sider::http
