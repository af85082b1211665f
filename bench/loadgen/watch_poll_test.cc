#include "watch_poll.h"

#include <gtest/gtest.h>

namespace sider::bench {
namespace {

constexpr std::string_view kHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 5\r\nX-Consul-Index: 7\r\n\r\n";

TEST(HttpReplyCompleteTest, WaitsForTheWholeBody) {
  const std::string reply = std::string(kHead) + "[1,2]";
  EXPECT_FALSE(HttpReplyComplete(reply.substr(0, kHead.size() - 2)));
  EXPECT_FALSE(HttpReplyComplete(reply.substr(0, kHead.size())));
  EXPECT_FALSE(HttpReplyComplete(reply.substr(0, reply.size() - 1)));
  EXPECT_TRUE(HttpReplyComplete(reply));
}

TEST(HttpReplyCompleteTest, ReadsContentLengthInAnyCase) {
  EXPECT_FALSE(HttpReplyComplete("HTTP/1.1 200 OK\r\ncontent-length:  3\r\n\r\nab"));
  EXPECT_TRUE(HttpReplyComplete("HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\n\r\nabc"));
}

TEST(HttpReplyCompleteTest, WithoutContentLengthEndsWithTheHeaders) {
  EXPECT_TRUE(HttpReplyComplete("HTTP/1.1 204 No Content\r\nA: b\r\n\r\n"));
}

TEST(NotificationCompleteTest, MarkerProtocolsWaitForTheMarker) {
  WatchProtocol etcd;
  etcd.done = WatchProtocol::Done::kMarker;
  etcd.fire_marker = "\"events\"";
  EXPECT_FALSE(NotificationComplete(etcd, "{\"result\":{\"header\":{}}"));
  EXPECT_TRUE(NotificationComplete(etcd, "{\"result\":{\"events\":[]}}"));
}

}  // namespace
}  // namespace sider::bench
