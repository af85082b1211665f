#include "http/response_cache.h"

#include <gtest/gtest.h>

#include <memory>

namespace sider::http {
namespace {

std::shared_ptr<ResponseCache::Entry> EntryWatching(store::WatchPtr watch,
                                                    uint64_t index,
                                                    std::string body) {
  auto e = std::make_shared<ResponseCache::Entry>();
  e->index = index;
  e->reply = std::make_shared<const SharedReply>(JsonResponse(std::move(body)));
  e->watches.Add(std::move(watch));
  return e;
}

TEST(ResponseCacheTest, ServesAnEntryWhileItsWatchesHaveNotFired) {
  ResponseCache cache;
  auto watch = std::make_shared<store::Watch>();
  cache.Store("k", EntryWatching(watch, 7, "body"));
  auto hit = cache.Lookup("k");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->index, 7u);
  EXPECT_EQ(hit->reply->response.body, "body");
}

TEST(ResponseCacheTest, DropsAnEntryOnceAnyOfItsWatchesFired) {
  ResponseCache cache;
  auto watch = std::make_shared<store::Watch>();
  cache.Store("k", EntryWatching(watch, 7, "body"));
  watch->Fire();
  EXPECT_EQ(cache.Lookup("k"), nullptr);
}

TEST(ResponseCacheTest, MissesUnknownKeys) {
  ResponseCache cache;
  EXPECT_EQ(cache.Lookup("nope"), nullptr);
}

TEST(ResponseCacheTest, KeyIgnoresBlockingParametersOnly) {
  Request a;
  a.path = "/v1/health/service/web";
  a.query = {{"passing", ""}, {"index", "5"}, {"wait", "1s"}};
  Request b = a;
  b.query = {{"passing", ""}};
  Request c = a;
  c.query = {{"tag", "v1"}};
  EXPECT_EQ(ResponseCache::KeyFor(a), ResponseCache::KeyFor(b));
  EXPECT_NE(ResponseCache::KeyFor(a), ResponseCache::KeyFor(c));
}

TEST(ResponseCacheTest, AFullShardIsClearedNotGrownWithoutBound) {
  ResponseCache cache(/*max_entries_per_shard=*/2);
  auto watch = std::make_shared<store::Watch>();
  for (int i = 0; i < 1000; ++i) {
    cache.Store("k" + std::to_string(i), EntryWatching(watch, 1, "b"));
  }
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    if (cache.Lookup("k" + std::to_string(i))) ++hits;
  }
  EXPECT_LE(hits, 2 * 16);
  EXPECT_GE(hits, 1);
}

}  // namespace
}  // namespace sider::http
