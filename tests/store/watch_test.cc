#include "store/watch.h"

#include <gtest/gtest.h>

#include <memory>

namespace sider::store {
namespace {

TEST(WatchTest, RunsOwnedCallbacksWhileTheirOwnerLives) {
  Watch w;
  auto owner = std::make_shared<int>(0);
  bool ran = false;
  w.OnFire(owner, [&] { ran = true; });
  w.Fire();
  EXPECT_TRUE(ran);
}

TEST(WatchTest, DropsCallbacksWhoseOwnerIsGone) {
  Watch w;
  bool ran = false;
  {
    auto owner = std::make_shared<int>(0);
    w.OnFire(owner, [&] { ran = true; });
  }
  w.Fire();
  EXPECT_FALSE(ran);
}

TEST(WatchTest, ParkedAndAbandonedWaitersDoNotAccumulate) {
  // A row that is never written again: 100,000 blocking queries park on it
  // and time out one after another. The watch keeps only a bounded number
  // of their callbacks, not all of them.
  Watch w;
  for (int i = 0; i < 100000; ++i) {
    auto owner = std::make_shared<int>(i);
    w.OnFire(owner, [] {});
  }
  EXPECT_LE(w.callbacks_for_test(), 32u);
}

TEST(WatchTest, LiveWaitersAreKeptAcrossPrunes) {
  Watch w;
  std::vector<std::shared_ptr<int>> live;
  int fired = 0;
  for (int i = 0; i < 1000; ++i) {
    auto owner = std::make_shared<int>(i);
    w.OnFire(owner, [&] { ++fired; });
    if (i % 10 == 0) live.push_back(owner);
  }
  w.Fire();
  EXPECT_EQ(fired, 100);
}

TEST(WatchSetTest, OwnedOnAnyFireRunsOnceForManyWatches) {
  auto a = std::make_shared<Watch>();
  auto b = std::make_shared<Watch>();
  WatchSet ws;
  ws.Add(a);
  ws.Add(b);
  auto owner = std::make_shared<int>(0);
  int fired = 0;
  ws.OnAnyFire(owner, [&] { ++fired; });
  a->Fire();
  b->Fire();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace sider::store
