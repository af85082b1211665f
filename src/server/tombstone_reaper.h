// TombstoneReaper: the leader's garbage collection of KV tombstones
// (Consul's TombstoneGC). A deleted key leaves a tombstone so that prefix
// indexes never move backwards and a prefix watcher sees the delete; a
// tombstone only matters to a client that blocks with an index older than
// it, so after kTtl it can go. Every kGranularity the leader notes the KV
// index; a note older than kTtl becomes a proposal "reap tombstones up to
// that index" (fsm kKvReapTombstones) when any tombstone exists. The store
// keeps its prefix indexes at or above the reaped index, so a prefix index
// never falls back.
//
// A new leader starts with no notes, so it first reaps kTtl after taking
// over (conservative: tombstones live longer, never shorter).
//
// Threading: Start/Stop from the composition root; everything else runs
// on the io executor through the clock's alarms, under mu_.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::store {
class KvStore;
}

namespace sider::server {

class TombstoneReaper {
 public:
  // Consul's defaults: tombstone_ttl 15m, tombstone_ttl_granularity 30s.
  static constexpr std::chrono::minutes kTtl{15};
  static constexpr std::chrono::seconds kGranularity{30};

  TombstoneReaper(Clock& clock, asio::any_io_executor executor,
                  store::KvStore& kv, consensus::RaftNode& raft);
  ~TombstoneReaper();
  TombstoneReaper(const TombstoneReaper&) = delete;
  TombstoneReaper& operator=(const TombstoneReaper&) = delete;

  void Start();  // Subscribes to leadership changes.
  void Stop();

 private:
  void OnLeadership(bool leader);
  void Tick();
  void ScheduleLocked() SIDER_REQUIRES(mu_);

  Clock& clock_;
  const asio::any_io_executor executor_;
  store::KvStore& kv_;
  consensus::RaftNode& raft_;

  Mutex mu_;
  bool leader_ SIDER_GUARDED_BY(mu_) = false;
  bool stopped_ SIDER_GUARDED_BY(mu_) = false;
  // (when noted, KV index then), oldest first.
  std::deque<std::pair<Clock::TimePoint, uint64_t>> notes_
      SIDER_GUARDED_BY(mu_);
  std::unique_ptr<Clock::Alarm> alarm_ SIDER_GUARDED_BY(mu_);
};

}  // namespace sider::server
