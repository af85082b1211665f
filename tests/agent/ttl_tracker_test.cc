#include "agent/ttl_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "testutil/fake_clock.h"

namespace sider::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using PassResult = TtlTracker::PassResult;
using Expiry = std::pair<std::string, std::string>;

// Time moves only through FakeClock::Advance(); the io_context runs only
// inside RunReady(). Nothing sleeps.
class TtlTrackerTest : public ::testing::Test {
 protected:
  void RunReady() {
    io_.restart();
    io_.poll();
  }
  void Advance(std::chrono::nanoseconds d) {
    clock_.Advance(d);
    RunReady();
  }

  testutil::FakeClock clock_;  // Outlives io_: queued handlers own alarms.
  asio::io_context io_;
  std::vector<Expiry> expired_;
  TtlTracker tracker_{clock_, io_.get_executor(),
                      [this](const std::string& node, const std::string& id) {
                        expired_.emplace_back(node, id);
                      }};
};

TEST_F(TtlTrackerTest, ExpiresOnceTheTtlPassesWithoutAPass) {
  tracker_.Track("n1", "web-ttl", seconds(10));
  RunReady();
  Advance(seconds(10) - milliseconds(1));
  EXPECT_TRUE(expired_.empty());
  Advance(milliseconds(1));
  ASSERT_EQ(expired_.size(), 1u);
  EXPECT_EQ(expired_[0], Expiry("n1", "web-ttl"));
}

TEST_F(TtlTrackerTest, ShortTtlExpiresAtItsDeadline) {
  tracker_.Track("n1", "c", milliseconds(40));
  RunReady();
  Advance(milliseconds(39));
  EXPECT_TRUE(expired_.empty());
  Advance(milliseconds(1));
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, PassPostponesTheDeadline) {
  tracker_.Track("n1", "c", seconds(10));
  RunReady();
  Advance(seconds(6));
  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kOk);
  Advance(seconds(6));  // t=12: past the first deadline, not the second.
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(4));  // t=16 = 6 + 10.
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, ExpiredCheckIsNotReportedAgainUntilRevived) {
  tracker_.Track("n1", "c", seconds(10));
  RunReady();
  Advance(seconds(10));
  ASSERT_EQ(expired_.size(), 1u);
  Advance(seconds(100));
  EXPECT_EQ(expired_.size(), 1u);

  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kRevived);
  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kOk);
  RunReady();
  Advance(seconds(9));
  EXPECT_EQ(expired_.size(), 1u);
  Advance(seconds(1));
  EXPECT_EQ(expired_.size(), 2u);
}

TEST_F(TtlTrackerTest, UnknownAndUntrackedChecksAreNotTracked) {
  EXPECT_EQ(tracker_.Pass("n1", "nope"), PassResult::kNotTracked);
  tracker_.Track("n1", "c", seconds(10));
  tracker_.Untrack("n1", "c");
  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kNotTracked);
  EXPECT_EQ(tracker_.size(), 0u);
  RunReady();
  Advance(seconds(20));
  EXPECT_TRUE(expired_.empty());
}

TEST_F(TtlTrackerTest, SameCheckIdOnTwoNodesIsTwoChecks) {
  tracker_.Track("n1", "c", seconds(10));
  tracker_.Track("n2", "c", seconds(10));
  RunReady();
  Advance(seconds(5));
  EXPECT_EQ(tracker_.Pass("n2", "c"), PassResult::kOk);
  Advance(seconds(5));
  ASSERT_EQ(expired_.size(), 1u);
  EXPECT_EQ(expired_[0], Expiry("n1", "c"));
}

TEST_F(TtlTrackerTest, TrackedAsExpiredWaitsForAPassThenRevives) {
  tracker_.Track("n1", "c", seconds(10), /*expired=*/true);
  RunReady();
  Advance(seconds(30));
  EXPECT_TRUE(expired_.empty());
  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kRevived);
  RunReady();
  Advance(seconds(10));
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, RetrackWithAShorterTtlTakesEffect) {
  tracker_.Track("n1", "c", seconds(60));
  RunReady();
  tracker_.Track("n1", "c", seconds(1));
  RunReady();
  Advance(seconds(1));
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, ResetAllGivesEveryCheckAFullPeriod) {
  tracker_.Track("n1", "a", seconds(10));
  tracker_.Track("n1", "b", seconds(20));
  RunReady();
  Advance(seconds(8));
  tracker_.ResetAll();  // a: 18, b: 28.
  Advance(seconds(9));  // t=17.
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(1));
  ASSERT_EQ(expired_.size(), 1u);
  EXPECT_EQ(expired_[0].second, "a");
  Advance(seconds(10));
  EXPECT_EQ(expired_.size(), 2u);
}

