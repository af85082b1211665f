// Server tests over real loopback sockets. The server's io_context runs on
// two threads, as in production; the client is Beast's, on its own
// io_context, and every read has a deadline so a bug fails instead of
// hanging. Nothing sleeps: the tests wait for conditions with timeouts.
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sider::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;
using std::chrono::seconds;

// A blocking client with deadlines, built on Beast's client side.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(Tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void Send(const std::string& raw) { asio::write(socket_, asio::buffer(raw)); }

  void SendRequest(bhttp::verb verb, std::string target, std::string body = "",
                   bool keep_alive = true) {
    bhttp::request<bhttp::string_body> req(verb, target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    if (!body.empty() || verb == bhttp::verb::put) {
      req.body() = std::move(body);
      req.prepare_payload();
    }
    bhttp::write(socket_, req);
  }

  // Reads one response; nullopt on error or after 10 s.
  std::optional<bhttp::response<bhttp::string_body>> Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    error_code result = asio::error::timed_out;
    bhttp::async_read(socket_, buffer_, parser,
                      [&](error_code ec, size_t) { result = ec; });
    if (!RunWithDeadline()) return std::nullopt;
    if (result) return std::nullopt;
    return parser.release();
  }

  // True once the server has closed the connection (EOF or reset).
  bool ReadsEof() {
    char byte;
    error_code result;
    bool done = false;
    socket_.async_read_some(asio::buffer(&byte, 1), [&](error_code ec, size_t) {
      result = ec;
      done = true;
    });
    return RunWithDeadline() && done && result;
  }

  std::optional<bhttp::response<bhttp::string_body>> Get(std::string target) {
    SendRequest(bhttp::verb::get, std::move(target));
    return Read();
  }

  void Close() { socket_.close(); }
  void ShutdownSend() { socket_.shutdown(Tcp::socket::shutdown_send); }

 private:
  bool RunWithDeadline() {
    io_.restart();
    io_.run_for(seconds(10));
    if (!io_.stopped()) {
      socket_.cancel();
      io_.restart();
      io_.run();
      ADD_FAILURE() << "client read timed out";
      return false;
    }
    return true;
  }

  asio::io_context io_;
  Tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// A one-slot mailbox for a handler's Responder, filled on an io thread and
// taken on the test thread.
class ParkedResponders {
 public:
  void Put(Responder r) {
    std::lock_guard<std::mutex> lock(mu_);
    parked_.push_back(std::move(r));
    cv_.notify_all();
  }
  std::optional<Responder> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, seconds(10), [&] { return !parked_.empty(); })) {
      return std::nullopt;
    }
    Responder r = std::move(parked_.front());
    parked_.erase(parked_.begin());
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Responder> parked_;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.Add({Method::kGet}, "/v1/status/leader",
                [](Request, Responder respond) {
                  respond(JsonResponse("\"127.0.0.1:8300\""));
                });
    router_.Add({Method::kGet, Method::kPut}, "/v1/echo/*",
                [](Request req, Responder respond) {
                  std::string out = std::string(MethodName(req.method)) + " " +
                                    std::string(req.Param()) + " " + req.body;
                  for (const auto& [k, v] : req.query) out += " " + k + "=" + v;
                  respond(TextResponse(200, out));
                });
    router_.Add({Method::kGet}, "/v1/park",
                [this](Request, Responder respond) {
                  parked_.Put(std::move(respond));
                });
    router_.Add({Method::kGet}, "/v1/throw",
                [](Request, Responder) { throw std::runtime_error("boom"); });
    router_.Add({Method::kHead}, "/v1/head", [](Request, Responder respond) {
      respond(TextResponse(200, "abc"));
    });
    // One reply object answers every request, as a cached read does.
    Response reply = JsonResponse("[{\"Node\":\"n1\"}]");
    reply.SetHeader("X-Consul-Index", "7");
    shared_reply_ = std::make_shared<const SharedReply>(std::move(reply));
    router_.Add({Method::kGet, Method::kHead}, "/v1/shared",
                [this](Request, Responder respond) {
                  Response r;
                  r.shared = shared_reply_;
                  respond(std::move(r));
                });
    router_.Add({Method::kGet}, "/v1/big", [](Request, Responder respond) {
      respond(TextResponse(200, std::string(8 << 20, 'x')));
    });
  }

  ~ServerTest() override {
    if (server_) server_->Stop();
    work_.reset();
    for (auto& t : threads_) t.join();
  }

  void StartServer(Server::Options options = {}) {
    options.port = 0;
    server_.emplace(io_, options, router_, [this](Response& r) {
      r.SetHeader("X-Consul-KnownLeader", "true");
      r.SetHeader("X-Consul-LastContact", std::to_string(last_contact_.load()));
    });
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  static std::string HeaderOf(const bhttp::response<bhttp::string_body>& r,
                              std::string_view name) {
    auto it = r.find(boost::beast::string_view(name.data(), name.size()));
    return it == r.end() ? std::string() : std::string(it->value());
  }

  Router router_;
  ParkedResponders parked_;
  std::shared_ptr<const SharedReply> shared_reply_;
  std::atomic<int> last_contact_{0};  // What decorate adds.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_{io_.get_executor()};
  std::optional<Server> server_;
  std::vector<std::thread> threads_;  // Last: joined before the rest goes.
};

