#include "http_driver.h"

#include <pthread.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sider::bench {
namespace {

struct Shared {
  std::atomic<uint64_t> next{0};
  uint64_t count = 0;
  std::chrono::steady_clock::time_point deadline;
};

asio::awaitable<void> Client(HttpWorkload& workload, HttpConn& conn,
                             Shared& shared, bool record_acks,
                             RunStats& stats) {
  asio::steady_timer backoff(co_await asio::this_coro::executor);
  for (;;) {
    if (std::chrono::steady_clock::now() >= shared.deadline) break;
    const uint64_t seq = shared.next.fetch_add(1);
    if (seq >= shared.count) break;
    const uint64_t t0 = SteadyNanos();
    Status s = co_await workload.Once(conn, seq);
    const uint64_t t1 = SteadyNanos();
    if (s.ok()) {
      ++stats.ops;
      stats.latency.Record(t1 - t0);
      if (record_acks) stats.acks.push_back({t0, t1});
      continue;
    }
    ++stats.errors;
    if (stats.first_error.empty()) stats.first_error = s.message();
    boost::system::error_code ignored;
    backoff.expires_after(std::chrono::milliseconds(20));
    co_await backoff.async_wait(
        asio::redirect_error(asio::use_awaitable, ignored));
  }
}

Status RunSetup(HttpWorkload& workload, const DriverOptions& o) {
  asio::io_context io(1);
  Status result(Code::kInternal, "setup did not finish");
  HttpConn conn(io.get_executor(), o.endpoints, 0, o.timeout);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await workload.Setup(conn);
      },
      asio::detached);
  io.run();
  return result;
}

}  // namespace

Result<DriverResult> RunHttp(HttpWorkload& workload, const DriverOptions& o) {
  if (o.endpoints.empty() || o.clients == 0) {
    return Status(Code::kInvalidArgument, "need endpoints and clients");
  }
  SIDER_RETURN_IF_ERROR(RunSetup(workload, o));

  asio::io_context io(static_cast<int>(o.threads));
  Shared shared;
  shared.count = o.count;
  std::vector<std::unique_ptr<HttpConn>> conns;
  std::vector<RunStats> stats(o.clients);
  for (unsigned i = 0; i < o.clients; ++i) {
    // A strand per client: with several threads, one connection's handlers
    // never run concurrently.
    conns.push_back(std::make_unique<HttpConn>(
        asio::make_strand(io.get_executor()), o.endpoints, i, o.timeout));
  }
  const auto start = std::chrono::steady_clock::now();
  shared.deadline = start + o.duration;
  for (unsigned i = 0; i < o.clients; ++i) {
    asio::co_spawn(conns[i]->executor(),
                   Client(workload, *conns[i], shared, o.record_acks, stats[i]),
                   asio::detached);
  }
  {
    std::vector<std::jthread> threads;
    for (unsigned t = 1; t < o.threads; ++t) {
      threads.emplace_back([&io] {
        pthread_setname_np(pthread_self(), "loadgen-io");
        io.run();
      });
    }
    io.run();
  }
  DriverResult out;
  out.seconds = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  for (auto& s : stats) out.stats.Merge(std::move(s));
  return out;
}

}  // namespace sider::bench
