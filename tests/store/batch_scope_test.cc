// The stores' batch scope (store/batch_mutex.h): writes inside one batch
// are seen by other threads all at once, their watches fire only when the
// batch ends, and the batch's own thread reads and writes as usual.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"
#include "store/kv_store.h"

namespace sider::store {
namespace {

using testutil::MakeService;
using testutil::Reg;

TEST(BatchScopeTest, TheBatchThreadReadsItsOwnWrites) {
  CatalogStore catalog;
  catalog.BeginBatch();
  ASSERT_TRUE(catalog.Register(5, Reg("n1", MakeService("web", "a"))).ok());
  ASSERT_TRUE(catalog.Register(5, Reg("n1", MakeService("web", "b"))).ok());
  EXPECT_EQ(catalog.ServiceNodes("", "web", {}, nullptr).value.size(), 2u);
  catalog.EndBatch();
  EXPECT_EQ(catalog.ServiceNodes("", "web", {}, nullptr).value.size(), 2u);
}

TEST(BatchScopeTest, AnotherThreadSeesTheWholeBatchOrNothing) {
  CatalogStore catalog;
  std::atomic<bool> read_started = false;
  std::atomic<size_t> seen = 99;
  catalog.BeginBatch();
  ASSERT_TRUE(catalog.Register(5, Reg("n1", MakeService("web", "a"))).ok());
  std::thread reader([&] {
    read_started = true;
    seen = catalog.ServiceNodes("", "web", {}, nullptr).value.size();
  });
  while (!read_started) std::this_thread::yield();
  // The reader is held off while the batch is open (it may not even have
  // reached the lock yet; either way it cannot have read).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(seen.load(), 99u);
  ASSERT_TRUE(catalog.Register(5, Reg("n1", MakeService("web", "b"))).ok());
  catalog.EndBatch();
  reader.join();
  EXPECT_EQ(seen.load(), 2u);
}

TEST(BatchScopeTest, WatchesFireWhenTheBatchEnds) {
  CatalogStore catalog;
  KvStore kv;
  WatchSet catalog_ws, kv_ws;
  (void)catalog.ServiceNodes("", "web", {}, &catalog_ws);
  (void)kv.Get("k", &kv_ws);
  catalog.BeginBatch();
  kv.BeginBatch();
  ASSERT_TRUE(catalog.Register(7, Reg("n1", MakeService("web"))).ok());
  ASSERT_TRUE(kv.Apply(7, testutil::KvSet("k", "v")).ok());
  EXPECT_FALSE(catalog_ws.AnyFired());
  EXPECT_FALSE(kv_ws.AnyFired());
  kv.EndBatch();
  catalog.EndBatch();
  EXPECT_TRUE(catalog_ws.AnyFired());
  EXPECT_TRUE(kv_ws.AnyFired());
}

TEST(BatchScopeTest, OutsideABatchWatchesFireAtOnce) {
  CatalogStore catalog;
  WatchSet ws;
  (void)catalog.ServiceNodes("", "web", {}, &ws);
  ASSERT_TRUE(catalog.Register(1, Reg("n1", MakeService("web"))).ok());
  EXPECT_TRUE(ws.AnyFired());
}

}  // namespace
}  // namespace sider::store
