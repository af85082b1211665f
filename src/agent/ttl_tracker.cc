#include "agent/ttl_tracker.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mutex.h"

namespace sider::agent {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t ToNs(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

Clock::TimePoint FromNs(int64_t ns) {
  return Clock::TimePoint(
      std::chrono::duration_cast<Clock::TimePoint::duration>(
          std::chrono::nanoseconds(ns)));
}

// Map keys view the strings owned by their Entry, so a lookup builds no
// std::string.
struct KeyView {
  std::string_view node;
  std::string_view check_id;
  bool operator==(const KeyView&) const = default;
};

struct KeyHash {
  size_t operator()(const KeyView& k) const noexcept {
    const size_t h = std::hash<std::string_view>()(k.node);
    return h ^ (std::hash<std::string_view>()(k.check_id) +
                0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

// Concurrent passes may race; keep the later deadline.
void StoreMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v &&
         !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

struct TtlTracker::State : std::enable_shared_from_this<State> {
  struct Entry {
    Entry(std::string n, std::string c)
        : node(std::move(n)), check_id(std::move(c)) {}
    const std::string node;
    const std::string check_id;
    // Written under a shared lock by concurrent passes, hence atomic. The
    // other fields change only under the exclusive lock.
    std::atomic<int64_t> deadline_ns{0};
    int64_t ttl_ns = 1;
    bool expired = false;
    bool removed = false;
    // Deadline of this entry's one live heap node; kNever if none. Heap
    // nodes whose deadline differs are stale and are dropped when popped.
    int64_t scheduled_ns = kNever;
  };
  struct HeapNode {
    int64_t deadline_ns;
    std::shared_ptr<Entry> entry;
    // std::push_heap builds a max-heap; invert for earliest-first.
    bool operator<(const HeapNode& o) const {
      return deadline_ns > o.deadline_ns;
    }
  };

  State(Clock& c, asio::any_io_executor ex, Expired cb)
      : clock(c),
        strand(asio::make_strand(std::move(ex))),
        on_expired(std::move(cb)) {}

  int64_t NowNs() const { return ToNs(clock.Now()); }

  std::shared_ptr<Entry> FindLocked(KeyView k) const SIDER_REQUIRES_SHARED(mu) {
    auto it = entries.find(k);
    return it == entries.end() ? nullptr : it->second;
  }

  // Gives `e` a heap node at its current deadline unless it already has
  // one at least as early.
  void ScheduleLocked(const std::shared_ptr<Entry>& e) SIDER_REQUIRES(mu) {
    const int64_t d = e->deadline_ns.load(std::memory_order_relaxed);
    if (d >= e->scheduled_ns) return;
    e->scheduled_ns = d;
    heap.push_back(HeapNode{d, e});
    std::push_heap(heap.begin(), heap.end());
    if (d < armed_at_ns) PostRearmLocked();
  }

  void PostRearmLocked() SIDER_REQUIRES(mu) {
    if (paused || closed || rearm_pending) return;
    rearm_pending = true;
    asio::post(strand, [self = shared_from_this()] { self->Rearm(); });
  }

  // Strand only. Points the one alarm at the heap's earliest deadline.
  void Rearm() SIDER_EXCLUDES(mu) {
    int64_t target;
    {
      WriterLock l(&mu);
      rearm_pending = false;
      target = (paused || closed || heap.empty()) ? kNever
                                                  : heap.front().deadline_ns;
      if (target == armed_at_ns && (target == kNever) == (alarm == nullptr))
        return;
      armed_at_ns = target;
    }
    SetAlarm(target);
  }

  // Strand only.
  void SetAlarm(int64_t target) {
    if (target == kNever) {
      alarm.reset();
      return;
    }
    alarm = clock.SetAlarm(FromNs(target), strand, [weak = weak_from_this()] {
      if (auto s = weak.lock()) s->OnAlarm();
    });
  }

  // Strand only: expires what is due, pushes back what was passed since.
  void OnAlarm() SIDER_EXCLUDES(mu) {
    std::vector<std::shared_ptr<Entry>> due;
    int64_t target = kNever;
    {
      WriterLock l(&mu);
      if (!paused && !closed) {
        const int64_t now = NowNs();
        while (!heap.empty() && heap.front().deadline_ns <= now) {
          std::pop_heap(heap.begin(), heap.end());
          HeapNode n = std::move(heap.back());
          heap.pop_back();
          Entry& e = *n.entry;
          if (e.removed || e.expired || e.scheduled_ns != n.deadline_ns)
            continue;  // Stale node.
          const int64_t d = e.deadline_ns.load(std::memory_order_relaxed);
          if (d > now) {  // Passed since this node was pushed.
            e.scheduled_ns = d;
            heap.push_back(HeapNode{d, std::move(n.entry)});
            std::push_heap(heap.begin(), heap.end());
            continue;
          }
          e.expired = true;
          e.scheduled_ns = kNever;
          due.push_back(std::move(n.entry));
        }
        if (!heap.empty()) target = heap.front().deadline_ns;
      }
      armed_at_ns = target;
    }
    SetAlarm(target);
    for (const auto& e : due) {
      {
        ReaderLock l(&mu);
        if (closed || e->removed || !e->expired) continue;
      }
      on_expired(e->node, e->check_id);
    }
  }

  Clock& clock;
  const asio::strand<asio::any_io_executor> strand;
  const Expired on_expired;

  mutable Mutex mu;
  std::unordered_map<KeyView, std::shared_ptr<Entry>, KeyHash> entries
      SIDER_GUARDED_BY(mu);
  std::vector<HeapNode> heap SIDER_GUARDED_BY(mu);
  bool paused SIDER_GUARDED_BY(mu) = false;
  bool closed SIDER_GUARDED_BY(mu) = false;
  bool rearm_pending SIDER_GUARDED_BY(mu) = false;
  int64_t armed_at_ns SIDER_GUARDED_BY(mu) = kNever;

  // Strand only.
  std::unique_ptr<Clock::Alarm> alarm;
};

TtlTracker::TtlTracker(Clock& clock, asio::any_io_executor executor,
                       Expired on_expired)
    : state_(std::make_shared<State>(clock, std::move(executor),
                                     std::move(on_expired))) {}

TtlTracker::~TtlTracker() {
  {
    WriterLock l(&state_->mu);
    state_->closed = true;
  }
  // The alarm belongs to the strand; drop it there.
  asio::post(state_->strand, [s = state_] { s->alarm.reset(); });
}

void TtlTracker::Track(const std::string& node, const std::string& check_id,
                       std::chrono::nanoseconds ttl, bool expired) {
  State& s = *state_;
  const int64_t ttl_ns = std::max<int64_t>(ttl.count(), 1);
  WriterLock l(&s.mu);
  auto e = s.FindLocked(KeyView{node, check_id});
  if (!e) {
    e = std::make_shared<State::Entry>(node, check_id);
    s.entries.emplace(KeyView{e->node, e->check_id}, e);
  }
  e->ttl_ns = ttl_ns;
  e->deadline_ns.store(s.NowNs() + ttl_ns, std::memory_order_relaxed);
  e->expired = expired;
  if (expired) {
    e->scheduled_ns = kNever;  // Any heap node it has is now stale.
  } else {
    s.ScheduleLocked(e);
  }
}

void TtlTracker::Untrack(const std::string& node, const std::string& check_id) {
  State& s = *state_;
  WriterLock l(&s.mu);
  auto it = s.entries.find(KeyView{node, check_id});
  if (it == s.entries.end()) return;
  it->second->removed = true;
  s.entries.erase(it);
}

TtlTracker::PassResult TtlTracker::Pass(std::string_view node,
                                        std::string_view check_id) {
  State& s = *state_;
  const int64_t now = s.NowNs();
  const KeyView key{node, check_id};
  {
    ReaderLock l(&s.mu);
    auto it = s.entries.find(key);
    if (it == s.entries.end()) return PassResult::kNotTracked;
    State::Entry& e = *it->second;
    if (!e.expired) {
      // The expiry scan holds the exclusive lock, so it either saw this
      // deadline or finished before we looked at `expired`.
      StoreMax(e.deadline_ns, now + e.ttl_ns);
      return PassResult::kOk;
    }
  }
  // Revival: rare; needs a heap node, hence the exclusive lock.
  WriterLock l(&s.mu);
  auto e = s.FindLocked(key);
  if (!e) return PassResult::kNotTracked;
  StoreMax(e->deadline_ns, now + e->ttl_ns);
  if (!e->expired) return PassResult::kOk;  // Another pass revived it.
  e->expired = false;
  s.ScheduleLocked(e);
  return PassResult::kRevived;
}

void TtlTracker::ResetAll() {
  State& s = *state_;
  WriterLock l(&s.mu);
  const int64_t now = s.NowNs();
  // Deadlines only move later, so existing heap nodes stay valid lower
  // bounds and nothing needs re-arming.
  for (auto& [key, e] : s.entries) {
    if (!e->expired) StoreMax(e->deadline_ns, now + e->ttl_ns);
  }
}

void TtlTracker::Pause() {
  State& s = *state_;
  WriterLock l(&s.mu);
  if (s.paused) return;
  // Rearm() with paused set drops the alarm; it must run before we set the
  // flag that makes PostRearmLocked() a no-op.
  s.rearm_pending = true;
  s.paused = true;
  asio::post(s.strand, [st = state_] { st->Rearm(); });
}

void TtlTracker::Resume() {
  State& s = *state_;
  WriterLock l(&s.mu);
  if (!s.paused) return;
  s.paused = false;
  s.rearm_pending = false;
  s.armed_at_ns = kNever;  // Force Rearm() to set a fresh alarm.
  s.PostRearmLocked();
}

size_t TtlTracker::size() const {
  ReaderLock l(&state_->mu);
  return state_->entries.size();
}

}  // namespace sider::agent