TEST_F(TtlTrackerTest, PauseStopsExpiryAndResetAllThenResumeRestartsIt) {
  tracker_.Track("n1", "c", seconds(10));
  RunReady();
  tracker_.Pause();
  RunReady();
  Advance(seconds(60));
  EXPECT_TRUE(expired_.empty());
  EXPECT_EQ(tracker_.Pass("n1", "c"), PassResult::kOk);  // Still recorded.

  Advance(seconds(60));
  tracker_.ResetAll();
  tracker_.Resume();
  RunReady();
  Advance(seconds(9));
  EXPECT_TRUE(expired_.empty());
  Advance(seconds(1));
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, ResumeWithoutResetExpiresOverdueChecksAtOnce) {
  tracker_.Track("n1", "c", seconds(10));
  tracker_.Pause();
  RunReady();
  Advance(seconds(11));
  EXPECT_TRUE(expired_.empty());
  tracker_.Resume();
  RunReady();
  Advance(std::chrono::nanoseconds(0));
  EXPECT_EQ(expired_.size(), 1u);
}

TEST_F(TtlTrackerTest, CallbackMayCallBackIntoTheTracker) {
  TtlTracker* self = nullptr;
  int calls = 0;
  TtlTracker t(clock_, io_.get_executor(),
               [&](const std::string& node, const std::string& id) {
                 ++calls;
                 self->Untrack(node, id);
                 self->Track(node, id + "-again", seconds(1));
               });
  self = &t;
  t.Track("n1", "c", seconds(1));
  RunReady();
  Advance(seconds(1));
  EXPECT_EQ(calls, 1);
  Advance(seconds(1));
  EXPECT_EQ(calls, 2);  // c-again expired too.
  EXPECT_EQ(t.Pass("n1", "c"), PassResult::kNotTracked);
}

TEST_F(TtlTrackerTest, DestroyedTrackerReportsNothing) {
  int calls = 0;
  {
    TtlTracker t(clock_, io_.get_executor(),
                 [&](const std::string&, const std::string&) { ++calls; });
    t.Track("n1", "c", seconds(1));
    RunReady();
  }
  Advance(seconds(5));
  EXPECT_EQ(calls, 0);
}

TEST_F(TtlTrackerTest, HundredThousandChecksExpireExactlyWhereNotPassed) {
  constexpr int kChecks = 100'000;
  for (int i = 0; i < kChecks; ++i) {
    tracker_.Track("node-" + std::to_string(i % 100),
                   "service:web-" + std::to_string(i), seconds(10 + i % 5));
  }
  RunReady();
  Advance(seconds(9));  // Nothing is due before t=10.
  for (int i = 0; i < kChecks; i += 2) {
    ASSERT_EQ(tracker_.Pass("node-" + std::to_string(i % 100),
                            "service:web-" + std::to_string(i)),
              PassResult::kOk);
  }
  Advance(seconds(6));  // t=15: unpassed deadlines are 10..14, passed 19..23.
  EXPECT_EQ(expired_.size(), static_cast<size_t>(kChecks / 2));
  for (const auto& [node, id] : expired_) {
    ASSERT_EQ(std::stoi(id.substr(id.find('-') + 1)) % 2, 1) << id;
  }
  Advance(seconds(8));  // t=23: the passed ones now too.
  EXPECT_EQ(expired_.size(), static_cast<size_t>(kChecks));
}

TEST_F(TtlTrackerTest, ConcurrentPassesFromManyThreads) {
  constexpr int kChecks = 1000;
  std::vector<std::string> ids;
  for (int i = 0; i < kChecks; ++i) {
    ids.push_back("c" + std::to_string(i));
    tracker_.Track("n1", ids.back(), seconds(10));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (const auto& id : ids) {
          if (tracker_.Pass("n1", id) == PassResult::kOk) ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 4 * 20 * kChecks);
}

// Real time, real timer: the expiry lands close to the deadline. The bound
// is generous because CI machines are shared.
TEST(TtlTrackerRealClockTest, FortyMillisecondTtlExpiresPromptly) {
  SystemClock clock;
  asio::io_context io;
  std::atomic<bool> fired{false};
  TtlTracker t(clock, io.get_executor(),
               [&](const std::string&, const std::string&) { fired = true; });
  const auto start = std::chrono::steady_clock::now();
  t.Track("n1", "c", milliseconds(40));
  while (!fired && std::chrono::steady_clock::now() - start < seconds(10)) {
    io.run_for(milliseconds(5));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(fired);
  EXPECT_GE(elapsed, milliseconds(40));
  EXPECT_LT(elapsed, milliseconds(1000));
}

}  // namespace
}  // namespace sider::agent
