// The fan-out floor of the machine: the least any server has to do to
// answer K parked HTTP requests, measured with the same watchers
// (`watch-park`) as Sider's fan-out.
//
// `sider-loadgen fanout-floor` listens on 127.0.0.1, answers requests
// without ?index= at once (X-Consul-Index: 1, so that the watchers then
// park with index=1), and holds requests with ?index= open. Once K are held
// it prints "PARKED <k>" and waits for a line on stdin; then `threads`
// threads write one reply to every held socket — a single non-blocking
// send each, no parsing, no store, no allocation — and it prints
// "RESULT start_ns=<n> end_ns=<n> sent=<k>" (CLOCK_MONOTONIC, like the
// watchers' times). The reply has Sider's header fields and a body of
// `body_bytes` (814: Sider's reply for the benchmark's one-instance
// service). It keeps the sockets open until stdin closes.
//
// So "start → last watcher notified" is what the kernel's loopback TCP and
// the watcher processes cost on this machine, and a server's fan-out time
// can be read against it (docs/benchmarks.md).
//
// Thread safety: blocks the caller; owns every thread and socket it makes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/status.h"

namespace sider::bench {

struct FloorOptions {
  uint16_t port = 0;  // 0: any free port; printed as "LISTENING <port>".
  unsigned watchers = 1000;
  unsigned threads = 2;
  size_t body_bytes = 814;
  std::chrono::milliseconds timeout{60000};  // For parking.
};

Status RunFanoutFloor(const FloorOptions& o);

}  // namespace sider::bench
