// RunZk: the closed-loop driver for ZooKeeper, the counterpart of RunHttp.
// `clients` operation slots are spread over `sessions` ZooKeeper sessions
// (session i talks to endpoint i mod N). Each slot keeps one operation in
// flight and starts the next from the completion of the last, on the
// session's completion thread, until `count` operations have started or
// `duration` has passed.
//
//   register   zoo_acreate of an ephemeral znode under /bench-<prefix>/reg
//   discover   getChildren of /bench-<prefix>/disc plus a getData of each
//              of its 10 children; unless `stale`, preceded by zoo_async
//              (ZooKeeper's sync), the nearest thing to a linearizable read
//   heartbeat  not comparable (sessions ping, znodes are not renewed):
//              rejected with kInvalidArgument
//
// Thread safety: blocks the caller until every slot has stopped; then closes
// the sessions (deleting their ephemeral znodes) unless `hold` is set, in
// which case they are handed back so the caller can keep them open.
#pragma once

#include <memory>
#include <vector>

#include "http_driver.h"
#include "run_stats.h"
#include "workload.h"

namespace sider::bench {

// Built without libzookeeper-mt-dev, every ZooKeeper entry point (this and
// watch.h's) returns kUnavailable saying so (zk_stub.cc).
extern const bool kHaveZooKeeper;

class ZkSession;

struct ZkResult {
  ZkResult();
  ZkResult(ZkResult&&) noexcept;
  ZkResult& operator=(ZkResult&&) noexcept;
  ~ZkResult();  // Closes any held sessions.

  DriverResult run;
  std::vector<std::unique_ptr<ZkSession>> sessions;  // Empty unless held.
};

Result<ZkResult> RunZk(Workload workload, const WorkloadOptions& wo,
                       const DriverOptions& o, unsigned sessions, bool hold);

}  // namespace sider::bench
