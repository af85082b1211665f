// TtlTracker: the leader's memory of TTL checks ("heartbeats are not log
// entries", DESIGN.md). A pass only moves a deadline held here; the tracker
// reports a check once its deadline goes by without a pass, and the caller
// turns that into a Raft command (passing -> critical). A pass that arrives
// after the expiry has been reported "revives" the check: Pass() says so,
// and the caller records critical -> passing.
//
// Scheme: the map (node, check_id) -> entry is read-locked on the hot path;
// Pass() stores the new deadline in an atomic and neither allocates nor
// touches a timer. A min-heap of (deadline, entry) holds at most one live
// node per armed entry and may be stale (a pass moves the real deadline
// later); one Clock alarm is set at the heap's earliest deadline, and when it
// fires each due node re-reads the entry's real deadline and is either
// pushed back or expired. So expiry is reported as soon as the alarm's
// executor runs after the deadline, and the cost per tracked check is one
// map entry and one heap node.
//
// States of an entry: armed (its deadline counts) or expired (reported, and
// not reported again until a Pass() revives it). Pause() stops expiry (a
// follower keeps no deadlines that matter); ResetAll() gives every armed
// entry a full TTL from now — call it, then Resume(), when this node becomes
// leader, so that no check expires for lack of passes sent to the old leader.
// A tracker starts running (not paused).
//
// Threading: every public method may be called from any thread. on_expired
// runs on `executor` (serialised through an internal strand), with no lock
// held; it may call back into the tracker. A callback already being
// delivered when Pause() returns may still run.
// Lifetime: destroy the tracker before the executor's execution context
// (the destructor posts to it); `clock` must outlive every handler the
// tracker queued. The handlers share ownership of the tracker's state, so
// destroying the tracker with handlers still queued is safe. Once the
// destructor returns no new on_expired call begins; destroy the tracker on
// the executor's thread, or after it stopped, if a callback must not be
// running at that moment either.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/asio.h"
#include "base/clock.h"

namespace sider::agent {

class TtlTracker {
 public:
  using Expired =
      std::function<void(const std::string& node, const std::string& check_id)>;

  enum class PassResult {
    kNotTracked,  // Unknown (node, check_id): the caller answers 404.
    kOk,          // Deadline moved; the check was not expired.
    kRevived,     // The check had expired (or was tracked as expired): the
                  // caller records critical -> passing. Exactly one
                  // concurrent pass sees this.
  };

  TtlTracker(Clock& clock, asio::any_io_executor executor, Expired on_expired);
  ~TtlTracker();
  TtlTracker(const TtlTracker&) = delete;
  TtlTracker& operator=(const TtlTracker&) = delete;

  // Starts, or restarts, tracking: deadline = now + ttl, ttl remembered for
  // later passes. With `expired` true the check starts in the expired state
  // (its stored status is already critical, e.g. a new TTL check, which
  // Consul registers as critical): nothing is reported until a pass, and
  // that pass returns kRevived. ttl <= 0 is treated as 1 ns.
  void Track(const std::string& node, const std::string& check_id,
             std::chrono::nanoseconds ttl, bool expired = false);
  // Forgets the check; a no-op if it is not tracked.
  void Untrack(const std::string& node, const std::string& check_id);

  // A heartbeat: deadline = now + ttl. The hot path.
  PassResult Pass(std::string_view node, std::string_view check_id);

  // Every armed (non-expired) check gets deadline = now + its ttl. Expired
  // checks stay expired.
  void ResetAll();
  // Pause() stops expiry processing (passes are still recorded); Resume()
  // restarts it. Checks whose deadline passed while paused expire as soon
  // as Resume() takes effect, hence ResetAll() first on a new leader.
  void Pause();
  void Resume();

  // Number of tracked checks (armed or expired).
  size_t size() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sider::agent
