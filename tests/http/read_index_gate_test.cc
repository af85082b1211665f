// ReadIndexGate: a follower's reads batch behind at most one read-index
// request in flight; a request serves exactly the reads that arrived before
// it started; a read runs only once its index has applied here; and nobody
// waits past the earliest deadline of its batch. Fake transport, fake
// apply wait, fake clock, hand-driven io_context.
#include "server/read_index_gate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "testutil/fake_clock.h"

namespace sider::server {
namespace {

using std::chrono::milliseconds;

class ReadIndexGateTest : public ::testing::Test {
 protected:
  struct FetchCall {
    milliseconds timeout;
    ReadIndexGate::IndexDone done;
  };
  struct AwaitCall {
    uint64_t index;
    milliseconds timeout;
    ReadIndexGate::Done done;
  };

  ReadIndexGate::Done Reader(int id) {
    return [this, id](Status s) {
      if (s.ok()) {
        served_.push_back(id);
      } else {
        failed_.push_back(id);
        last_error_ = s.code();
      }
    };
  }
  Clock::TimePoint In(milliseconds d) { return clock_.Now() + d; }
  void Poll() {
    io_.restart();
    io_.poll();
  }

  testutil::FakeClock clock_;
  asio::io_context io_;
  std::vector<FetchCall> fetches_;  // Read-index requests sent, in order.
  std::vector<AwaitCall> awaits_;   // Apply waits started, in order.
  ReadIndexGate gate_{
      clock_, io_.get_executor(),
      [this](milliseconds timeout, ReadIndexGate::IndexDone done) {
        fetches_.push_back({timeout, std::move(done)});
      },
      [this](uint64_t index, milliseconds timeout, ReadIndexGate::Done done) {
        awaits_.push_back({index, timeout, std::move(done)});
      },
      {.fetch_timeout = milliseconds(1000)}};
  std::vector<int> served_;
  std::vector<int> failed_;
  Code last_error_ = Code::kOk;
};

TEST_F(ReadIndexGateTest, ReadsArrivingTogetherShareOneRequest) {
  gate_.Wait(In(milliseconds(2000)), Reader(1));
  ASSERT_EQ(fetches_.size(), 1u);
  gate_.Wait(In(milliseconds(2000)), Reader(2));
  gate_.Wait(In(milliseconds(2000)), Reader(3));
  EXPECT_EQ(fetches_.size(), 1u);  // At most one in flight.
  fetches_[0].done(uint64_t{10});
  // 2 and 3 arrived after the first request started: their own, at once.
  ASSERT_EQ(fetches_.size(), 2u);
  ASSERT_EQ(awaits_.size(), 1u);
  EXPECT_EQ(awaits_[0].index, 10u);
  awaits_[0].done(Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1}));
  fetches_[1].done(uint64_t{12});
  ASSERT_EQ(awaits_.size(), 2u);
  EXPECT_EQ(awaits_[1].index, 12u);
  awaits_[1].done(Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1, 2, 3}));
  EXPECT_EQ(fetches_.size(), 2u);  // Nobody waiting: idle.
  EXPECT_EQ(gate_.rounds(), 2u);
}

TEST_F(ReadIndexGateTest, AReadRunsOnlyOnceItsIndexHasAppliedHere) {
  gate_.Wait(In(milliseconds(2000)), Reader(1));
  fetches_[0].done(uint64_t{7});
  Poll();
  EXPECT_TRUE(served_.empty());  // The index is known, not yet applied.
  gate_.Wait(In(milliseconds(2000)), Reader(2));  // Needs a new request.
  ASSERT_EQ(fetches_.size(), 2u);
  awaits_[0].done(Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1}));
}

TEST_F(ReadIndexGateTest, AFailedRequestFailsItsBatchOnly) {
  gate_.Wait(In(milliseconds(2000)), Reader(1));
  gate_.Wait(In(milliseconds(2000)), Reader(2));
  fetches_[0].done(Status(Code::kUnavailable, "No cluster leader"));
  Poll();
  EXPECT_EQ(failed_, std::vector<int>({1}));
  EXPECT_EQ(last_error_, Code::kUnavailable);
  EXPECT_TRUE(awaits_.empty());
  ASSERT_EQ(fetches_.size(), 2u);
  fetches_[1].done(uint64_t{3});
  awaits_[0].done(Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({2}));
}

TEST_F(ReadIndexGateTest, AnApplyThatTimesOutFailsTheBatch) {
  gate_.Wait(In(milliseconds(2000)), Reader(1));
  fetches_[0].done(uint64_t{99});
  awaits_[0].done(Status(Code::kDeadlineExceeded, "not applied in time"));
  Poll();
  EXPECT_EQ(failed_, std::vector<int>({1}));
  EXPECT_EQ(last_error_, Code::kDeadlineExceeded);
}

TEST_F(ReadIndexGateTest, WaitsAreBoundedByTheEarliestDeadlineInTheBatch) {
  gate_.Wait(In(milliseconds(300)), Reader(1));
  EXPECT_EQ(fetches_[0].timeout, milliseconds(300));  // Not the full 1000.
  clock_.Advance(milliseconds(100));
  fetches_[0].done(uint64_t{5});
  EXPECT_EQ(awaits_[0].timeout, milliseconds(200));
  awaits_[0].done(Status::Ok());
  // A later read with time to spare: the fetch timeout caps its request.
  gate_.Wait(In(milliseconds(5000)), Reader(2));
  EXPECT_EQ(fetches_[1].timeout, milliseconds(1000));
  fetches_[1].done(uint64_t{5});
  awaits_[1].done(Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1, 2}));
}

TEST_F(ReadIndexGateTest, AReadWithNoTimeLeftFailsWithoutARequest) {
  gate_.Wait(clock_.Now(), Reader(1));
  Poll();
  EXPECT_TRUE(fetches_.empty());
  EXPECT_EQ(failed_, std::vector<int>({1}));
  EXPECT_EQ(last_error_, Code::kDeadlineExceeded);
  // The gate is idle again: the next read gets a request.
  gate_.Wait(In(milliseconds(2000)), Reader(2));
  EXPECT_EQ(fetches_.size(), 1u);
}

}  // namespace
}  // namespace sider::server