TEST_F(ServerTest, ServesManyRequestsOnOneKeepAliveConnection) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 20; ++i) {
    auto r = client.Get("/v1/status/leader");
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ(r->body(), "\"127.0.0.1:8300\"");
    EXPECT_EQ(HeaderOf(*r, "Content-Type"), "application/json");
    EXPECT_TRUE(r->keep_alive());
  }
}

TEST_F(ServerTest, DecorateAddsHeadersToEveryResponse) {
  StartServer();
  Client client(server_->port());
  auto ok = client.Get("/v1/status/leader");
  auto missing = client.Get("/nope");
  ASSERT_TRUE(ok && missing);
  EXPECT_EQ(HeaderOf(*ok, "X-Consul-KnownLeader"), "true");
  EXPECT_EQ(missing->result_int(), 404u);
  EXPECT_EQ(HeaderOf(*missing, "X-Consul-KnownLeader"), "true");
}

TEST_F(ServerTest, RoutesWithMethodParamQueryAndBody) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::put, "/v1/echo/a%2Fb?flag&x=1+2", "body");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "PUT a/b body flag= x=1 2");

  client.SendRequest(bhttp::verb::delete_, "/v1/echo/a");
  auto denied = client.Read();
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->result_int(), 405u);
  EXPECT_EQ(HeaderOf(*denied, "Allow"), "GET, PUT");
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  StartServer();
  Client client(server_->port());
  client.Send(
      "GET /v1/echo/first HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/echo/second HTTP/1.1\r\nHost: x\r\n\r\n"
      "PUT /v1/echo/third HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  auto a = client.Read();
  auto b = client.Read();
  auto c = client.Read();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->body(), "GET first ");
  EXPECT_EQ(b->body(), "GET second ");
  EXPECT_EQ(c->body(), "PUT third abc");
}

TEST_F(ServerTest, ANextRequestArrivingInPiecesAfterAnAnswerIsServed) {
  // Between requests the connection waits with one small read; what it
  // reads must reach the parser, however the next request is split.
  StartServer();
  Client client(server_->port());
  client.Send("GET /v1/echo/first HTTP/1.1\r\nHost: x\r\n\r\n");
  auto a = client.Read();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->body(), "GET first ");
  client.Send("G");
  client.Send("ET /v1/echo/second HTTP/1.1\r\nHo");
  client.Send("st: x\r\n\r\n");
  auto b = client.Read();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->body(), "GET second ");
}

