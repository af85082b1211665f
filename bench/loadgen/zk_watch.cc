// The ZooKeeper halves of the watch fan-out (see watch.h). Each watcher is
// its own session, because a ZooKeeper server registers one watch per path
// per session; with the multi-threaded C client that is two client threads
// per watcher, which is why the harness spreads watchers over processes.
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "run_stats.h"
#include "watch.h"
#include "zk_session.h"

namespace sider::bench {
namespace {

struct ZkWatcher {
  std::atomic<uint64_t> notified_ns{0};
  std::atomic<bool> parked{false};
};

// Runs on the session's completion thread.
void OnChildEvent(zhandle_t*, int type, int, const char*, void* ctx) noexcept {
  if (type != ZOO_CHILD_EVENT) return;
  auto* w = static_cast<ZkWatcher*>(ctx);
  uint64_t expected = 0;
  w->notified_ns.compare_exchange_strong(expected, SteadyNanos());
}

void OnWatchSet(int rc, const String_vector*, const void* data) noexcept {
  if (rc == ZOK) {
    static_cast<ZkWatcher*>(const_cast<void*>(data))->parked.store(true);
  }
}

std::string Hosts(const WatchOptions& o, unsigned i) {
  const Endpoint& e = o.endpoints[i % o.endpoints.size()];
  return e.host + ":" + std::to_string(e.port);
}

}  // namespace

Status ParkZkWatchers(const WatchOptions& o) {
  ZkQuietLogs();
  const std::string path = "/bench-" + o.name;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  std::vector<std::unique_ptr<ZkSession>> sessions;
  std::vector<ZkWatcher> watchers(o.watchers);
  for (unsigned i = 0; i < o.watchers; ++i) {
    auto s = ZkSession::Connect(Hosts(o, i), std::chrono::milliseconds(40000),
                                std::chrono::milliseconds(20000));
    if (!s.ok()) return s.status();
    sessions.push_back(std::move(s).value());
    if (i == 0) SIDER_RETURN_IF_ERROR(sessions[0]->EnsurePath(path));
    SIDER_RETURN_IF_ERROR(ZkStatus(
        zoo_awget_children(sessions[i]->handle(), path.c_str(), OnChildEvent,
                           &watchers[i], OnWatchSet, &watchers[i]),
        "getChildren " + path));
  }
  auto count = [&](auto pred) {
    unsigned n = 0;
    for (const auto& w : watchers) n += pred(w) ? 1 : 0;
    return n;
  };
  auto parked = [](const ZkWatcher& w) { return w.parked.load(); };
  auto notified = [](const ZkWatcher& w) { return w.notified_ns.load() != 0; };
  // The C client signals completions on its own threads; polling here is
  // the orchestration of a benchmark, not of a unit test.
  while (count(parked) < o.watchers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::printf("PARKED %u\n", count(parked));
  std::fflush(stdout);
  while (count(notified) < count(parked) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::vector<uint64_t> times;
  for (const auto& w : watchers) {
    if (notified(w)) times.push_back(w.notified_ns.load());
  }
  std::printf("RESULT watchers=%u parked=%u notified=%zu\n", o.watchers,
              count(parked), times.size());
  std::fflush(stdout);
  sessions.clear();  // Closes every session before `watchers` goes away.
  return WriteTimes(o.out_path, times);
}

Status TriggerZkChange(const WatchOptions& o) {
  ZkQuietLogs();
  auto s = ZkSession::Connect(Hosts(o, 0), std::chrono::milliseconds(30000),
                              std::chrono::milliseconds(20000));
  if (!s.ok()) return s.status();
  const std::string path = "/bench-" + o.name + "/trigger-" +
                           std::to_string(SteadyNanos());
  const uint64_t sent = SteadyNanos();
  SIDER_RETURN_IF_ERROR((*s)->Create(path, InstanceJson("trigger", 1), 0, false));
  const uint64_t ack = SteadyNanos();
  std::printf("RESULT sent_ns=%llu ack_ns=%llu\n",
              static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(ack));
  std::fflush(stdout);
  return Status();
}

}  // namespace sider::bench
