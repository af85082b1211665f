// CheckRunner: runs an agent's HTTP, TCP and command ("Args") health checks
// periodically on the io pool, and reports every result. It decides nothing
// about what to replicate: the caller turns results into Raft commands (only
// transitions, and output changes at most every few seconds).
//
// Semantics follow Consul's agent/checks:
//  * HTTP: one request per run on a fresh connection (Beast, plain TCP).
//    Method defaults to GET; Header and Body are sent as given; the
//    User-Agent is "Consul Health Check" as in Consul, unless a Header sets
//    one. 2xx is passing, 429 warning, anything else (or no response)
//    critical. Output: "HTTP GET <url>: <code> <reason> Output: <body>",
//    the body cut to its first 4 KiB. https:// is NOT supported: such a
//    check reports critical with an explanatory output.
//  * TCP: connect to "host:port" ("[v6]:port" for IPv6) within the timeout:
//    passing "TCP connect <addr>: Success", else critical with the error.
//  * Command: posix_spawnp(Args) in its own process group, stdin from
//    /dev/null, stdout and stderr into one pipe; the last 4 KiB of output
//    is kept (Consul's circular buffer). Exit 0 passing, 1 warning, anything
//    else (a signal, exec failure) critical. On timeout the whole process
//    group gets SIGKILL and the result is critical. The child is reaped via
//    a pidfd, never by blocking an io thread.
//  * Timeout defaults: 10 s for HTTP and TCP, 30 s for commands (Consul's).
//  * Interval: clamped up to Options::min_interval (Consul's 1 s). The first
//    run happens after a random delay in [0, min(interval,
//    Options::max_initial_stagger)] (Consul staggers over the whole interval;
//    we cap it so a new service is checked promptly); each later run starts
//    one interval after the previous one finished.
//  * At most Options::max_concurrent runs execute at once; the rest queue.
//
// Threading: Upsert(), Remove() and Stop() may be called from any thread,
// including from inside Report. Each check's work runs on its own strand of
// `io`; Report is called on an io thread and may run concurrently for
// different checks (never for the same check). After Stop() (or the
// destructor) returns, Report is not running and is never called again —
// so do not call Stop() or destroy the runner from inside Report.
// Lifetime: destroy the runner before `io` (Stop() posts to it); `clock`
// must outlive `io`'s queued handlers. In-flight runs share ownership of
// their state, so destroying the runner with work still queued is safe. A
// child process still running when its run state is destroyed is killed
// and reaped.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "structs/catalog.h"

namespace sider::agent {

struct CheckResult {
  std::string check_id;
  structs::HealthStatus status = structs::HealthStatus::kCritical;
  std::string output;
};

class CheckRunner {
 public:
  using Report = std::function<void(CheckResult)>;

  struct Options {
    std::chrono::nanoseconds min_interval = std::chrono::seconds(1);
    std::chrono::nanoseconds max_initial_stagger =
        std::chrono::milliseconds(500);
    size_t max_concurrent = 32;
  };

  CheckRunner(asio::io_context& io, Clock& clock, Report report);
  CheckRunner(asio::io_context& io, Clock& clock, Report report,
              Options options);
  ~CheckRunner();  // Stop().
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // Starts, or restarts from scratch, the runner for check.check_id if its
  // type is kHttp, kTcp or kCmd; for any other type it only stops a runner
  // of that id (a check that changed type is no longer ours to run). A run
  // in flight for the old definition is cancelled and not reported. If the
  // runner exists with the same type and definition, nothing happens (the
  // schedule is kept), so re-registering is cheap.
  void Upsert(const structs::Check& check);
  // Stops and forgets the check's runner; a no-op if there is none.
  void Remove(const std::string& check_id);
  // Cancels everything (kills running commands); Upsert() afterwards is
  // ignored. Idempotent.
  void Stop();

  size_t size() const;  // Checks with a runner.

 private:
  struct Core;  // Shared with in-flight runs; defined in the .cc file.
  struct Task;  // One check's schedule.

  asio::io_context& io_;
  Clock& clock_;
  const Options options_;
  const std::shared_ptr<Core> core_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Task>> tasks_ SIDER_GUARDED_BY(mu_);
  std::minstd_rand rng_ SIDER_GUARDED_BY(mu_);
  bool stopped_ SIDER_GUARDED_BY(mu_) = false;
};

}  // namespace sider::agent
