// A minimal Sider HTTP server for load tests of the framework alone:
//   sider_http_bench_server [port] [threads]
//   wrk -t2 -c64 -d5s http://127.0.0.1:PORT/v1/status/leader
// It answers /v1/status/leader with a constant and decorates every
// response with the two headers the real app adds, so the measured path is
// the one production takes minus the store read.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "http/server.h"

int main(int argc, char** argv) {
  using namespace sider;
  std::signal(SIGPIPE, SIG_IGN);
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;

  http::Router router;
  router.Add({http::Method::kGet}, "/v1/status/leader",
             [](http::Request, http::Responder respond) {
               respond(http::JsonResponse("\"127.0.0.1:8300\""));
             });
  asio::io_context io(threads);
  http::Server::Options options;
  options.port = static_cast<uint16_t>(port);
  http::Server server(io, options, router, [](http::Response& r) {
    r.SetHeader("X-Consul-KnownLeader", "true");
    r.SetHeader("X-Consul-LastContact", "0");
  });
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    server.Stop();
    io.stop();
  });
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  for (auto& t : pool) t.join();
  return 0;
}
