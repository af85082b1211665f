// LockDelays: Consul's lock-delay table. After the FSM gives up a
// session's keys by invalidation (destroy, TTL expiry, a check gone
// critical, the node deregistered), no session may acquire those keys for
// the session's LockDelay. An explicit ?release starts no delay, as in
// Consul.
//
// The FSM reports the keys through its observer on EVERY replica, and each
// server records "until = now + delay" in its own memory with its own
// clock — exactly what each Consul server does in its state store. So a
// new leader already honours the delays that were running on the old one
// (within clock skew between the servers) without any log entry; and a
// server replaying its log after a restart starts the delays of the
// invalidations it replays afresh, which errs on the safe side. The
// decision itself is taken on the leader before proposing (KvService), so
// the FSM stays deterministic.
//
// Threading: Record() runs on the consensus thread (the FSM observer) and
// only takes a short lock; Delayed() on io threads. `clock` must outlive
// the table.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "structs/kv.h"

namespace sider::server {

class LockDelays {
 public:
  explicit LockDelays(Clock& clock) : clock_(clock) {}
  LockDelays(const LockDelays&) = delete;
  LockDelays& operator=(const LockDelays&) = delete;

  void Record(const std::vector<structs::ReleasedLock>& released);
  // True while `key` may not be acquired.
  bool Delayed(std::string_view key) const;
  size_t size() const;  // Entries held, finished ones included (tests).

 private:
  Clock& clock_;
  mutable Mutex mu_;
  // key -> end of its delay. Swept of finished delays when it grows past
  // sweep_at_, so it stays O(live delays).
  std::unordered_map<std::string, Clock::TimePoint> until_
      SIDER_GUARDED_BY(mu_);
  size_t sweep_at_ SIDER_GUARDED_BY(mu_) = 1024;
};

}  // namespace sider::server
