// DeadlineQueue: the deadlines of many parked blocking queries on one
// Clock alarm, instead of one alarm (an asio::steady_timer, its wait
// operation and, when the query is answered first, a cancellation handler)
// per query.
//
// An item is added with its deadline; Remove(item) takes it out (a no-op
// once it has expired or been removed) in O(1) and without touching the
// tree: the item remembers its node, and Remove only drops the node's
// reference, leaving an empty node behind. (Erasing from the tree at once
// cost ~5% of the server's CPU in a 10,000-watcher fan-out: rebalancing
// walks cold nodes.) Empty nodes go when their deadline comes, or when
// they outnumber the live ones at an Add() (a rebuild, amortized O(1) per
// removal), so the queue holds at most about twice its live items plus
// kCompactAt. The queue
// keeps one alarm set for its earliest deadline; when it goes off, every
// item whose deadline has come is taken out and its Expire() called, on
// the queue's strand. Removing an item never touches the alarm: if the
// earliest item is removed, the alarm goes off early, finds nothing due
// and is set again for the new earliest deadline.
//
// Ownership: the queue holds a strong reference to each item until it
// expires or is removed — for a parked blocking query that reference is
// what keeps it alive (its watches hold only weak ones).
//
// Threading: Add() and Remove() may be called from any thread (one mutex;
// Add() posts to the strand only when it brings the earliest deadline
// forward). The alarm is set and destroyed only on the strand, as Clock
// requires. Expire() runs on the strand and must only hand work off (e.g.
// dispatch to the item's own strand). `clock` must outlive the queue; the
// queue must outlive the handlers it posts (it lives as long as the
// execution context: see DeadlineQueue::For in blocking_query.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"

namespace sider::server {

class DeadlineQueue {
 public:
  class Expirable;

 private:
  using Items = std::multimap<Clock::TimePoint, std::shared_ptr<Expirable>>;

 public:
  class Expirable {
   public:
    virtual ~Expirable() = default;
    virtual void Expire() = 0;  // On the queue's strand.

   private:
    friend class DeadlineQueue;
    // The item's place in one queue's items_, valid while queued_; both
    // are touched only under that queue's mutex.
    Items::iterator slot_;
    bool queued_ = false;
  };

  DeadlineQueue(Clock& clock, const asio::any_io_executor& executor)
      : clock_(clock), strand_(asio::make_strand(executor)) {}

  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // `item` must not be in a queue already. Items with equal deadlines
  // expire in the order they were added.
  void Add(Clock::TimePoint when, std::shared_ptr<Expirable> item)
      SIDER_EXCLUDES(mu_) {
    bool earlier = false;
    Items compacted;  // The old tree after a rebuild, freed outside mu_.
    {
      WriterLock lock(&mu_);
      if (dead_ > kCompactAt && dead_ > items_.size() - dead_) {
        compacted = CompactLocked();
      }
      Expirable& e = *item;
      e.slot_ = items_.emplace(when, std::move(item));
      e.queued_ = true;
      if (!alarm_for_ || when < *alarm_for_) {
        alarm_for_ = when;  // Claimed now; Arm() on the strand sets it.
        earlier = true;
      }
    }
    if (earlier) asio::post(strand_, [this] { Arm(); });
  }

  void Remove(Expirable& item) SIDER_EXCLUDES(mu_) {
    std::shared_ptr<Expirable> dropped;  // Destroyed outside mu_.
    WriterLock lock(&mu_);
    if (!item.queued_) return;
    item.queued_ = false;
    dropped = std::move(item.slot_->second);  // The node stays, empty.
    ++dead_;
  }

  // Items queued (added, and neither expired nor removed).
  size_t size() const SIDER_EXCLUDES(mu_) {
    ReaderLock lock(&mu_);
    return items_.size() - dead_;
  }

  // Nodes held, empty ones included (for tests of the memory bound).
  size_t nodes_for_test() const SIDER_EXCLUDES(mu_) {
    ReaderLock lock(&mu_);
    return items_.size();
  }

  static constexpr size_t kCompactAt = 1024;

  // Drops every item and the alarm (the execution context's shutdown).
  void Clear() SIDER_EXCLUDES(mu_) {
    Items dropped;
    WriterLock lock(&mu_);
    for (auto& [when, item] : items_) {
      if (item) item->queued_ = false;
    }
    dropped.swap(items_);
    dead_ = 0;
    alarm_.reset();
    alarm_for_.reset();
  }

 private:
  // The live items in a new tree (their nodes re-pointed); returns the old.
  Items CompactLocked() SIDER_REQUIRES(mu_) {
    Items live;
    for (auto& [when, item] : items_) {
      if (!item) continue;
      Expirable& e = *item;
      e.slot_ = live.emplace_hint(live.end(), when, std::move(item));
    }
    live.swap(items_);
    dead_ = 0;
    return live;
  }

  // On the strand: the alarm for the earliest live deadline, or none.
  void Arm() SIDER_EXCLUDES(mu_) {
    WriterLock lock(&mu_);
    while (!items_.empty() && !items_.begin()->second) {
      items_.erase(items_.begin());
      --dead_;
    }
    if (items_.empty()) {
      alarm_.reset();
      alarm_for_.reset();
      return;
    }
    const Clock::TimePoint when = items_.begin()->first;
    if (alarm_ && armed_for_ == when) return;
    alarm_for_ = armed_for_ = when;
    alarm_ = clock_.SetAlarm(when, strand_, [this] { OnAlarm(); });
  }

  // On the strand.
  void OnAlarm() SIDER_EXCLUDES(mu_) {
    std::vector<std::shared_ptr<Expirable>> due;
    {
      WriterLock lock(&mu_);
      alarm_.reset();
      alarm_for_.reset();
      const Clock::TimePoint now = clock_.Now();
      auto it = items_.begin();
      for (; it != items_.end() && it->first <= now; ++it) {
        if (!it->second) {
          --dead_;  // Removed earlier; its node goes now.
          continue;
        }
        it->second->queued_ = false;
        due.push_back(std::move(it->second));
      }
      items_.erase(items_.begin(), it);
    }
    Arm();
    for (auto& item : due) item->Expire();
  }

  Clock& clock_;
  const asio::any_io_executor strand_;
  mutable Mutex mu_;
  Items items_ SIDER_GUARDED_BY(mu_);  // A null item: an empty node.
  size_t dead_ SIDER_GUARDED_BY(mu_) = 0;  // Empty nodes in items_.
  // The deadline the alarm is set (or about to be set) for; none: no alarm.
  std::optional<Clock::TimePoint> alarm_for_ SIDER_GUARDED_BY(mu_);
  Clock::TimePoint armed_for_ SIDER_GUARDED_BY(mu_){};  // alarm_'s deadline.
  std::unique_ptr<Clock::Alarm> alarm_ SIDER_GUARDED_BY(mu_);
};

}  // namespace sider::server
