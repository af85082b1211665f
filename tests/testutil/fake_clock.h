// FakeClock: a Clock whose time moves only when a test calls Advance().
// Not thread-safe; drive it from the test thread.
#pragma once

#include "base/asio.h"
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace sider::testutil {

class FakeClock : public Clock {
 public:
  FakeClock() = default;
  // Pending callbacks may own objects whose destructors cancel alarms, so
  // they are destroyed only after pending_ is empty again.
  ~FakeClock() override {
    auto pending = std::move(pending_);
    pending_.clear();
  }

  TimePoint Now() const override { return now_; }

  std::unique_ptr<Alarm> SetAlarm(TimePoint when,
                                  asio::any_io_executor executor,
                                  std::function<void()> fn) override {
    const uint64_t id = next_id_++;
    pending_.emplace(id, Pending{when, std::move(executor), std::move(fn)});
    return std::make_unique<FakeAlarm>(this, id);
  }

  // Alarms set and neither fired nor destroyed.
  size_t pending_alarms() const { return pending_.size(); }

  // Moves time forward and posts every alarm that has come due.
  void Advance(std::chrono::nanoseconds d) {
    now_ += d;
    std::vector<Pending> due;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.when <= now_) {
        due.push_back(std::move(it->second));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    for (Pending& p : due) asio::post(p.executor, std::move(p.fn));
  }

 private:
  struct Pending {
    TimePoint when;
    asio::any_io_executor executor;
    std::function<void()> fn;
  };
  class FakeAlarm : public Alarm {
   public:
    FakeAlarm(FakeClock* clock, uint64_t id) : clock_(clock), id_(id) {}
    ~FakeAlarm() override { clock_->pending_.erase(id_); }

   private:
    FakeClock* const clock_;
    const uint64_t id_;
  };

  TimePoint now_{};
  uint64_t next_id_ = 0;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace sider::testutil
