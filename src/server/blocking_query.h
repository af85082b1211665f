// BlockingQuery: Consul's blocking-query contract as one generic loop.
//
// A read carries the client's ?index= (min_index) and ?wait=. The engine
// runs `query`, which reads the store, registers the Watches it touched in
// the WatchSet it is given (never null), and returns (index, value). Then:
//
//   * min_index == 0, or result index > min_index: deliver now.
//   * otherwise park: wait for any touched Watch to fire, then run the query
//     again; a wake-up whose result is still not newer than min_index parks
//     again (a write to a neighbouring key can fire a table-level watch);
//   * at the deadline, run the query once more and deliver that result even
//     though it is not newer: the client simply asks again.
//
// A delivered index is never 0 (clamped to 1, as Consul does), otherwise a
// client would pass ?index=0 back and spin without ever blocking.
//
// Cost of a parked query: one small heap object, its own strand, one Clock
// alarm, and one callback per touched Watch; no thread. Watches hold only a
// weak reference, so a query that finished at its deadline is freed even if
// its keys are never written again. Client disconnects are not noticed: the
// deadline frees the query (as in Consul, which learns of a gone client only
// when it writes the answer).
//
// Jitter: BlockingTimeout() applies Consul's clamp (default 5m, max 10m)
// plus a random stagger of up to wait/16, so that many clients woken by one
// change do not all time out together again. The caller computes it (the
// random source is a parameter, so tests are deterministic) and passes
// clock.Now() + that to Start() as the deadline.
//
// Threading: Start() may be called on any thread. If the answer is ready at
// once, `done` runs inline before Start() returns, on the calling thread;
// otherwise it runs later on the query's own strand (made from `executor`),
// so `done` must be safe to call from an io thread, e.g. an http Responder.
// `query` runs on the calling thread the first time and on that strand
// afterwards; it must be safe on any io thread (store reads are).
// `clock` must outlive the query (it is the process's clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <utility>

#include "base/asio.h"
#include "base/clock.h"
#include "store/indexed.h"
#include "store/watch.h"

namespace sider::server {

inline constexpr std::chrono::nanoseconds kDefaultBlockingWait =
    std::chrono::minutes(5);
inline constexpr std::chrono::nanoseconds kMaxBlockingWait =
    std::chrono::minutes(10);
// Consul's structs.JitterFraction: the stagger is up to wait / 16.
inline constexpr int64_t kBlockingJitterFraction = 16;

// Consul's rule for ?wait=: 0 or negative means the default, above the
// maximum means the maximum; then a stagger of `random % (wait / 16)` is
// added.
inline std::chrono::nanoseconds BlockingTimeout(
    std::chrono::nanoseconds requested, uint64_t random) {
  std::chrono::nanoseconds wait = requested;
  if (wait > kMaxBlockingWait) {
    wait = kMaxBlockingWait;
  } else if (wait <= std::chrono::nanoseconds::zero()) {
    wait = kDefaultBlockingWait;
  }
  const auto span = static_cast<uint64_t>(wait.count() / kBlockingJitterFraction);
  if (span > 0) wait += std::chrono::nanoseconds(random % span);
  return wait;
}

// The same with a per-thread pseudo-random source (production use).
inline std::chrono::nanoseconds BlockingTimeout(
    std::chrono::nanoseconds requested) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return BlockingTimeout(requested, rng());
}

template <typename T>
class BlockingQuery : public std::enable_shared_from_this<BlockingQuery<T>> {
 public:
  using Value = store::Indexed<T>;
  using QueryFn = std::function<Value(store::WatchSet*)>;
  using DoneFn = std::function<void(Value)>;

  // Runs the query; see the file comment. Pass
  // clock.Now() + BlockingTimeout(wait) as `deadline`. `done` runs exactly
  // once. A query that can fail carries its error inside T.
  static void Start(asio::any_io_executor executor, Clock& clock,
                    uint64_t min_index, Clock::TimePoint deadline,
                    QueryFn query, DoneFn done) {
    store::WatchSet ws;
    Value result = RunQuery(query, &ws);
    if (min_index == 0 || result.index > min_index ||
        clock.Now() >= deadline) {
      done(std::move(result));  // No allocation for the non-blocking case.
      return;
    }
    auto q = std::shared_ptr<BlockingQuery>(
        new BlockingQuery(asio::make_strand(executor), clock, min_index,
                          deadline, std::move(query), std::move(done)));
    // Parking touches members that the alarm and the watches also touch,
    // so it happens on the strand like everything after it.
    asio::post(q->strand_, [q, ws = std::move(ws)]() mutable {
      q->Park(std::move(ws));
    });
  }

 private:
  BlockingQuery(asio::any_io_executor strand, Clock& clock,
                uint64_t min_index, Clock::TimePoint deadline, QueryFn query,
                DoneFn done)
      : strand_(std::move(strand)),
        clock_(clock),
        min_index_(min_index),
        deadline_(deadline),
        query_(std::move(query)),
        done_(std::move(done)) {}

  static Value RunQuery(const QueryFn& query, store::WatchSet* ws) {
    Value result = query(ws);
    if (result.index == 0) result.index = 1;
    return result;
  }

  // On the strand.
  void Park(store::WatchSet ws) {
    // The alarm's callback owns a strong reference: it is what keeps a
    // parked query alive, and resetting alarm_ in Run() releases it.
    alarm_ = clock_.SetAlarm(deadline_, strand_,
                             [q = this->shared_from_this()] { q->Run(true); });
    Watch(ws);
  }

  // On the strand.
  void Watch(store::WatchSet& ws) {
    // Only a weak reference: a key that is never written again must not
    // keep a finished query (and its `done`) alive.
    ws.OnAnyFire(this->weak_from_this(), [weak = this->weak_from_this()] {
      if (auto q = weak.lock()) {
        asio::post(q->strand_, [q] { q->Run(false); });
      }
    });
  }

  // On the strand.
  void Run(bool deadline_passed) {
    if (!done_) return;  // Already delivered (a late wake-up).
    store::WatchSet ws;
    Value result = RunQuery(query_, &ws);
    if (deadline_passed || result.index > min_index_) {
      alarm_.reset();  // Drops the alarm's reference to us.
      std::exchange(done_, nullptr)(std::move(result));
      return;
    }
    Watch(ws);
  }

  const asio::any_io_executor strand_;
  Clock& clock_;
  const uint64_t min_index_;
  const Clock::TimePoint deadline_;
  const QueryFn query_;
  DoneFn done_;
  std::unique_ptr<Clock::Alarm> alarm_;
};

}  // namespace sider::server
