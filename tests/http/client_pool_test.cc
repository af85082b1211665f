// ClientPool over real loopback sockets against http::Server. Both run on
// one io_context driven by two threads; every wait has a deadline, so a
// bug fails instead of hanging.
#include "http/client_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/router.h"
#include "http/server.h"

namespace sider::http {
namespace {

using std::chrono::seconds;

class ClientPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add({Method::kGet, Method::kPut, Method::kDelete}, "/echo/*",
                [this](Request req, Responder respond) {
                  ++served_;
                  Response r =
                      TextResponse(200, std::string(MethodName(req.method)) +
                                            " " + req.target + " " + req.body);
                  if (auto h = req.Header("X-Test")) r.SetHeader("X-Echo", *h);
                  if (auto h = req.Header("Host")) r.SetHeader("X-Host", *h);
                  respond(std::move(r));
                });
    router_.Add({Method::kPut}, "/conflict", [](Request, Responder respond) {
      Response r = JsonResponse("{\"error\":true}", 409);
      r.SetHeader("X-Consul-Index", "42");
      respond(std::move(r));
    });
    // Answers only when the test says so, to hold connections busy.
    router_.Add({Method::kGet}, "/held", [this](Request, Responder respond) {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(respond));
      cv_.notify_all();
    });
    StartServer(0);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    pool_.reset();
    if (server_) server_->Stop();
    work_.reset();
    io_.stop();
    threads_.clear();
  }

  // Retries while the port is still held by a listener being closed.
  void StartServer(uint16_t port) {
    Server::Options o;
    o.address = "127.0.0.1";
    o.port = port;
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    Status s;
    do {
      server_ = std::make_unique<Server>(io_, o, router_);
      s = server_->Start();
    } while (!s.ok() && std::chrono::steady_clock::now() < deadline);
    ASSERT_TRUE(s.ok()) << s.message();
    port_ = server_->port();
  }

  std::string Peer() const { return "127.0.0.1:" + std::to_string(port_); }

  Result<Response> SendAndWait(const Request& req) {
    std::promise<Result<Response>> p;
    auto f = p.get_future();
    pool_->Send(Peer(), req, seconds(5),
                [&p](Result<Response> r) { p.set_value(std::move(r)); });
    if (f.wait_for(seconds(10)) != std::future_status::ready) {
      return Status(Code::kDeadlineExceeded, "test timeout");
    }
    return f.get();
  }

  static Request Make(Method m, std::string target, std::string body = "") {
    Request req;
    req.method = m;
    req.target = std::move(target);
    req.body = std::move(body);
    return req;
  }

  asio::io_context io_{2};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>
      work_ = std::make_unique<
          asio::executor_work_guard<asio::io_context::executor_type>>(
          asio::make_work_guard(io_));
  Router router_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::unique_ptr<ClientPool> pool_ = std::make_unique<ClientPool>(io_);
  std::atomic<int> served_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Responder> held_;
  std::vector<std::jthread> threads_;
};

TEST_F(ClientPoolTest, PassesMethodTargetHeadersAndBodyThrough) {
  Request req = Make(Method::kPut, "/echo/a%20b?x=1&y", "payload");
  req.headers.emplace_back("X-Test", "hello");
  req.headers.emplace_back("Connection", "close");  // Hop-by-hop: dropped.
  auto r = SendAndWait(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "PUT /echo/a%20b?x=1&y payload");
  EXPECT_EQ(r->content_type, "text/plain; charset=utf-8");
  bool echo = false, host = false;
  for (const auto& [k, v] : r->headers) {
    if (k == "X-Echo") echo = v == "hello";
    if (k == "X-Host") host = v == Peer();
    EXPECT_NE(k, "Content-Length");
    EXPECT_NE(k, "Content-Type");
  }
  EXPECT_TRUE(echo);
  EXPECT_TRUE(host);
}

TEST_F(ClientPoolTest, AnErrorStatusIsAnAnswerNotAnError) {
  auto r = SendAndWait(Make(Method::kPut, "/conflict"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 409u);
  EXPECT_EQ(r->body, "{\"error\":true}");
  EXPECT_EQ(r->content_type, "application/json");
  ASSERT_EQ(r->headers.size(), 1u);  // Connection (hop-by-hop) dropped.
  EXPECT_EQ(r->headers[0].first, "X-Consul-Index");
  EXPECT_EQ(r->headers[0].second, "42");
}

TEST_F(ClientPoolTest, ReusesOneKeepAliveConnectionForSequentialRequests) {
  for (int i = 0; i < 5; ++i) {
    auto r = SendAndWait(Make(Method::kGet, "/echo/" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  auto s = pool_->Stats(Peer());
  EXPECT_EQ(s.connects, 1u);
  EXPECT_EQ(s.reuses, 4u);
  EXPECT_EQ(s.open, 1u);
  EXPECT_EQ(s.idle, 1u);
}

TEST_F(ClientPoolTest, AnUnreachablePeerIsUnavailable) {
  server_->Stop();
  // A port nobody listens on: bind one, close it, use its number.
  asio::ip::tcp::acceptor a(io_, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t dead = a.local_endpoint().port();
  a.close();
  std::promise<Result<Response>> p;
  pool_->Send("127.0.0.1:" + std::to_string(dead), Make(Method::kGet, "/x"),
              seconds(5),
              [&p](Result<Response> r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST_F(ClientPoolTest, QueuesBeyondTheConnectionLimit) {
  ClientPool::Options o;
  o.max_connections = 2;
  pool_ = std::make_unique<ClientPool>(io_, o);
  constexpr int kRequests = 6;
  std::atomic<int> ok{0};
  std::promise<void> all;
  std::atomic<int> left{kRequests};
  for (int i = 0; i < kRequests; ++i) {
    pool_->Send(Peer(), Make(Method::kGet, "/held"), seconds(5),
                [&](Result<Response> r) {
                  if (r.ok() && r->status == 200) ++ok;
                  if (--left == 0) all.set_value();
                });
  }
  {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(
        cv_.wait_for(lock, seconds(10), [&] { return held_.size() == 2; }));
  }
  EXPECT_EQ(pool_->Stats(Peer()).queued, 4u);
  // Answer whatever is held until everyone got through.
  auto f = all.get_future();
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (f.wait_for(std::chrono::milliseconds(5)) !=
             std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    std::vector<Responder> now;
    {
      std::lock_guard lock(mu_);
      now.swap(held_);
    }
    for (auto& r : now) r(TextResponse(200, "ok"));
  }
  EXPECT_EQ(ok.load(), kRequests);
  auto s = pool_->Stats(Peer());
  EXPECT_EQ(s.connects, 2u);
  EXPECT_LE(s.open, 2u);
}

TEST_F(ClientPoolTest, RetriesOnceWhenAnIdleConnectionWasClosedByThePeer) {
  ASSERT_TRUE(SendAndWait(Make(Method::kGet, "/echo/1")).ok());
  // The server goes away (closing the pooled connection) and comes back on
  // the same port.
  const uint16_t port = port_;
  server_->Stop();
  StartServer(port);  // The pool notices the dead connection only on use.
  auto r = SendAndWait(Make(Method::kGet, "/echo/2"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200u);
  // 2 once the old server's close landed first (the usual case), else 1.
  EXPECT_LE(pool_->Stats("127.0.0.1:" + std::to_string(port)).connects, 2u);
}

TEST_F(ClientPoolTest, ShutdownFailsLaterSends) {
  pool_->Shutdown();
  auto r = SendAndWait(Make(Method::kGet, "/echo/1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace sider::http
