// The watch fan-out workload, split over processes: `watch-park` parks K
// watchers on one service and reports when each was notified; one
// `watch-trigger` makes the change and reports when it was acknowledged.
// Both print steady-clock (CLOCK_MONOTONIC) nanoseconds, which every process
// on the machine shares, so the harness subtracts across processes.
//
//   Sider  blocking queries: GET /v1/health/service/<name>?index=I&wait=W,
//          one connection each; notified = the whole reply has arrived
//   etcd   one gateway watch stream per connection on the service prefix
//          (POST /v3/watch); parked = "created" seen; notified = "events"
//   ZK     one session per watcher with a child watch on /bench-<name>
//          (a ZooKeeper server keeps one watch per path per session)
//
// ParkWatchers prints "PARKED <n>" once every watcher is parked (or the
// timeout passes), then waits for the notifications, writes one timestamp
// per notified watcher to `out_path`, and returns.
//
// Thread safety: both functions block the caller; they own every thread and
// socket they create.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "http_conn.h"
#include "workload.h"

namespace sider::bench {

struct WatchOptions {
  System system = System::kSider;
  std::vector<Endpoint> endpoints;
  std::string name = "fanout";  // The service (Sider) or prefix (etcd, ZK).
  unsigned watchers = 1000;
  std::chrono::milliseconds timeout{60000};  // Whole run, parking included.
  std::string out_path;
};

Status ParkWatchers(const WatchOptions& o);
// Makes one change to the watched service; prints
// "RESULT sent_ns=<n> ack_ns=<n>" (request sent, reply received).
Status TriggerChange(const WatchOptions& o);

// ZooKeeper halves (zk_watch.cc).
Status ParkZkWatchers(const WatchOptions& o);
Status TriggerZkChange(const WatchOptions& o);

// Writes the notification times, one per line.
Status WriteTimes(const std::string& path, const std::vector<uint64_t>& ns);

}  // namespace sider::bench
