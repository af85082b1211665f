// SessionManager: the server side of Consul's sessions — create, destroy,
// renew — and the lock-delay table.
//
//  * Create validates what the store cannot (TTL range, lock-delay range),
//    applies the server-side defaults (this node, the "serfHealth" node
//    check when the body names no checks), picks the session ID (UUID v4,
//    here and never in the FSM) and proposes it.
//  * TTLs are leader memory ("heartbeats are not log entries"): a renew
//    only moves a deadline in an agent::TtlTracker. A session expires after
//    TTL x 2 without a renew (Consul's SessionTTLMultiplier grace); expiry
//    proposes a session destroy, which releases or deletes its keys in the
//    FSM. A node that becomes leader gives every TTL session a full period
//    from that moment, so a failover never expires a session early.
//  * Lock-delay lives in server::LockDelays (lock_delay.h), fed by the FSM.
//
// Threading: every public method may be called from any io thread. State
// is the TtlTracker's (its own locking) plus stopped_ under mu_; nothing is
// proposed while a lock is held. `done` callbacks run on the io executor.
//
// Errors: Create — kInvalidArgument (Consul's texts: "Invalid Session TTL
// '<ns>', must be between [10s=24h0m0s]", "Invalid Lock Delay ...", and the
// store's "Missing node registration", "Missing check 'x' registration",
// "Check 'x' is in critical state"), kUnavailable, kOutcomeUnknown.
// Renew — kNotFound "Session id '<id>' not found".
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/ttl_tracker.h"
#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "server/node_identity.h"
#include "structs/kv.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::store {
class KvStore;
}

namespace sider::server {

class SessionManager {
 public:
  struct Options {
    // Consul's session_ttl_min (configurable there too) and SessionTTLMax.
    std::chrono::nanoseconds ttl_min = std::chrono::seconds(10);
    std::chrono::nanoseconds ttl_max = std::chrono::hours(24);
    // Consul's SessionTTLMultiplier: a TTL session lives TTL x 2 unrenewed.
    int ttl_multiplier = 2;
    // Consul's MaxLockDelay.
    std::chrono::nanoseconds max_lock_delay = std::chrono::seconds(60);
  };

  using CreateDone = std::function<void(Result<std::string> id)>;
  using Done = std::function<void(Status)>;

  SessionManager(const NodeIdentity& self, asio::io_context& io, Clock& clock,
                 store::KvStore& kv, consensus::RaftNode& raft,
                 Options options);
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Subscribes to leadership changes (TTL expiry runs only on the leader).
  void Start();
  void Stop();

  // `session` as decoded from the body; `node_checks_given` says whether
  // the body named node checks at all (if not, "serfHealth" is added).
  void Create(structs::Session session, bool node_checks_given,
              CreateDone done);
  void Destroy(const std::string& id, Done done);
  // The hot path: a session lookup and a deadline moved in memory.
  Result<structs::Session> Renew(std::string_view id);

  // Validates a TTL as Consul does (0 means none).
  Status ValidateTtl(std::chrono::nanoseconds ttl) const;

  // After a whole-state restore (PUT /v1/snapshot) applied: if this node
  // leads, forget the old state's timers and give everything in the
  // restored state a full period from now, as a new leader does.
  void RearmAfterRestore();

 private:
  void OnLeadership(bool leader);
  void OnExpired(const std::string& id);
  void Track(const structs::Session& s);

  const NodeIdentity self_;
  asio::io_context& io_;
  Clock& clock_;
  store::KvStore& kv_;
  consensus::RaftNode& raft_;
  const Options options_;
  agent::TtlTracker ttl_;  // Keyed ("", session id).

  mutable Mutex mu_;
  bool stopped_ SIDER_GUARDED_BY(mu_) = false;
};

}  // namespace sider::server
