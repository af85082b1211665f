#include "server/lock_delay.h"

#include <gtest/gtest.h>

#include "testutil/fake_clock.h"

namespace sider::server {
namespace {

using std::chrono::seconds;

structs::ReleasedLock Released(std::string key, int64_t delay_ns) {
  structs::ReleasedLock r;
  r.key = std::move(key);
  r.session = "s";
  r.lock_delay_ns = delay_ns;
  return r;
}

TEST(LockDelaysTest, AKeyIsDelayedUntilItsDelayHasPassed) {
  testutil::FakeClock clock;
  LockDelays delays(clock);
  EXPECT_FALSE(delays.Delayed("k"));
  delays.Record({Released("k", 15'000'000'000)});
  EXPECT_TRUE(delays.Delayed("k"));
  EXPECT_FALSE(delays.Delayed("other"));
  clock.Advance(seconds(14));
  EXPECT_TRUE(delays.Delayed("k"));
  clock.Advance(seconds(1));
  EXPECT_FALSE(delays.Delayed("k"));
}

TEST(LockDelaysTest, ZeroDelayRecordsNothing) {
  testutil::FakeClock clock;
  LockDelays delays(clock);
  delays.Record({Released("k", 0)});
  EXPECT_FALSE(delays.Delayed("k"));
  EXPECT_EQ(delays.size(), 0u);
}

TEST(LockDelaysTest, TheLaterOfTwoDelaysWins) {
  testutil::FakeClock clock;
  LockDelays delays(clock);
  delays.Record({Released("k", 10'000'000'000)});
  delays.Record({Released("k", 1'000'000'000)});
  clock.Advance(seconds(5));
  EXPECT_TRUE(delays.Delayed("k"));
}

TEST(LockDelaysTest, FinishedDelaysAreSweptAsTheTableGrows) {
  testutil::FakeClock clock;
  LockDelays delays(clock);
  for (int i = 0; i < 1000; ++i) {
    delays.Record({Released("old-" + std::to_string(i), 1'000'000'000)});
  }
  clock.Advance(seconds(2));
  for (int i = 0; i < 100; ++i) {
    delays.Record({Released("new-" + std::to_string(i), 1'000'000'000)});
  }
  EXPECT_LT(delays.size(), 1100u);
  EXPECT_TRUE(delays.Delayed("new-5"));
  EXPECT_FALSE(delays.Delayed("old-5"));
}

}  // namespace
}  // namespace sider::server
