// ReadIndexGate: linearizable reads on a follower, batched (the Raft
// read-index protocol; docs/consistency.md). A read waits for a read index
// from the leader, obtained by a request that STARTED after the read
// arrived (the leader answers it after a quorum round of its own that
// started after the request arrived, with the index of its state); then for
// this node to have applied that index; then it runs against local state.
//
// Batching, as ReadGate: at most one request for a read index is in flight.
// Reads that arrive while one is in flight queue for the next, which starts
// the moment the current one answers, so one round trip serves every read
// that arrived before it started. A batch's wait for its index to apply is
// not part of the round: the next round may start meanwhile.
//
// Time bounds: each read gives a deadline. A round's request is bounded by
// Options::fetch_timeout and by the earliest deadline of its batch, and so
// is the batch's wait for the apply: no read waits here beyond its own
// deadline (plus the apply wait's check granularity). A failure (no leader,
// the leader unreachable, a timeout) fails the whole batch with that
// Status; the caller falls back to forwarding.
//
// Threading: Wait() may be called from any thread. Each `done` is posted to
// the executor. Fetch and AwaitApplied are called without the lock held,
// from Wait() or from the previous round's completion, and must call their
// `done` exactly once, from any thread. Lifetime: the gate must outlive
// every round in flight (the app's io_context run).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace sider::server {

class ReadIndexGate {
 public:
  using Done = std::function<void(Status)>;
  using IndexDone = std::function<void(Result<uint64_t>)>;
  // Asks the leader for a read index, giving up after `timeout`.
  using Fetch = std::function<void(std::chrono::milliseconds timeout,
                                   IndexDone done)>;
  // OK once this node has applied `index`; an error after `timeout`.
  using AwaitApplied = std::function<void(
      uint64_t index, std::chrono::milliseconds timeout, Done done)>;

  struct Options {
    std::chrono::milliseconds fetch_timeout{1000};
  };

  ReadIndexGate(Clock& clock, asio::any_io_executor executor, Fetch fetch,
                AwaitApplied await_applied, Options options);
  ReadIndexGate(const ReadIndexGate&) = delete;
  ReadIndexGate& operator=(const ReadIndexGate&) = delete;

  void Wait(Clock::TimePoint deadline, Done done);

  uint64_t rounds() const;  // Read-index requests started.

 private:
  struct Batch {
    std::vector<Done> reads;
    Clock::TimePoint deadline = Clock::TimePoint::max();  // The earliest.
  };

  void StartRound(std::shared_ptr<Batch> batch);
  void RoundDone(std::shared_ptr<Batch> batch, Result<uint64_t> index);
  void Finish(const std::shared_ptr<Batch>& batch, const Status& status);
  std::chrono::milliseconds Remaining(const Batch& batch) const;

  Clock& clock_;
  const asio::any_io_executor executor_;
  const Fetch fetch_;
  const AwaitApplied await_applied_;
  const Options options_;
  mutable Mutex mu_;
  bool in_flight_ SIDER_GUARDED_BY(mu_) = false;
  std::shared_ptr<Batch> next_ SIDER_GUARDED_BY(mu_);
  uint64_t rounds_ SIDER_GUARDED_BY(mu_) = 0;
};

}  // namespace sider::server
