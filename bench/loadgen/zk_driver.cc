#include "zk_driver.h"

#include "zk_session.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sider::bench {
namespace {

struct Run;

// One operation slot. While an operation is in flight only the session's
// completion thread touches the slot; the starting thread touches it only
// before its first operation is in flight.
struct Slot {
  Run* run = nullptr;
  zhandle_t* zh = nullptr;
  RunStats stats;
  uint64_t t0 = 0;
  int pending = 0;  // discover: getData replies still to come.
  int rc = ZOK;
};

struct Run {
  Workload workload;
  WorkloadOptions wo;
  bool record_acks = false;
  std::string base;  // /bench-<prefix>
  std::string value;
  uint64_t count = 0;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;  // Slots still running; guarded by mu.
};

void Next(Slot* slot);

void Finish(Slot* slot, int rc) {
  const uint64_t t1 = SteadyNanos();
  RunStats& st = slot->stats;
  if (rc == ZOK) {
    ++st.ops;
    st.latency.Record(t1 - slot->t0);
    if (slot->run->record_acks) st.acks.push_back({slot->t0, t1});
  } else {
    ++st.errors;
    if (st.first_error.empty()) st.first_error = zerror(rc);
  }
  Next(slot);
}

void OnCreated(int rc, const char*, const void* data) noexcept {
  Finish(static_cast<Slot*>(const_cast<void*>(data)), rc);
}

void OnData(int rc, const char*, int, const Stat*, const void* data) noexcept {
  auto* slot = static_cast<Slot*>(const_cast<void*>(data));
  if (rc != ZOK) slot->rc = rc;
  if (--slot->pending == 0) Finish(slot, slot->rc);
}

void OnChildren(int rc, const String_vector* children,
                const void* data) noexcept {
  auto* slot = static_cast<Slot*>(const_cast<void*>(data));
  if (rc != ZOK || children == nullptr || children->count == 0) {
    Finish(slot, rc != ZOK ? rc : ZNONODE);
    return;
  }
  slot->pending = children->count;
  slot->rc = ZOK;
  const std::string dir = slot->run->base + "/disc/";
  for (int i = 0; i < children->count; ++i) {
    const std::string path = dir + children->data[i];
    const int arc = zoo_aget(slot->zh, path.c_str(), 0, OnData, slot);
    if (arc != ZOK) {
      slot->rc = arc;
      slot->pending -= children->count - i;  // The rest will never answer.
      if (slot->pending == 0) Finish(slot, arc);
      return;
    }
  }
}

void OnSynced(int rc, const char*, const void* data) noexcept {
  auto* slot = static_cast<Slot*>(const_cast<void*>(data));
  if (rc != ZOK) {
    Finish(slot, rc);
    return;
  }
  const std::string dir = slot->run->base + "/disc";
  const int arc = zoo_aget_children(slot->zh, dir.c_str(), 0, OnChildren, slot);
  if (arc != ZOK) Finish(slot, arc);
}

void Stop(Run* run) {
  std::lock_guard lock(run->mu);
  if (--run->active == 0) run->cv.notify_all();
}

// Starts the slot's next operation, or retires the slot. A call that fails
// synchronously (no connection) counts as an error and, after a short pause
// so a lost ensemble is not spun on, tries again.
void Next(Slot* slot) {
  Run& run = *slot->run;
  for (;;) {
    const uint64_t seq = run.next.fetch_add(1);
    if (std::chrono::steady_clock::now() >= run.deadline || seq >= run.count) {
      Stop(slot->run);
      return;
    }
    slot->t0 = SteadyNanos();
    int rc = ZOK;
    if (run.workload == Workload::kRegister) {
      const std::string path = run.base + "/reg/" + run.wo.prefix + "-" +
                               std::to_string(seq);
      rc = zoo_acreate(slot->zh, path.c_str(), run.value.data(),
                       static_cast<int>(run.value.size()), &ZOO_OPEN_ACL_UNSAFE,
                       ZOO_EPHEMERAL, OnCreated, slot);
    } else if (run.wo.stale) {
      const std::string dir = run.base + "/disc";
      rc = zoo_aget_children(slot->zh, dir.c_str(), 0, OnChildren, slot);
    } else {
      const std::string dir = run.base + "/disc";
      rc = zoo_async(slot->zh, dir.c_str(), OnSynced, slot);
    }
    if (rc == ZOK) return;
    ++slot->stats.errors;
    if (slot->stats.first_error.empty()) slot->stats.first_error = zerror(rc);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status Setup(const Run& run, ZkSession& zk) {
  SIDER_RETURN_IF_ERROR(zk.EnsurePath(run.base + "/reg"));
  if (run.workload != Workload::kDiscover) return Status();
  SIDER_RETURN_IF_ERROR(zk.EnsurePath(run.base + "/disc"));
  for (unsigned i = 0; i < run.wo.instances; ++i) {
    const std::string id = run.wo.prefix + "-disc-" + std::to_string(i);
    SIDER_RETURN_IF_ERROR(zk.Create(run.base + "/disc/" + id,
                                    InstanceJson(id, 8000 + i), ZOO_EPHEMERAL,
                                    /*exist_ok=*/true));
  }
  return Status();
}

}  // namespace

const bool kHaveZooKeeper = true;

ZkResult::ZkResult() = default;
ZkResult::ZkResult(ZkResult&&) noexcept = default;
ZkResult& ZkResult::operator=(ZkResult&&) noexcept = default;
ZkResult::~ZkResult() = default;

Result<ZkResult> RunZk(Workload workload, const WorkloadOptions& wo,
                       const DriverOptions& o, unsigned sessions, bool hold) {
  if (workload == Workload::kHeartbeat) {
    return Status(Code::kInvalidArgument,
                  "heartbeat is not comparable on ZooKeeper (session pings)");
  }
  if (sessions == 0 || o.clients == 0 || o.endpoints.empty()) {
    return Status(Code::kInvalidArgument, "need sessions, clients, endpoints");
  }
  ZkQuietLogs();
  Run run;
  run.workload = workload;
  run.wo = wo;
  run.record_acks = o.record_acks;
  run.base = "/bench-" + wo.prefix;
  run.value = InstanceJson(wo.prefix, 8080);
  run.count = o.count;

  ZkResult out;
  for (unsigned i = 0; i < sessions; ++i) {
    const Endpoint& ep = o.endpoints[i % o.endpoints.size()];
    auto s = ZkSession::Connect(ep.host + ":" + std::to_string(ep.port),
                                std::chrono::milliseconds(30000), o.timeout);
    if (!s.ok()) return s.status();
    out.sessions.push_back(std::move(s).value());
  }
  SIDER_RETURN_IF_ERROR(Setup(run, *out.sessions[0]));

  std::vector<Slot> slots(o.clients);
  run.active = static_cast<int>(o.clients);
  const auto start = std::chrono::steady_clock::now();
  run.deadline = start + o.duration;
  for (unsigned i = 0; i < o.clients; ++i) {
    slots[i].run = &run;
    slots[i].zh = out.sessions[i % sessions]->handle();
  }
  for (auto& slot : slots) Next(&slot);
  {
    std::unique_lock lock(run.mu);
    run.cv.wait(lock, [&] { return run.active == 0; });
  }
  out.run.seconds = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  for (auto& slot : slots) out.run.stats.Merge(std::move(slot.stats));
  if (!hold) out.sessions.clear();
  return out;
}

}  // namespace sider::bench
