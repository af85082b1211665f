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
// Cost of a parked query: one small heap object, a strand (its own, or the
// caller's), one entry in the DeadlineQueue (deadline_queue.h: one Clock
// alarm for all the parked queries of an io_context, not one timer each),
// one callback per touched Watch, and (in http) one pending read on its
// connection; no thread. Cost of a wake-up: the firing thread appends the query to the
// WakeQueue below; an io thread re-runs it on its strand, inline. Watches
// hold only a weak reference (the DeadlineQueue holds the strong one until
// the query is answered), so a query that finished at its deadline is
// freed even if its keys are never written again. A client that goes away
// does not cancel its query: one that closes is answered (into a closed
// socket) and then closed, one that resets has its answer dropped by the
// http connection, and either way the query lives until it is woken or its
// deadline passes.
//
// Jitter: BlockingTimeout() applies Consul's clamp (default 5m, max 10m)
// plus a random stagger of up to wait/16, so that many clients woken by one
// change do not all time out together again. The caller computes it (the
// random source is a parameter, so tests are deterministic) and passes
// clock.Now() + that to Start() as the deadline.
//
// Threading: Start() may be called on any thread. If the answer is ready at
// once, `done` runs inline before Start() returns, on the calling thread;
// otherwise it runs later on the query's strand (the one given to Start(),
// or a new one made from `executor`), so `done` must be safe to call from
// an io thread, e.g. an http Responder.
// `query` runs on the calling thread the first time and on that strand
// afterwards; it must be safe on any io thread (store reads are).
// `clock` must outlive the query (it is the process's clock).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "server/deadline_queue.h"
#include "store/indexed.h"
#include "store/watch.h"

// After base/asio.h, which sets what clang needs before any Asio header.
#include <boost/asio/dispatch.hpp>

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

// WakeQueue: the hand-off from a firing Watch to the io threads, one per
// execution context (an Asio service, found from the executor).
//
// A write that wakes K parked queries must not put K handlers in the
// io_context's queue ahead of everything else: the writer's own reply,
// posted by the consensus thread right after its apply (which fired the
// watches), would wait behind all K answers. So a fired watch only appends
// its query here; one drain handler at a time is queued, and it takes at
// most kChunk queries per turn, queueing the next turn *before* running its
// chunk. Other handlers (the writer's reply) wait behind one chunk, not K,
// and a second io thread takes the next chunk in parallel. Each query is
// dispatched to its strand, which for an idle strand runs inline: no
// handler per waiter.
//
// Threading: Push from any thread; Drain runs on the io threads.
class WakeQueue : public asio::execution_context::service {
 public:
  class Wakeable {
   public:
    virtual ~Wakeable() = default;
    virtual void Wake() = 0;  // On an io thread; dispatches to its strand.
  };

  static inline asio::execution_context::id id;
  static constexpr size_t kChunk = 64;

  explicit WakeQueue(asio::execution_context& ctx)
      : asio::execution_context::service(ctx) {}

  static WakeQueue& For(const asio::any_io_executor& executor) {
    return asio::use_service<WakeQueue>(
        asio::query(executor, asio::execution::context));
  }

  void Push(const asio::any_io_executor& executor,
            std::shared_ptr<Wakeable> w) SIDER_EXCLUDES(mu_) {
    {
      WriterLock lock(&mu_);
      pending_.push_back(std::move(w));
      if (scheduled_) return;
      scheduled_ = true;
    }
    asio::post(executor, [this, executor] { Drain(executor); });
  }

 private:
  void shutdown() override SIDER_EXCLUDES(mu_) {
    std::vector<std::shared_ptr<Wakeable>> dropped;
    WriterLock lock(&mu_);
    dropped.swap(pending_);
    head_ = 0;
  }

  void Drain(const asio::any_io_executor& executor) SIDER_EXCLUDES(mu_) {
    std::vector<std::shared_ptr<Wakeable>> chunk;
    bool more = false;
    {
      WriterLock lock(&mu_);
      const size_t n = std::min(kChunk, pending_.size() - head_);
      chunk.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        chunk.push_back(std::move(pending_[head_ + i]));
      }
      head_ += n;
      if (head_ == pending_.size()) {
        pending_.clear();
        head_ = 0;
        scheduled_ = false;
      } else {
        more = true;
      }
    }
    if (more) asio::post(executor, [this, executor] { Drain(executor); });
    for (auto& w : chunk) w->Wake();
  }

  Mutex mu_;
  std::vector<std::shared_ptr<Wakeable>> pending_ SIDER_GUARDED_BY(mu_);
  size_t head_ SIDER_GUARDED_BY(mu_) = 0;  // pending_[0, head_) are taken.
  bool scheduled_ SIDER_GUARDED_BY(mu_) = false;  // A Drain is queued.
};

