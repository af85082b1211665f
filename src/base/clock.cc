#include "base/clock.h"

#include <boost/system/error_code.hpp>

namespace sider {
namespace {

class TimerAlarm final : public Clock::Alarm {
 public:
  TimerAlarm(asio::any_io_executor executor, Clock::TimePoint when,
             std::function<void()> fn)
      : timer_(std::make_shared<asio::steady_timer>(executor, when)) {
    // The handler owns the timer so that a cancelled wait never touches a
    // destroyed object.
    timer_->async_wait(
        [timer = timer_, fn = std::move(fn)](boost::system::error_code ec) {
          if (!ec) fn();
        });
  }
  ~TimerAlarm() override { timer_->cancel(); }

 private:
  std::shared_ptr<asio::steady_timer> timer_;
};

}  // namespace

std::unique_ptr<Clock::Alarm> SystemClock::SetAlarm(
    TimePoint when, asio::any_io_executor executor, std::function<void()> fn) {
  return std::make_unique<TimerAlarm>(std::move(executor), when, std::move(fn));
}

}  // namespace sider
