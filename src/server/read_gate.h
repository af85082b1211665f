// ReadGate: linearizable reads on the leader, batched. A read waits for one
// quorum round (a Raft barrier: it commits only while this node still
// leads, and its completion means every entry committed before it is
// applied here) that STARTED after the read arrived; then the read runs
// against local state.
//
// Batching: at most one round is in flight. Reads that arrive while a round
// is in flight queue for the next one, which starts the moment the current
// one completes, so one round serves every read that arrived before it
// started and a read waits behind at most one round already in flight.
// Under load the cost is one barrier per round-trip time, not per read.
//
// Threading: Wait() may be called from any thread. Each `done` is posted to
// the executor (so a batch's reads run on every io thread, not in a row on
// the one that saw the round complete). The barrier function is called
// without the lock held, from Wait() or from the previous round's
// completion. Lifetime: the gate must outlive every round in flight (the
// app's io_context run).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/asio.h"
#include "base/mutex.h"
#include "base/status.h"

namespace sider::server {

class ReadGate {
 public:
  using Done = std::function<void(Status)>;
  // Starts one quorum round; calls its argument once, with OK or the error
  // (e.g. kUnavailable when leadership was lost).
  using Barrier = std::function<void(Done)>;

  ReadGate(asio::any_io_executor executor, Barrier barrier);
  ReadGate(const ReadGate&) = delete;
  ReadGate& operator=(const ReadGate&) = delete;

  void Wait(Done done);

  uint64_t rounds() const;  // Rounds started (for tests and metrics).

 private:
  void StartRound(std::vector<Done> batch);
  void RoundDone(std::vector<Done> batch, Status status);

  const asio::any_io_executor executor_;
  const Barrier barrier_;
  mutable Mutex mu_;
  bool in_flight_ SIDER_GUARDED_BY(mu_) = false;
  std::vector<Done> next_ SIDER_GUARDED_BY(mu_);
  uint64_t rounds_ SIDER_GUARDED_BY(mu_) = 0;
};

}  // namespace sider::server
