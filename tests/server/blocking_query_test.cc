#include "server/blocking_query.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "store/watch.h"
#include "testutil/fake_clock.h"
#include "testutil/fake_table.h"

namespace sider::server {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

using testutil::FakeTable;

// The io_context is driven by hand (RunReady never blocks) and time moves
// only through FakeClock::Advance, so nothing sleeps.
class BlockingQueryTest : public ::testing::Test {
 protected:
  void RunReady() {
    io_.restart();
    io_.poll();
  }

  void Start(uint64_t min_index, std::chrono::nanoseconds timeout = minutes(5)) {
    BlockingQuery<std::string>::Start(
        io_.get_executor(), clock_, min_index, clock_.Now() + timeout,
        [this](store::WatchSet* ws) {
          ++runs_;
          return table_.Read(ws);
        },
        [this](store::Indexed<std::string> r) {
          ++answers_;
          result_ = std::move(r);
        });
    RunReady();
  }

  testutil::FakeClock clock_;  // Outlives io_: queued handlers own alarms.
  asio::io_context io_;
  FakeTable table_;
  int runs_ = 0;
  int answers_ = 0;
  std::optional<store::Indexed<std::string>> result_;
};

TEST_F(BlockingQueryTest, ZeroIndexAnswersAtOnce) {
  table_.Write(7, "a");
  Start(/*min_index=*/0);
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 7u);
  EXPECT_EQ(result_->value, "a");
}

TEST_F(BlockingQueryTest, AnswersAtOnceWhenTheResultIsNewer) {
  table_.Write(7, "a");
  Start(/*min_index=*/6);
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 7u);
  EXPECT_EQ(runs_, 1);
}

TEST_F(BlockingQueryTest, NeverReportsIndexZero) {
  Start(/*min_index=*/0);  // The table was never written: index 0.
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 1u) << "a client passing 0 back would spin";
}

TEST_F(BlockingQueryTest, ParksAndWakesWhenTheWatchFires) {
  table_.Write(7, "a");
  Start(/*min_index=*/7);
  ASSERT_FALSE(result_.has_value()) << "nothing newer than 7: must park";

  table_.Write(8, "b");
  RunReady();

  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 8u);
  EXPECT_EQ(result_->value, "b");
  EXPECT_EQ(answers_, 1);
}

TEST_F(BlockingQueryTest, KeepsWaitingWhenWokenWithoutANewerIndex) {
  table_.Write(7, "a");
  Start(/*min_index=*/7);

  table_.Touch();
  RunReady();
  EXPECT_FALSE(result_.has_value());
  EXPECT_EQ(runs_, 2) << "woken: ran again, then parked again";

  table_.Touch();
  RunReady();
  EXPECT_FALSE(result_.has_value());

  table_.Write(9, "c");
  RunReady();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 9u);
}

TEST_F(BlockingQueryTest, AnswersWithTheLatestResultAtTheDeadline) {
  table_.Write(7, "a");
  Start(/*min_index=*/7, minutes(5));

  clock_.Advance(minutes(5) - seconds(1));
  RunReady();
  EXPECT_FALSE(result_.has_value());

  clock_.Advance(seconds(1));
  RunReady();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 7u);  // Unchanged: the client polls again.
  EXPECT_EQ(answers_, 1);
}

TEST_F(BlockingQueryTest, AnswersOnceWhenWatchAndDeadlineRace) {
  table_.Write(7, "a");
  Start(/*min_index=*/7, seconds(10));
  table_.Write(8, "b");
  clock_.Advance(seconds(10));  // Both wake-ups are queued before either runs.
  RunReady();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 8u);
  EXPECT_EQ(answers_, 1);
}

TEST_F(BlockingQueryTest, AWriteBetweenQueryAndParkingIsNotMissed) {
  table_.Write(7, "a");
  BlockingQuery<std::string>::Start(
      io_.get_executor(), clock_, 7, clock_.Now() + minutes(5),
      [this](store::WatchSet* ws) { return table_.Read(ws); },
      [this](store::Indexed<std::string> r) { result_ = std::move(r); });
  table_.Write(8, "b");  // Before the io_context has run the parking step.
  RunReady();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->index, 8u);
}

TEST_F(BlockingQueryTest, FinishedQueryIsNotKeptAliveByItsWatches) {
  table_.Write(7, "a");
  auto sentinel = std::make_shared<int>(0);
  BlockingQuery<std::string>::Start(
      io_.get_executor(), clock_, 7, clock_.Now() + seconds(30),
      [this, sentinel](store::WatchSet* ws) { return table_.Read(ws); },
      [this](store::Indexed<std::string> r) { result_ = std::move(r); });
  RunReady();
  EXPECT_GT(sentinel.use_count(), 1) << "parked: the query is alive";

  clock_.Advance(seconds(30));
  RunReady();
  ASSERT_TRUE(result_.has_value());
  // The key's Watch never fired and still holds a callback, but only a weak
  // one: the query and what it captured are gone.
  EXPECT_EQ(sentinel.use_count(), 1);
}

// Heap bytes in use (glibc); meaningless under ASan, which replaces malloc.
size_t HeapInUse() { return mallinfo2().uordblks; }

TEST_F(BlockingQueryTest, TenThousandParkedQueriesAllWakeAndCostLittle) {
  table_.Write(7, "a");
  int answered = 0;
  const size_t before = HeapInUse();
  for (int i = 0; i < 10000; ++i) {
    BlockingQuery<std::string>::Start(
        io_.get_executor(), clock_, 7, clock_.Now() + minutes(5),
        [this](store::WatchSet* ws) { return table_.Read(ws); },
        [&answered](store::Indexed<std::string>) { ++answered; });
  }
  RunReady();
  EXPECT_EQ(answered, 0);
  const size_t per_query = (HeapInUse() - before) / 10000;
  RecordProperty("heap_bytes_per_parked_query", static_cast<int>(per_query));
#if !defined(__SANITIZE_ADDRESS__)
  // Tens of thousands of parked queries must cost megabytes, not more.
  EXPECT_LT(per_query, 2048u);
#endif
  table_.Write(8, "b");
  RunReady();
  EXPECT_EQ(answered, 10000);
}

TEST(BlockingTimeoutTest, AppliesConsulsDefaultMaximumAndJitter) {
  using std::chrono::nanoseconds;
  // random = 0: no stagger.
  EXPECT_EQ(BlockingTimeout(nanoseconds(0), 0), minutes(5));
  EXPECT_EQ(BlockingTimeout(nanoseconds(-1), 0), minutes(5));
  EXPECT_EQ(BlockingTimeout(seconds(30), 0), seconds(30));
  EXPECT_EQ(BlockingTimeout(minutes(60), 0), minutes(10));
  // The stagger stays below wait / 16.
  const auto wait = seconds(32);
  EXPECT_EQ(BlockingTimeout(wait, 1), wait + nanoseconds(1));
  EXPECT_LT(BlockingTimeout(wait, ~uint64_t{0}), wait + seconds(2));
  EXPECT_GE(BlockingTimeout(wait), wait);
  EXPECT_LT(BlockingTimeout(wait), wait + seconds(2));
}

}  // namespace
}  // namespace sider::server
