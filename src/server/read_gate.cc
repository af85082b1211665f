#include "server/read_gate.h"

#include <utility>

namespace sider::server {

ReadGate::ReadGate(asio::any_io_executor executor, Barrier barrier)
    : executor_(std::move(executor)), barrier_(std::move(barrier)) {}

void ReadGate::Wait(Done done) {
  std::vector<Done> batch;
  {
    WriterLock lock(&mu_);
    next_.push_back(std::move(done));
    if (in_flight_) return;  // Joins the round after the one in flight.
    in_flight_ = true;
    ++rounds_;
    batch.swap(next_);
  }
  StartRound(std::move(batch));
}

void ReadGate::StartRound(std::vector<Done> batch) {
  barrier_([this, batch = std::move(batch)](Status s) mutable {
    RoundDone(std::move(batch), std::move(s));
  });
}

void ReadGate::RoundDone(std::vector<Done> batch, Status status) {
  std::vector<Done> next;
  {
    WriterLock lock(&mu_);
    if (next_.empty()) {
      in_flight_ = false;
    } else {
      ++rounds_;
      next.swap(next_);
    }
  }
  // The next round first: it is what the queued reads wait for.
  if (!next.empty()) StartRound(std::move(next));
  for (Done& d : batch) {
    asio::post(executor_, [d = std::move(d), status] { d(status); });
  }
}

uint64_t ReadGate::rounds() const {
  ReaderLock lock(&mu_);
  return rounds_;
}

}  // namespace sider::server
