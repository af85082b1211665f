#include "server/lock_delay.h"

#include <algorithm>

namespace sider::server {
namespace {
constexpr size_t kSweepFloor = 1024;
}  // namespace

void LockDelays::Record(const std::vector<structs::ReleasedLock>& released) {
  const auto now = clock_.Now();
  WriterLock lock(&mu_);
  for (const structs::ReleasedLock& r : released) {
    if (r.lock_delay_ns <= 0) continue;
    const auto until = now + std::chrono::nanoseconds(r.lock_delay_ns);
    auto [it, inserted] = until_.try_emplace(r.key, until);
    if (!inserted) it->second = std::max(it->second, until);
  }
  if (until_.size() > sweep_at_) {
    std::erase_if(until_, [now](const auto& e) { return e.second <= now; });
    sweep_at_ = std::max(kSweepFloor, 2 * until_.size());
  }
}

bool LockDelays::Delayed(std::string_view key) const {
  ReaderLock lock(&mu_);
  if (until_.empty()) return false;  // The common case: no map lookup.
  auto it = until_.find(std::string(key));
  return it != until_.end() && it->second > clock_.Now();
}

size_t LockDelays::size() const {
  ReaderLock lock(&mu_);
  return until_.size();
}

}  // namespace sider::server
