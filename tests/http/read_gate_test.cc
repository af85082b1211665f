// ReadGate: reads batch behind at most one quorum round in flight, and a
// round serves exactly the reads that arrived before it started.
#include "server/read_gate.h"

#include <gtest/gtest.h>

#include <vector>

namespace sider::server {
namespace {

class ReadGateTest : public ::testing::Test {
 protected:
  ReadGate gate_{io_.get_executor(), [this](ReadGate::Done done) {
                   rounds_.push_back(std::move(done));
                 }};

  ReadGate::Done Reader(int id) {
    return [this, id](Status s) {
      if (s.ok())
        served_.push_back(id);
      else
        failed_.push_back(id);
    };
  }
  void Poll() {
    io_.restart();
    io_.poll();
  }

  asio::io_context io_;
  std::vector<ReadGate::Done> rounds_;  // Barriers started, in order.
  std::vector<int> served_;
  std::vector<int> failed_;
};

TEST_F(ReadGateTest, ReadsArrivingTogetherShareOneRound) {
  gate_.Wait(Reader(1));
  EXPECT_EQ(rounds_.size(), 1u);
  gate_.Wait(Reader(2));
  gate_.Wait(Reader(3));
  EXPECT_EQ(rounds_.size(), 1u);  // At most one in flight.
  rounds_[0](Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1}));  // 2, 3 came after it started.
  ASSERT_EQ(rounds_.size(), 2u);              // Their round, at once.
  rounds_[1](Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1, 2, 3}));
  EXPECT_EQ(gate_.rounds(), 2u);
}

TEST_F(ReadGateTest, NoRoundWithoutReadersAndANewOneForALaterReader) {
  gate_.Wait(Reader(1));
  rounds_[0](Status::Ok());
  Poll();
  EXPECT_EQ(rounds_.size(), 1u);  // Nobody waiting: idle.
  gate_.Wait(Reader(2));
  ASSERT_EQ(rounds_.size(), 2u);
  rounds_[1](Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({1, 2}));
}

TEST_F(ReadGateTest, AFailedRoundFailsItsReadersOnly) {
  gate_.Wait(Reader(1));
  gate_.Wait(Reader(2));
  rounds_[0](Status(Code::kUnavailable, "not leader"));
  Poll();
  EXPECT_EQ(failed_, std::vector<int>({1}));
  rounds_[1](Status::Ok());
  Poll();
  EXPECT_EQ(served_, std::vector<int>({2}));
}

}  // namespace
}  // namespace sider::server
