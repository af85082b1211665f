// RunStats: what one timed run measured, and how it is printed. Every
// subcommand of sider-loadgen ends with one line
//   RESULT key=value key=value ...
// that bench/harness parses; keys are stable (add, never rename).
//
// Thread safety: a value type; merge per-client copies after they stop.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "histogram.h"

namespace sider::bench {

struct AckTimes {  // One acknowledged operation, steady-clock nanoseconds.
  uint64_t sent_ns;
  uint64_t acked_ns;
};

struct RunStats {
  Histogram latency;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<AckTimes> acks;  // Only when asked for (failover).

  void Merge(RunStats&& other);
};

// This process's user+system CPU seconds so far (all threads).
double ProcessCpuSeconds();
// Nanoseconds of the steady clock, which on Linux is CLOCK_MONOTONIC (the
// clock Python's time.monotonic_ns() reads, so the harness can compare).
uint64_t SteadyNanos();

// Prints the RESULT line for a throughput run to stdout.
void PrintResult(const std::string& system, const std::string& workload,
                 const RunStats& stats, double seconds, double cpu_seconds);

}  // namespace sider::bench
