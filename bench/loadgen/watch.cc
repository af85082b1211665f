#include "watch.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "run_stats.h"
#include "watch_poll.h"

namespace sider::bench {
namespace {

using boost::beast::http::verb;

Result<std::string> SiderIndex(const WatchOptions& o) {
  asio::io_context io;
  Result<HttpReply> reply = Status(Code::kInternal, "not run");
  HttpConn conn(io.get_executor(), o.endpoints, 0, std::chrono::seconds(10));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        reply = co_await conn.Send(verb::get, "/v1/health/service/" + o.name, "");
      },
      asio::detached);
  io.run();
  if (!reply.ok()) return reply.status();
  SIDER_RETURN_IF_ERROR(StatusOfReply(*reply, "health"));
  if (!reply->consul_index) return Status(Code::kInternal, "no X-Consul-Index");
  return *reply->consul_index;
}

Result<WatchProtocol> ProtocolFor(const WatchOptions& o) {
  WatchProtocol st;
  const auto wait_s = std::to_string(o.timeout.count() / 1000 + 30);
  if (o.system == System::kSider) {
    SIDER_ASSIGN_OR_RETURN(std::string index, SiderIndex(o));
    st.request = "GET /v1/health/service/" + o.name + "?index=" + index +
                 "&wait=" + wait_s + "s HTTP/1.1\r\nHost: bench\r\n\r\n";
    st.done = WatchProtocol::Done::kHttpReply;  // The whole reply.
    return st;
  }
  const std::string prefix = "/bench/" + o.name + "/";
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  const std::string body = "{\"create_request\":{\"key\":\"" + Base64(prefix) +
                           "\",\"range_end\":\"" + Base64(end) + "\"}}";
  st.request = "POST /v3/watch HTTP/1.1\r\nHost: bench\r\nContent-Type: "
               "application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
  st.ready_marker = "\"created\":true";
  st.done = WatchProtocol::Done::kMarker;
  st.fire_marker = "\"events\"";
  return st;
}

}  // namespace

Status WriteTimes(const std::string& path, const std::vector<uint64_t>& ns) {
  std::ofstream f(path);
  for (uint64_t t : ns) f << t << '\n';
  f.close();
  if (!f) return Status(Code::kInternal, "cannot write " + path);
  return Status();
}

// The sockets are kept open after the notification, until the whole
// process is done: a watcher that closes at once would make the server
// process thousands of disconnects while it is still answering the others,
// which is the client's teardown, not the fan-out (real watchers keep their
// connection and ask again).
Status ParkWatchers(const WatchOptions& o) {
  if (o.system == System::kZk) return ParkZkWatchers(o);
  SIDER_ASSIGN_OR_RETURN(WatchProtocol protocol, ProtocolFor(o));
  WatchPoll poll(std::move(protocol), o.endpoints, o.watchers);
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  SIDER_RETURN_IF_ERROR(poll.Park(deadline));
  std::printf("PARKED %u\n", poll.parked());
  std::fflush(stdout);
  const double cpu_parked = ProcessCpuSeconds();
  poll.AwaitNotifications(deadline);
  const std::vector<uint64_t> times = poll.NotificationTimes();
  if (!poll.first_error().empty()) {
    std::fprintf(stderr, "first watcher error: %s\n", poll.first_error().c_str());
  }
  // CPU this process spent from "PARKED" on: reading the notifications,
  // which shares the machine's cores with the server during a fan-out.
  std::printf(
      "RESULT watchers=%u parked=%u notified=%zu cpu_after_park_s=%.3f\n",
      o.watchers, poll.parked(), times.size(), ProcessCpuSeconds() - cpu_parked);
  std::fflush(stdout);
  Status written = WriteTimes(o.out_path, times);
  // Hold the connections a little longer, so that this process's
  // disconnects do not land while the other watcher processes are still
  // being answered.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return written;
}

Status TriggerChange(const WatchOptions& o) {
  if (o.system == System::kZk) return TriggerZkChange(o);
  asio::io_context io;
  Status result(Code::kInternal, "not run");
  uint64_t sent = 0, ack = 0;
  HttpConn conn(io.get_executor(), o.endpoints, 0, std::chrono::seconds(10));
  std::string target, body;
  verb method = verb::put;
  const std::string id = o.name + "-trigger-" + std::to_string(SteadyNanos());
  if (o.system == System::kSider) {
    target = "/v1/agent/service/register";
    body = "{\"Name\":\"" + o.name + "\",\"ID\":\"" + id + "\",\"Port\":1}";
  } else {
    method = verb::post;
    target = "/v3/kv/put";
    body = "{\"key\":\"" + Base64("/bench/" + o.name + "/" + id) +
           "\",\"value\":\"" + Base64(InstanceJson(id, 1)) + "\"}";
  }
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        sent = SteadyNanos();
        auto r = co_await conn.Send(method, target, body);
        ack = SteadyNanos();
        result = r.ok() ? StatusOfReply(*r, "trigger") : r.status();
      },
      asio::detached);
  io.run();
  SIDER_RETURN_IF_ERROR(result);
  std::printf("RESULT sent_ns=%llu ack_ns=%llu\n",
              static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(ack));
  std::fflush(stdout);
  return Status();
}

}  // namespace sider::bench
