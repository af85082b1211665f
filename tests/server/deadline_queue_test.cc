#include "server/deadline_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "testutil/fake_clock.h"

namespace sider::server {
namespace {

using std::chrono::seconds;

// An item that records its name in `expired` when it expires.
class Item : public DeadlineQueue::Expirable {
 public:
  Item(std::string name, std::vector<std::string>* expired)
      : name_(std::move(name)), expired_(expired) {}
  void Expire() override { expired_->push_back(name_); }

 private:
  const std::string name_;
  std::vector<std::string>* const expired_;
};

// The io_context is driven by hand and time moves only through
// FakeClock::Advance, so nothing sleeps.
class DeadlineQueueTest : public ::testing::Test {
 protected:
  void RunReady() {
    io_.restart();
    io_.poll();
  }
  // The queue holds the only reference to the item.
  Item& Add(const std::string& name, seconds after) {
    auto item = std::make_shared<Item>(name, &expired_);
    Item& ref = *item;
    queue_.Add(clock_.Now() + after, std::move(item));
    RunReady();
    return ref;
  }
  void Advance(seconds d) {
    clock_.Advance(d);
    RunReady();
  }

  testutil::FakeClock clock_;  // Outlives io_ and queue_.
  asio::io_context io_;
  DeadlineQueue queue_{clock_, io_.get_executor()};
  std::vector<std::string> expired_;
};

TEST_F(DeadlineQueueTest, ExpiresAnItemAtItsDeadlineAndNotBefore) {
  Add("a", seconds(10));
  Advance(seconds(9));
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(1));
  EXPECT_EQ(expired_, std::vector<std::string>{"a"});
  EXPECT_EQ(queue_.size(), 0u);
}

TEST_F(DeadlineQueueTest, ExpiresItemsInDeadlineOrderOnOneAlarm) {
  Add("late", seconds(30));
  Add("early", seconds(10));
  Add("middle", seconds(20));
  EXPECT_EQ(clock_.pending_alarms(), 1u);
  Advance(seconds(25));
  EXPECT_EQ(expired_, (std::vector<std::string>{"early", "middle"}));
  EXPECT_EQ(clock_.pending_alarms(), 1u);  // Now for "late".
  Advance(seconds(5));
  EXPECT_EQ(expired_, (std::vector<std::string>{"early", "middle", "late"}));
  EXPECT_EQ(clock_.pending_alarms(), 0u);
}

TEST_F(DeadlineQueueTest, AnEarlierItemAddedLaterIsNotDelayed) {
  Add("late", seconds(60));
  Add("early", seconds(5));
  Advance(seconds(5));
  EXPECT_EQ(expired_, std::vector<std::string>{"early"});
}

TEST_F(DeadlineQueueTest, ARemovedItemNeverExpiresAndIsReleased) {
  auto item = std::make_shared<Item>("gone", &expired_);
  queue_.Add(clock_.Now() + seconds(10), item);
  RunReady();
  EXPECT_EQ(item.use_count(), 2);
  queue_.Remove(*item);
  EXPECT_EQ(item.use_count(), 1);
  Advance(seconds(20));
  EXPECT_TRUE(expired_.empty());
}

TEST_F(DeadlineQueueTest, RemovingTheEarliestItemDoesNotLoseTheNext) {
  Item& first = Add("first", seconds(10));
  Add("second", seconds(20));
  queue_.Remove(first);
  Advance(seconds(10));  // The alarm set for "first" finds nothing due.
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(10));
  EXPECT_EQ(expired_, std::vector<std::string>{"second"});
}

TEST_F(DeadlineQueueTest, RemovingAnExpiredItemIsHarmless) {
  auto a = std::make_shared<Item>("a", &expired_);
  queue_.Add(clock_.Now() + seconds(1), a);
  Add("b", seconds(2));
  Advance(seconds(1));
  queue_.Remove(*a);
  queue_.Remove(*a);
  Advance(seconds(1));
  EXPECT_EQ(expired_, (std::vector<std::string>{"a", "b"}));
}

TEST_F(DeadlineQueueTest, RemovedItemsDoNotPileUp) {
  // Items removed long before their deadline (answered queries) leave
  // empty nodes; an Add() rebuilds the tree once they outnumber the live.
  std::vector<std::shared_ptr<Item>> items;
  for (int round = 0; round < 10; ++round) {
    for (size_t i = 0; i < DeadlineQueue::kCompactAt; ++i) {
      auto item = std::make_shared<Item>("x", &expired_);
      queue_.Add(clock_.Now() + seconds(600), item);
      items.push_back(item);
    }
    for (auto& item : items) queue_.Remove(*item);
    items.clear();
  }
  RunReady();
  Add("live", seconds(600));
  EXPECT_EQ(queue_.size(), 1u);
  EXPECT_LE(queue_.nodes_for_test(), 2 * DeadlineQueue::kCompactAt + 1);
  Advance(seconds(600));
  EXPECT_EQ(expired_, std::vector<std::string>{"live"});
  EXPECT_EQ(queue_.nodes_for_test(), 0u);
}

TEST_F(DeadlineQueueTest, ALiveItemSurvivesARebuild) {
  Add("kept", seconds(30));
  for (size_t i = 0; i <= 2 * DeadlineQueue::kCompactAt; ++i) {
    auto item = std::make_shared<Item>("gone", &expired_);
    queue_.Add(clock_.Now() + seconds(10), item);
    queue_.Remove(*item);
  }
  Advance(seconds(10));
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(20));
  EXPECT_EQ(expired_, std::vector<std::string>{"kept"});
}

TEST_F(DeadlineQueueTest, ItemsWithTheSameDeadlineAllExpire) {
  for (int i = 0; i < 100; ++i) Add(std::to_string(i), seconds(3));
  Advance(seconds(3));
  EXPECT_EQ(expired_.size(), 100u);
  EXPECT_EQ(expired_.front(), "0");  // In the order they were added.
  EXPECT_EQ(expired_.back(), "99");
}

TEST_F(DeadlineQueueTest, AnItemAddedAfterTheQueueEmptiedSetsANewAlarm) {
  Add("a", seconds(1));
  Advance(seconds(1));
  EXPECT_EQ(clock_.pending_alarms(), 0u);
  Add("b", seconds(1));
  EXPECT_EQ(clock_.pending_alarms(), 1u);
  Advance(seconds(1));
  EXPECT_EQ(expired_, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace sider::server
