#include "server/event_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

namespace sider::server {
namespace {

UserEvent Named(std::string name, std::string payload = "") {
  UserEvent e;
  e.name = std::move(name);
  e.payload = std::move(payload);
  return e;
}

TEST(EventServiceTest, IndexIsConsulsFoldOfTheUuidHalves) {
  // lower = 0x0123456789abcdef, upper = 0xfedcba9876543210.
  EXPECT_EQ(EventService::IndexOf("01234567-89ab-cdef-fedc-ba9876543210"),
            0x0123456789abcdefULL ^ 0xfedcba9876543210ULL);
  EXPECT_EQ(EventService::IndexOf("not-a-uuid"), 0u);
}

TEST(EventServiceTest, ListsOldestFirstFiltersByNameAndReportsTheLastIndex) {
  EventService events(nullptr);
  auto a = events.Fire(Named("deploy", "1"));
  auto b = events.Fire(Named("other"));
  auto c = events.Fire(Named("deploy", "2"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->ltime, 0u);  // Fire()'s answer, as in Consul.
  auto listed = events.List("deploy", nullptr);
  ASSERT_EQ(listed.value.size(), 2u);
  EXPECT_EQ(listed.value[0].id, a->id);
  EXPECT_EQ(listed.value[1].id, c->id);
  EXPECT_LT(listed.value[0].ltime, listed.value[1].ltime);
  EXPECT_EQ(listed.index, EventService::IndexOf(c->id));
  EXPECT_EQ(events.List("nothing", nullptr).index, 1u);
  EXPECT_EQ(events.List("", nullptr).value.size(), 3u);
}

TEST(EventServiceTest, KeepsTheLast256) {
  EventService events(nullptr);
  std::string first_kept;
  for (int i = 0; i < 300; ++i) {
    auto e = events.Fire(Named("e"));
    ASSERT_TRUE(e.ok());
    if (i == 300 - 256) first_kept = e->id;
  }
  auto listed = events.List("", nullptr);
  ASSERT_EQ(listed.value.size(), 256u);
  EXPECT_EQ(listed.value.front().id, first_kept);
}

TEST(EventServiceTest, IdsAreDistinctVersion4Uuids) {
  EventService events(nullptr);
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto e = events.Fire(Named("e"));
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->id.size(), 36u);
    EXPECT_EQ(e->id[14], '4');
    EXPECT_NE(std::string("89ab").find(e->id[19]), std::string::npos);
    ids.insert(e->id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(EventServiceTest, ANewAcceptedEventFiresTheListWatch) {
  EventService events(nullptr);
  store::WatchSet ws;
  (void)events.List("", &ws);
  std::atomic<bool> fired{false};
  ws.OnAnyFire([&] { fired = true; });
  EXPECT_FALSE(fired);
  ASSERT_TRUE(events.Fire(Named("e")).ok());
  EXPECT_TRUE(fired);
}

TEST(EventServiceTest, RejectedEventsAreAnsweredButNotListed) {
  EventService events([](const UserEvent& e) { return e.node_filter.empty(); });
  auto e = events.Fire([] {
    UserEvent u = Named("e");
    u.node_filter = "^elsewhere$";
    return u;
  }());
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(events.List("", nullptr).value.empty());
}

TEST(EventServiceTest, ValidatesNameFiltersAndSize) {
  EventService events(nullptr);
  EXPECT_EQ(events.Fire(Named("")).status().code(), Code::kInvalidArgument);
  UserEvent bad = Named("e");
  bad.node_filter = "(";
  EXPECT_EQ(events.Fire(bad).status().code(), Code::kInvalidArgument);
  UserEvent tag_only = Named("e");
  tag_only.tag_filter = "v1";
  auto s = events.Fire(tag_only).status();
  EXPECT_EQ(s.message(), "cannot provide tag filter without service filter");
  EXPECT_EQ(events.Fire(Named("e", std::string(600, 'x'))).status().code(),
            Code::kTooLarge);
}

TEST(EventServiceTest, MatchesAppliesConsulsAgentFilters) {
  structs::Service web;
  web.id = "web-1";
  web.name = "web";
  web.tags = {"blue"};
  std::vector<structs::Service> services{web};
  UserEvent e = Named("e");
  EXPECT_TRUE(EventService::Matches(e, "node-a", services));
  e.node_filter = "node-";
  EXPECT_TRUE(EventService::Matches(e, "node-a", services));  // unanchored
  e.node_filter = "^db";
  EXPECT_FALSE(EventService::Matches(e, "node-a", services));
  e.node_filter.clear();
  e.service_filter = "^web$";
  EXPECT_TRUE(EventService::Matches(e, "node-a", services));
  e.tag_filter = "green";
  EXPECT_FALSE(EventService::Matches(e, "node-a", services));
  e.tag_filter = "bl";
  EXPECT_TRUE(EventService::Matches(e, "node-a", services));
}

}  // namespace
}  // namespace sider::server