TEST_F(ServerTest, ClosesWhenTheClientAsksTo) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::get, "/v1/status/leader", "",
                     /*keep_alive=*/false);
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(HeaderOf(*r, "Connection"), "close");
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(ServerTest, OversizedBodyIs413BeforeTheBodyIsSent) {
  Server::Options options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  // Only the header is sent: the 413 must not wait for 10 MB of body.
  client.Send(
      "PUT /v1/echo/k HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_EQ(HeaderOf(*r, "X-Consul-KnownLeader"), "true");
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  Server::Options options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  client.Send(
      "PUT /v1/echo/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "800\r\n" + std::string(0x800, 'x') + "\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 413u);
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  Server::Options options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  client.SendRequest(bhttp::verb::put, "/v1/echo/k", std::string(1024, 'v'));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(ServerTest, SendsContinueBeforeReadingTheBody) {
  StartServer();
  Client client(server_->port());
  client.Send(
      "PUT /v1/echo/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  auto cont = client.Read();
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->result_int(), 100u);
  client.Send("hello");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "PUT k hello");
}

TEST_F(ServerTest, MalformedRequestIs400AndCloses) {
  StartServer();
  Client client(server_->port());
  client.Send("THIS IS NOT HTTP\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 400u);
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(ServerTest, BadPercentEncodingIs400) {
  StartServer();
  Client client(server_->port());
  auto r = client.Get("/v1/echo/%zz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 400u);
  Client client2(server_->port());
  auto q = client2.Get("/v1/echo/a?x=%4");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->result_int(), 400u);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  Server::Options options;
  options.max_header_bytes = 4096;
  StartServer(options);
  Client client(server_->port());
  client.Send("GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nX-Big: " +
              std::string(8192, 'h') + "\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 431u);
}

TEST_F(ServerTest, HandlerMayAnswerLaterFromAnotherThread) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::get, "/v1/park");
  std::optional<Responder> respond = parked_.Take();
  ASSERT_TRUE(respond.has_value());
  // The test thread is not an io thread: the answer crosses threads.
  (*respond)(JsonResponse("\"late\""));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "\"late\"");
  // The connection is still usable afterwards.
  auto next = client.Get("/v1/status/leader");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->result_int(), 200u);
}

TEST_F(ServerTest, LateAnswerToADisconnectedClientIsDropped) {
  StartServer();
  {
    Client client(server_->port());
    client.SendRequest(bhttp::verb::get, "/v1/park");
    std::optional<Responder> respond = parked_.Take();
    ASSERT_TRUE(respond.has_value());
    client.Close();
    (*respond)(JsonResponse("\"nobody listens\""));
    (*respond)(JsonResponse("\"a second answer is ignored\""));
  }
  Client other(server_->port());
  auto r = other.Get("/v1/status/leader");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200u);
}

TEST_F(ServerTest, ARequestSentWhileTheLastIsUnansweredWaitsItsTurn) {
  // While an answer is pending the connection keeps one read open; what it
  // reads is the next request, served after the pending answer.
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::get, "/v1/park");
  std::optional<Responder> respond = parked_.Take();
  ASSERT_TRUE(respond.has_value());
  client.Send("GET /v1/echo/next HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*respond)(JsonResponse("\"late\""));
  auto a = client.Read();
  auto b = client.Read();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body(), "\"late\"");
  EXPECT_EQ(b->body(), "GET next ");
}

TEST_F(ServerTest, AClientThatHalfClosesAfterItsRequestStillGetsTheAnswer) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::get, "/v1/park");
  std::optional<Responder> respond = parked_.Take();
  ASSERT_TRUE(respond.has_value());
  client.ShutdownSend();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*respond)(JsonResponse("\"late\""));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body(), "\"late\"");
  EXPECT_TRUE(client.ReadsEof());  // Nothing more can come: closed after.
}

TEST_F(ServerTest, ThrowingHandlerIs500) {
  StartServer();
  Client client(server_->port());
  auto r = client.Get("/v1/throw");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 500u);
}

TEST_F(ServerTest, HeadAnswerHasLengthButNoBody) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::head, "/v1/head");
  auto r = client.Read(/*head=*/true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(HeaderOf(*r, "Content-Length"), "3");
  auto next = client.Get("/v1/status/leader");  // Framing intact.
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), "\"127.0.0.1:8300\"");
}

