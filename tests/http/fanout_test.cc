// One change, many parked blocking queries: how the wake-ups reach the io
// threads (server/blocking_query.h's WakeQueue) and how a cached read's
// watches are shared (store/watch.h's WatchSet::AddShared). The engine is
// header-only, so no server library is linked; the io_context is driven by
// hand and time moves only through FakeClock, so nothing sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/blocking_query.h"
#include "store/watch.h"
#include "testutil/fake_clock.h"
#include "testutil/fake_table.h"

namespace sider::server {
namespace {

using std::chrono::minutes;

class FanOutTest : public ::testing::Test {
 protected:
  void RunReady() {
    io_.restart();
    io_.poll();
  }

  FanOutTest() { table_.Write(5, "old"); }

  // Parks one query on the table at its current index.
  void Park(asio::any_io_executor strand = {},
            std::function<void()> on_answer = {}) {
    BlockingQuery<std::string>::Start(
        io_.get_executor(), clock_, table_.index(), clock_.Now() + minutes(5),
        [this](store::WatchSet* ws) { return table_.Read(ws); },
        [this, on_answer](store::Indexed<std::string> r) {
          ++answers_;
          last_ = r.value;
          if (on_answer) on_answer();
        },
        std::move(strand));
  }

  testutil::FakeClock clock_;  // Outlives io_: queued handlers own alarms.
  asio::io_context io_;
  testutil::FakeTable table_;
  int answers_ = 0;
  std::string last_;
};

TEST_F(FanOutTest, OneChangeAnswersEveryParkedQueryOnce) {
  for (int i = 0; i < 1000; ++i) Park();
  RunReady();
  EXPECT_EQ(answers_, 0);
  table_.Write(6, "new");
  RunReady();
  EXPECT_EQ(answers_, 1000);
  EXPECT_EQ(last_, "new");
  table_.Write(7, "newer");  // The answered queries are gone, not re-parked.
  RunReady();
  EXPECT_EQ(answers_, 1000);
}

// The writer's reply is posted by the consensus thread right after the
// apply that fired the watches. It must not wait for every woken query:
// wake-ups reach the io threads a chunk at a time, behind what is queued.
TEST_F(FanOutTest, HandlerQueuedAfterTheChangeWaitsForOneChunkNotForAll) {
  for (int i = 0; i < 1000; ++i) Park();
  RunReady();
  table_.Write(6, "new");
  int answered_before_writer = -1;
  asio::post(io_, [&] { answered_before_writer = answers_; });
  RunReady();
  EXPECT_EQ(answers_, 1000);
  EXPECT_GE(answered_before_writer, 0);
  EXPECT_LE(answered_before_writer, static_cast<int>(WakeQueue::kChunk));
}

// An http connection hands its strand to the query so that the answer is
// written from the strand it belongs to, without one more queued handler.
TEST_F(FanOutTest, AQueryGivenAStrandAnswersOnIt) {
  auto strand = asio::make_strand(io_);
  bool on_strand = false;
  Park(strand, [&] { on_strand = strand.running_in_this_thread(); });
  RunReady();
  table_.Write(6, "new");
  RunReady();
  ASSERT_EQ(answers_, 1);
  EXPECT_TRUE(on_strand);
}

TEST_F(FanOutTest, AWakeUpThatIsNotNewerParksAgain) {
  Park();
  RunReady();
  table_.Touch();  // A table-level watch fired by a write the query filters out.
  RunReady();
  EXPECT_EQ(answers_, 0);
  table_.Write(6, "new");
  RunReady();
  EXPECT_EQ(answers_, 1);
}

TEST(WatchSetTest, ASharedSetCountsAsItsWatches) {
  auto cached = std::make_shared<store::WatchSet>();
  auto watch = std::make_shared<store::Watch>();
  cached->Add(watch);
  store::WatchSet mine;
  EXPECT_TRUE(mine.empty());
  mine.AddShared(cached);
  EXPECT_FALSE(mine.empty());
  EXPECT_FALSE(mine.AnyFired());
  int fired = 0;
  mine.OnAnyFire([&] { ++fired; });
  store::WatchSet copy;
  copy.AddAll(mine);  // Copies the reference to the shared set too.
  watch->Fire();
  EXPECT_TRUE(mine.AnyFired());
  EXPECT_TRUE(copy.AnyFired());
  EXPECT_EQ(fired, 1);
}

TEST(WatchSetTest, FiresOnceWhenOwnAndSharedWatchesBothFire) {
  auto cached = std::make_shared<store::WatchSet>();
  auto shared_watch = std::make_shared<store::Watch>();
  cached->Add(shared_watch);
  auto own = std::make_shared<store::Watch>();
  store::WatchSet mine;
  mine.Add(own);
  mine.AddShared(cached);
  int fired = 0;
  mine.OnAnyFire([&] { ++fired; });
  shared_watch->Fire();
  own->Fire();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace sider::server
