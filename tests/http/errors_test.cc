#include <gtest/gtest.h>

#include <string>

#include "http/http.h"

namespace sider::http {
namespace {

TEST(HttpStatusForTest, MapsEveryCodeAsConsulDoes) {
  EXPECT_EQ(HttpStatusFor(Code::kOk), 200u);
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400u);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404u);
  EXPECT_EQ(HttpStatusFor(Code::kFailedPrecondition), 400u);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403u);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 500u);
  EXPECT_EQ(HttpStatusFor(Code::kDeadlineExceeded), 500u);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500u);
  EXPECT_EQ(HttpStatusFor(Code::kDataLoss), 500u);
  EXPECT_EQ(HttpStatusFor(Code::kOutcomeUnknown), 500u);
  EXPECT_EQ(HttpStatusFor(Code::kTooLarge), 413u);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409u);
  // Keep this test in step with the enum: the last code is kConflict.
  static_assert(static_cast<int>(Code::kConflict) == 11,
                "a Code was added: map it in errors.cc and test it here");
}

TEST(ErrorResponseTest, IsPlainTextWithTheMessage) {
  Response r = ErrorResponse(Status(Code::kNotFound, "no such key"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "no such key\n");
}

TEST(ErrorResponseTest, OutcomeUnknownSaysSo) {
  Response r =
      ErrorResponse(Status(Code::kOutcomeUnknown, "leadership lost"));
  EXPECT_EQ(r.status, 500u);
  EXPECT_NE(r.body.find("outcome unknown"), std::string::npos);
  EXPECT_NE(r.body.find("leadership lost"), std::string::npos);
}

TEST(JsonResponseTest, DefaultsTo200AndJson) {
  Response r = JsonResponse("[]");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "[]");
  EXPECT_EQ(JsonResponse("{}", 201).status, 201u);
}

}  // namespace
}  // namespace sider::http
