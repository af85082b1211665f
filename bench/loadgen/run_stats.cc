#include "run_stats.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

namespace sider::bench {

void RunStats::Merge(RunStats&& other) {
  latency.Merge(other.latency);
  ops += other.ops;
  errors += other.errors;
  if (first_error.empty()) first_error = std::move(other.first_error);
  acks.insert(acks.end(), other.acks.begin(), other.acks.end());
}

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

uint64_t SteadyNanos() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

void PrintResult(const std::string& system, const std::string& workload,
                 const RunStats& stats, double seconds, double cpu_seconds) {
  const double ms = 1e-6;
  std::printf(
      "RESULT system=%s workload=%s ops=%llu errors=%llu secs=%.3f "
      "ops_per_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      "loadgen_cpu_s=%.3f\n",
      system.c_str(), workload.c_str(),
      static_cast<unsigned long long>(stats.ops),
      static_cast<unsigned long long>(stats.errors), seconds,
      seconds > 0 ? static_cast<double>(stats.ops) / seconds : 0.0,
      static_cast<double>(stats.latency.Quantile(0.50)) * ms,
      static_cast<double>(stats.latency.Quantile(0.99)) * ms,
      static_cast<double>(stats.latency.max()) * ms, cpu_seconds);
  if (!stats.first_error.empty()) {
    std::fprintf(stderr, "first error: %s\n", stats.first_error.c_str());
  }
  std::fflush(stdout);
}

}  // namespace sider::bench
