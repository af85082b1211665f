#include "watch.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "run_stats.h"

namespace sider::bench {
namespace {

using asio::ip::tcp;
using boost::beast::http::verb;

// One parked watcher on a raw socket: writes `request`, reads until
// `ready_marker` (if any) to count as parked, then until `fire_marker`.
// The socket is kept open after the notification, until the whole process
// is done: a watcher that closes at once would make the server process
// thousands of disconnects while it is still answering the others, which
// is the client's teardown, not the fan-out (real watchers keep their
// connection and ask again).
struct Watcher {
  uint64_t notified_ns = 0;
  bool parked = false;
  std::unique_ptr<tcp::socket> sock;
};

struct ParkState {
  std::string request;
  std::string ready_marker;  // Empty: parked once the request is written.
  std::string fire_marker;
  unsigned parked = 0;
  unsigned failed_unparked = 0;  // Gave up before parking.
  unsigned done = 0;
  std::string first_error;
};

asio::awaitable<void> Watch(tcp::endpoint ep, ParkState& st, Watcher& w) {
  boost::system::error_code ec;
  w.sock = std::make_unique<tcp::socket>(co_await asio::this_coro::executor);
  tcp::socket& sock = *w.sock;
  co_await sock.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    co_await asio::async_write(sock, asio::buffer(st.request),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  std::string seen;
  char buf[4096];
  auto mark_parked = [&] {
    if (!w.parked) {
      w.parked = true;
      ++st.parked;
    }
  };
  if (!ec && st.ready_marker.empty()) mark_parked();
  while (!ec) {
    const size_t n = co_await sock.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    seen.append(buf, n);
    if (!st.ready_marker.empty() && seen.find(st.ready_marker) != std::string::npos) {
      mark_parked();
    }
    if (w.parked) {
      // Only bytes after the ready marker can hold the notification.
      const size_t from = st.ready_marker.empty()
                              ? 0
                              : seen.find(st.ready_marker) + st.ready_marker.size();
      if (seen.find(st.fire_marker, from) != std::string::npos) {
        w.notified_ns = SteadyNanos();
        break;
      }
    }
  }
  if (ec && st.first_error.empty()) st.first_error = ec.message();
  if (!w.parked) ++st.failed_unparked;
  ++st.done;
}

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

Result<ParkState> StateFor(const WatchOptions& o) {
  ParkState st;
  const auto wait_s = std::to_string(o.timeout.count() / 1000 + 30);
  if (o.system == System::kSider) {
    SIDER_ASSIGN_OR_RETURN(std::string index, SiderIndex(o));
    st.request = "GET /v1/health/service/" + o.name + "?index=" + index +
                 "&wait=" + wait_s + "s HTTP/1.1\r\nHost: bench\r\n\r\n";
    st.fire_marker = "\r\n\r\n";
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

Status ParkWatchers(const WatchOptions& o) {
  if (o.system == System::kZk) return ParkZkWatchers(o);
  SIDER_ASSIGN_OR_RETURN(ParkState st, StateFor(o));
  asio::io_context io(1);
  std::vector<Watcher> watchers(o.watchers);
  for (unsigned i = 0; i < o.watchers; ++i) {
    const Endpoint& e = o.endpoints[i % o.endpoints.size()];
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(e.host, ec);
    if (ec) return Status(Code::kInvalidArgument, "bad address " + e.host);
    tcp::endpoint ep(addr, e.port);
    asio::co_spawn(io, Watch(ep, st, watchers[i]), asio::detached);
  }
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  // Park, announce, then wait for the notifications, all on this thread.
  while (st.parked + st.failed_unparked < o.watchers &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(50));
  }
  std::printf("PARKED %u\n", st.parked);
  std::fflush(stdout);
  const double cpu_parked = ProcessCpuSeconds();
  while (st.done < o.watchers && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(50));
  }
  std::vector<uint64_t> times;
  for (const Watcher& w : watchers) {
    if (w.notified_ns != 0) times.push_back(w.notified_ns);
  }
  if (!st.first_error.empty()) {
    std::fprintf(stderr, "first watcher error: %s\n", st.first_error.c_str());
  }
  // CPU this process spent from "PARKED" on: reading the notifications,
  // which shares the machine's cores with the server during a fan-out.
  std::printf(
      "RESULT watchers=%u parked=%u notified=%zu cpu_after_park_s=%.3f\n",
      o.watchers, st.parked, times.size(), ProcessCpuSeconds() - cpu_parked);
  std::fflush(stdout);
  Status written = WriteTimes(o.out_path, times);
  // Hold the connections a little longer, so that this process's
  // disconnects do not land while the other watcher processes are still
  // being answered (see Watcher).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  io.stop();
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