TEST_F(ServerTest, StartFailsWhenThePortIsTaken) {
  StartServer();
  Server::Options options;
  options.port = server_->port();
  Server second(io_, options, router_);
  Status s = second.Start();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
}

TEST_F(ServerTest, StopClosesIdleConnections) {
  StartServer();
  Client client(server_->port());
  ASSERT_TRUE(client.Get("/v1/status/leader").has_value());
  server_->Stop();
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(ServerTest, SharedReplyReachesEveryRequestWithItsHeadersAndDecoration) {
  StartServer();
  Client a(server_->port());
  Client b(server_->port());
  for (int i = 0; i < 3; ++i) {
    for (Client* c : {&a, &b}) {
      auto r = c->Get("/v1/shared");
      ASSERT_TRUE(r.has_value()) << i;
      EXPECT_EQ(r->result_int(), 200u);
      EXPECT_EQ(r->body(), "[{\"Node\":\"n1\"}]");
      EXPECT_EQ(HeaderOf(*r, "Content-Type"), "application/json");
      EXPECT_EQ(HeaderOf(*r, "Content-Length"), "15");
      EXPECT_EQ(HeaderOf(*r, "X-Consul-Index"), "7");
      EXPECT_EQ(HeaderOf(*r, "X-Consul-KnownLeader"), "true");
      EXPECT_EQ(HeaderOf(*r, "X-Consul-LastContact"), "0");
      EXPECT_TRUE(r->keep_alive());
    }
  }
}

// The serialized headers are reused only while decorate adds the same:
// a follower's X-Consul-LastContact changes and every reply shows the
// value of its own moment.
TEST_F(ServerTest, SharedReplyCarriesTheDecorationOfEachAnswer) {
  StartServer();
  Client client(server_->port());
  auto first = client.Get("/v1/shared");
  last_contact_ = 25;
  auto second = client.Get("/v1/shared");
  last_contact_ = 0;
  auto third = client.Get("/v1/shared");
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(HeaderOf(*first, "X-Consul-LastContact"), "0");
  EXPECT_EQ(HeaderOf(*second, "X-Consul-LastContact"), "25");
  EXPECT_EQ(HeaderOf(*third, "X-Consul-LastContact"), "0");
  EXPECT_EQ(second->body(), third->body());
}

TEST_F(ServerTest, SharedReplyKeepsHeadHttp10AndCloseRules) {
  StartServer();
  Client head(server_->port());
  head.SendRequest(bhttp::verb::head, "/v1/shared");
  auto h = head.Read(/*head=*/true);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(HeaderOf(*h, "Content-Length"), "15");
  EXPECT_EQ(HeaderOf(*h, "X-Consul-Index"), "7");
  auto next = head.Get("/v1/shared");  // No body was sent for the HEAD.
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), "[{\"Node\":\"n1\"}]");

  Client http10(server_->port());
  http10.Send("GET /v1/shared HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto old = http10.Read();
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(HeaderOf(*old, "Connection"), "keep-alive");
  EXPECT_EQ(old->body(), "[{\"Node\":\"n1\"}]");

  Client closing(server_->port());
  closing.SendRequest(bhttp::verb::get, "/v1/shared", "", /*keep_alive=*/false);
  auto last = closing.Read();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(HeaderOf(*last, "Connection"), "close");
  EXPECT_EQ(HeaderOf(*last, "X-Consul-Index"), "7");
  EXPECT_TRUE(closing.ReadsEof());
}

// An answer larger than the socket's send buffer is written in part at
// once and the rest asynchronously.
TEST_F(ServerTest, AnswerLargerThanTheSendBufferArrivesWhole) {
  StartServer();
  Client client(server_->port());
  client.SendRequest(bhttp::verb::get, "/v1/big");
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body().size(), 8u << 20);
  EXPECT_EQ(r->body().find_first_not_of('x'), std::string::npos);
  auto next = client.Get("/v1/status/leader");
  ASSERT_TRUE(next.has_value());
}

}  // namespace
}  // namespace sider::http
