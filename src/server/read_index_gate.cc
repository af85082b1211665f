#include "server/read_index_gate.h"

#include <algorithm>
#include <utility>

namespace sider::server {

ReadIndexGate::ReadIndexGate(Clock& clock, asio::any_io_executor executor,
                             Fetch fetch, AwaitApplied await_applied,
                             Options options)
    : clock_(clock),
      executor_(std::move(executor)),
      fetch_(std::move(fetch)),
      await_applied_(std::move(await_applied)),
      options_(options) {}

void ReadIndexGate::Wait(Clock::TimePoint deadline, Done done) {
  std::shared_ptr<Batch> batch;
  {
    WriterLock lock(&mu_);
    if (next_ == nullptr) next_ = std::make_shared<Batch>();
    next_->reads.push_back(std::move(done));
    next_->deadline = std::min(next_->deadline, deadline);
    if (in_flight_) return;  // Joins the round after the one in flight.
    in_flight_ = true;
    ++rounds_;
    batch.swap(next_);
  }
  StartRound(std::move(batch));
}

std::chrono::milliseconds ReadIndexGate::Remaining(const Batch& batch) const {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      batch.deadline - clock_.Now());
  return std::max(std::chrono::milliseconds(0), left);
}

void ReadIndexGate::StartRound(std::shared_ptr<Batch> batch) {
  const auto timeout = std::min(options_.fetch_timeout, Remaining(*batch));
  if (timeout.count() == 0) {
    return RoundDone(std::move(batch),
                     Status(Code::kDeadlineExceeded, "read index: no time"));
  }
  fetch_(timeout, [this, batch = std::move(batch)](Result<uint64_t> r) {
    RoundDone(batch, std::move(r));
  });
}

void ReadIndexGate::RoundDone(std::shared_ptr<Batch> batch,
                              Result<uint64_t> index) {
  std::shared_ptr<Batch> next;
  {
    WriterLock lock(&mu_);
    if (next_ == nullptr) {
      in_flight_ = false;
    } else {
      ++rounds_;
      next.swap(next_);
    }
  }
  // The next round first: it is what the queued reads wait for.
  if (next != nullptr) StartRound(std::move(next));
  if (!index.ok()) return Finish(batch, index.status());
  const auto timeout = Remaining(*batch);
  await_applied_(*index, timeout, [this, batch](Status s) {
    Finish(batch, s);
  });
}

void ReadIndexGate::Finish(const std::shared_ptr<Batch>& batch,
                           const Status& status) {
  for (Done& d : batch->reads) {
    asio::post(executor_, [d = std::move(d), status] { d(status); });
  }
}

uint64_t ReadIndexGate::rounds() const {
  ReaderLock lock(&mu_);
  return rounds_;
}

}  // namespace sider::server
