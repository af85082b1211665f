// BatchMutex: a store's reader-writer lock, which the store's one writer
// thread (the consensus thread) may also hold across several writes — a
// batch — so that readers see all of those writes or none of them.
//
// Why: several commands committed in one Raft log entry share its index. A
// reader that saw the state between two of them would report that index
// with half the entry applied; its next blocking query (waiting for
// something above that index) would then never wake for the other half.
//
// Use: the lock is taken as usual (`WriterLock lock(&mu_)`,
// `ReaderLock lock(&mu_)`). Between BeginBatch() and EndBatch() every
// Lock/ReaderLock by the batch's own thread is a no-op (it already holds the
// lock exclusively), so the store's ordinary write and read methods run
// unchanged inside a batch; every other thread waits for EndBatch(). Watches
// a write fires go through FireOrDefer(): inside a batch they fire only
// at EndBatch(), after the lock is released.
//
// Threading: BeginBatch/EndBatch on the writer thread only, never nested,
// and never with a scoped lock of this mutex open across either call.
#pragma once

#include <atomic>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "base/thread_annotations.h"
#include "store/watch.h"

namespace sider::store {

class SIDER_CAPABILITY("mutex") BatchMutex {
 public:
  BatchMutex() = default;
  BatchMutex(const BatchMutex&) = delete;
  BatchMutex& operator=(const BatchMutex&) = delete;

  void Lock() SIDER_ACQUIRE() {
    if (!HeldByCaller()) mu_.lock();
  }
  void Unlock() SIDER_RELEASE() {
    if (!HeldByCaller()) mu_.unlock();
  }
  void ReaderLock() SIDER_ACQUIRE_SHARED() {
    if (!HeldByCaller()) mu_.lock_shared();
  }
  void ReaderUnlock() SIDER_RELEASE_SHARED() {
    if (!HeldByCaller()) mu_.unlock_shared();
  }

  void BeginBatch() {
    mu_.lock();
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void EndBatch() {
    std::vector<WatchPtr> fired;
    fired.swap(deferred_);
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    mu_.unlock();
    for (const WatchPtr& w : fired) w->Fire();
  }

  // Fires `fired` now, or at EndBatch() when called inside a batch. Call it
  // after the scoped lock that collected them is closed.
  void FireOrDefer(std::vector<WatchPtr> fired) {
    if (HeldByCaller()) {
      deferred_.insert(deferred_.end(), std::make_move_iterator(fired.begin()),
                       std::make_move_iterator(fired.end()));
      return;
    }
    for (const WatchPtr& w : fired) w->Fire();
  }

 private:
  // Only the batch's own thread ever stores its id, so another thread can
  // never read its own id here: relaxed ordering is enough.
  bool HeldByCaller() const {
    return owner_.load(std::memory_order_relaxed) ==
           std::this_thread::get_id();
  }

  std::shared_mutex mu_;
  std::atomic<std::thread::id> owner_{};
  std::vector<WatchPtr> deferred_;  // Batch owner only.
};

}  // namespace sider::store
