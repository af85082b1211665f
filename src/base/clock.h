// Clock: the only way server code reads time or waits for it. Production
// uses SystemClock (a steady_timer per alarm); tests use
// testutil::FakeClock and move time forward explicitly, so no unit test
// ever sleeps.
//
// Thread safety: Now() and SetAlarm() may be called from any thread.
// Destroying an Alarm must happen on the thread (or strand) of the executor
// it was set with, or after that executor has stopped.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/asio.h"

namespace sider {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Destroying an Alarm cancels it if it has not fired yet.
  class Alarm {
   public:
    virtual ~Alarm() = default;
  };

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Posts `fn` to `executor` once Now() >= `when`, unless the returned Alarm
  // is destroyed first.
  [[nodiscard]] virtual std::unique_ptr<Alarm> SetAlarm(
      TimePoint when, asio::any_io_executor executor,
      std::function<void()> fn) = 0;
};

// The real clock: std::chrono::steady_clock and one asio::steady_timer per
// alarm.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<Alarm> SetAlarm(TimePoint when,
                                  asio::any_io_executor executor,
                                  std::function<void()> fn) override;
};

}  // namespace sider
