#include "workload.h"

#include <gtest/gtest.h>

namespace sider::bench {
namespace {

TEST(Base64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

TEST(EndpointsTest, ParsesAList) {
  auto eps = ParseEndpoints("127.0.0.1:2379,127.0.0.2:22379");
  ASSERT_TRUE(eps.ok());
  ASSERT_EQ(eps->size(), 2u);
  EXPECT_EQ((*eps)[1].host, "127.0.0.2");
  EXPECT_EQ((*eps)[1].port, 22379);
}

TEST(EndpointsTest, RejectsBadPorts) {
  EXPECT_FALSE(ParseEndpoints("127.0.0.1").ok());
  EXPECT_FALSE(ParseEndpoints("127.0.0.1:0").ok());
  EXPECT_FALSE(ParseEndpoints("127.0.0.1:70000").ok());
  EXPECT_FALSE(ParseEndpoints("127.0.0.1:80,").ok());
}

TEST(WorkloadTest, ParsesNames) {
  EXPECT_EQ(*ParseSystem("zk"), System::kZk);
  EXPECT_EQ(*ParseWorkload("heartbeat"), Workload::kHeartbeat);
  EXPECT_FALSE(ParseSystem("consul").ok());
}

TEST(WorkloadTest, HttpErrorsBecomeStatuses) {
  EXPECT_TRUE(StatusOfReply({200, "", {}}, "x").ok());
  EXPECT_EQ(StatusOfReply({503, "", {}}, "x").code(), Code::kUnavailable);
  EXPECT_EQ(StatusOfReply({400, "", {}}, "x").code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sider::bench
