// RunHttp: the closed-loop driver for the HTTP systems. `clients`
// coroutines, each with its own keep-alive connection (spread round-robin
// over the endpoints), issue one operation at a time until `count`
// operations have been started or `duration` has passed, whichever is
// first. Setup() runs before the clock starts. After an error a client
// backs off 20 ms so a leaderless cluster is not hammered in a hot loop.
//
// Thread safety: blocks the calling thread; runs `threads` Asio threads and
// joins them before returning.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/status.h"
#include "run_stats.h"
#include "workload.h"

namespace sider::bench {

struct DriverOptions {
  std::vector<Endpoint> endpoints;
  unsigned clients = 64;
  unsigned threads = 1;
  uint64_t count = UINT64_MAX;
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds timeout{5000};  // Per request.
  bool record_acks = false;
};

struct DriverResult {
  RunStats stats;
  double seconds = 0;  // From the first operation to the last completion.
};

Result<DriverResult> RunHttp(HttpWorkload& workload, const DriverOptions& o);

}  // namespace sider::bench