// The DeadlineQueue of each clock that parks queries on an execution
// context (in practice one: the process's clock), made on first use.
class DeadlineQueues : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit DeadlineQueues(asio::execution_context& ctx)
      : asio::execution_context::service(ctx) {}

  static DeadlineQueue& For(const asio::any_io_executor& executor,
                            Clock& clock) {
    auto& self = asio::use_service<DeadlineQueues>(
        asio::query(executor, asio::execution::context));
    WriterLock lock(&self.mu_);
    auto& queue = self.queues_[&clock];
    if (!queue) queue = std::make_unique<DeadlineQueue>(clock, executor);
    return *queue;
  }

 private:
  // The queues (their items, alarm and strand) go at shutdown, while the
  // context's other services — the strands' among them — still exist.
  void shutdown() override SIDER_EXCLUDES(mu_) {
    std::unordered_map<Clock*, std::unique_ptr<DeadlineQueue>> dropped;
    WriterLock lock(&mu_);
    dropped.swap(queues_);
  }

  Mutex mu_;
  std::unordered_map<Clock*, std::unique_ptr<DeadlineQueue>> queues_
      SIDER_GUARDED_BY(mu_);
};

template <typename T>
class BlockingQuery : public WakeQueue::Wakeable,
                      public DeadlineQueue::Expirable,
                      public std::enable_shared_from_this<BlockingQuery<T>> {
 public:
  using Value = store::Indexed<T>;
  using QueryFn = std::function<Value(store::WatchSet*)>;
  using DoneFn = std::function<void(Value)>;

  // Runs the query; see the file comment. Pass
  // clock.Now() + BlockingTimeout(wait) as `deadline`. `done` runs exactly
  // once. A query that can fail carries its error inside T.
  //
  // A parked query runs on `strand` when given — it must serialize its
  // handlers, e.g. the strand of the http connection that will write the
  // answer, so that `done` writes it without another hop — otherwise on a
  // new strand of `executor`. `executor` is the io_context's.
  static void Start(asio::any_io_executor executor, Clock& clock,
                    uint64_t min_index, Clock::TimePoint deadline,
                    QueryFn query, DoneFn done,
                    asio::any_io_executor strand = {}) {
    store::WatchSet ws;
    Value result = RunQuery(query, &ws);
    if (min_index == 0 || result.index > min_index ||
        clock.Now() >= deadline) {
      done(std::move(result));  // No allocation for the non-blocking case.
      return;
    }
    if (!strand) strand = asio::make_strand(executor);
    auto q = std::shared_ptr<BlockingQuery>(new BlockingQuery(
        executor, std::move(strand), clock, min_index, deadline,
        std::move(query), std::move(done)));
    // Parking touches members that the alarm and the watches also touch,
    // so it happens on the strand like everything after it.
    asio::post(q->strand_, [q, ws = std::move(ws)]() mutable {
      q->Park(std::move(ws));
    });
  }

 private:
  BlockingQuery(asio::any_io_executor executor, asio::any_io_executor strand,
                Clock& clock, uint64_t min_index, Clock::TimePoint deadline,
                QueryFn query, DoneFn done)
      : executor_(std::move(executor)),
        strand_(std::move(strand)),
        wakes_(WakeQueue::For(executor_)),
        deadlines_(DeadlineQueues::For(executor_, clock)),
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
    // The queue's strong reference is what keeps a parked query alive;
    // Run() removes it once the query is answered.
    deadlines_.Add(deadline_, this->shared_from_this());
    Watch(ws);
  }

  // On the strand.
  void Watch(store::WatchSet& ws) {
    // Only a weak reference: a key that is never written again must not
    // keep a finished query (and its `done`) alive. The callback runs on
    // the writer's thread (consensus), so it only queues the query.
    ws.OnAnyFire(this->weak_from_this(), [weak = this->weak_from_this()] {
      if (auto q = weak.lock()) q->wakes_.Push(q->executor_, q);
    });
  }

  // From WakeQueue, on an io thread.
  void Wake() override {
    asio::dispatch(strand_, [q = this->shared_from_this()] { q->Run(false); });
  }

  // From the DeadlineQueue, on its strand.
  void Expire() override {
    asio::dispatch(strand_, [q = this->shared_from_this()] { q->Run(true); });
  }

  // On the strand.
  void Run(bool deadline_passed) {
    if (!done_) return;  // Already delivered (a late wake-up).
    store::WatchSet ws;
    Value result = RunQuery(query_, &ws);
    if (deadline_passed || result.index > min_index_) {
      // Drops the queue's reference to us (none left if it expired).
      deadlines_.Remove(*this);
      std::exchange(done_, nullptr)(std::move(result));
      return;
    }
    Watch(ws);
  }

  const asio::any_io_executor executor_;
  const asio::any_io_executor strand_;
  WakeQueue& wakes_;
  DeadlineQueue& deadlines_;
  const uint64_t min_index_;
  const Clock::TimePoint deadline_;
  const QueryFn query_;
  DoneFn done_;
};

}  // namespace sider::server
