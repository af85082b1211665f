// CheckRunner against real sockets and processes on this host. Real time is
// allowed here (as in integration tests): the io_context runs in short
// slices until a condition holds or a generous deadline passes.
#include "agent/check_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/probe.h"
#include "base/clock.h"

namespace sider::agent {
namespace {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;
using structs::CheckType;
using structs::HealthStatus;

// A one-request-per-connection HTTP server on 127.0.0.1 whose answer
// depends on the path: /ok 200, /busy 429, /fail 500, /big 200 with 10 KB,
// /hang never answers. It remembers the last request it read.
class TestHttpServer {
 public:
  explicit TestHttpServer(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  http::request<http::string_body> last_request;
  int requests = 0;

 private:
  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto c = std::make_shared<Conn>(std::move(s));
      http::async_read(c->socket, c->buffer, c->req,
                       [this, c](boost::system::error_code ec, size_t) {
                         if (!ec) Answer(c);
                       });
      Accept();
    });
  }

  void Answer(const std::shared_ptr<Conn>& c) {
    ++requests;
    last_request = c->req;
    const std::string target(c->req.target());
    if (target == "/hang") {
      hanging_.push_back(c);
      return;
    }
    c->res.version(11);
    c->res.result(target == "/ok"     ? http::status::ok
                  : target == "/big"  ? http::status::ok
                  : target == "/busy" ? http::status::too_many_requests
                                      : http::status::internal_server_error);
    c->res.body() =
        target == "/big" ? std::string(10'000, 'x') : "body of " + target;
    c->res.prepare_payload();
    http::async_write(c->socket, c->res,
                      [c](boost::system::error_code, size_t) {});
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Conn>> hanging_;
};

bool IsDeadOrZombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  // "pid (comm) S ...": the state follows the last ')'.
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] == 'Z';
}

class CheckRunnerTest : public ::testing::Test {
 protected:
  CheckRunnerTest() { runner_ = MakeRunner(options_); }

  std::unique_ptr<CheckRunner> MakeRunner(CheckRunner::Options o) {
    return std::make_unique<CheckRunner>(
        io_, clock_,
        [this](CheckResult r) { results_[r.check_id].push_back(std::move(r)); },
        o);
  }

  // Runs the io_context until `cond` holds; false after 20 s.
  bool RunUntil(const std::function<bool()>& cond) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(milliseconds(5));
    }
    return true;
  }

  // Registers `check` and returns its first result.
  CheckResult RunOnce(structs::Check check) {
    if (check.check_id.empty()) check.check_id = "chk";
    runner_->Upsert(check);
    const std::string id = check.check_id;
    EXPECT_TRUE(RunUntil([&] { return !results_[id].empty(); }))
        << "no result for " << id;
    return results_[id].empty() ? CheckResult{} : results_[id].front();
  }

  static structs::Check Http(const std::string& url) {
    structs::Check c;
    c.type = CheckType::kHttp;
    c.definition.http = url;
    c.definition.interval_ns = std::chrono::nanoseconds(seconds(10)).count();
    return c;
  }
  static structs::Check Tcp(const std::string& addr) {
    structs::Check c;
    c.type = CheckType::kTcp;
    c.definition.tcp = addr;
    c.definition.interval_ns = std::chrono::nanoseconds(seconds(10)).count();
    return c;
  }
  static structs::Check Cmd(std::vector<std::string> args) {
    structs::Check c;
    c.type = CheckType::kCmd;
    c.definition.args = std::move(args);
    c.definition.interval_ns = std::chrono::nanoseconds(seconds(10)).count();
    return c;
  }
  static structs::Check Sh(const std::string& script) {
    return Cmd({"/bin/sh", "-c", script});
  }

  SystemClock clock_;
  asio::io_context io_;
  TestHttpServer server_{io_};
  std::map<std::string, std::vector<CheckResult>> results_;
  CheckRunner::Options options_{.min_interval = milliseconds(10),
                                .max_initial_stagger = milliseconds(0),
                                .max_concurrent = 8};
  std::unique_ptr<CheckRunner> runner_;  // Last: stopped before the rest.
};

TEST_F(CheckRunnerTest, Http2xxIsPassingWithConsulStyleOutput) {
  const CheckResult r = RunOnce(Http(server_.Url("/ok")));
  EXPECT_EQ(r.status, HealthStatus::kPassing);
  EXPECT_EQ(r.output,
            "HTTP GET " + server_.Url("/ok") + ": 200 OK Output: body of /ok");
  EXPECT_EQ(server_.last_request.method(), http::verb::get);
  EXPECT_EQ(server_.last_request[http::field::user_agent],
            "Consul Health Check");
}

TEST_F(CheckRunnerTest, Http429IsWarning) {
  const CheckResult r = RunOnce(Http(server_.Url("/busy")));
  EXPECT_EQ(r.status, HealthStatus::kWarning);
  EXPECT_NE(r.output.find(": 429 Too Many Requests Output: body of /busy"),
            std::string::npos)
      << r.output;
}

TEST_F(CheckRunnerTest, Http500IsCritical) {
  const CheckResult r = RunOnce(Http(server_.Url("/fail")));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find(": 500 Internal Server Error"), std::string::npos);
}

TEST_F(CheckRunnerTest, HttpSendsMethodHeadersAndBody) {
  structs::Check c = Http(server_.Url("/ok?x=1"));
  c.definition.method = "PUT";
  c.definition.header["X-Probe"] = {"a", "b"};
  c.definition.body = "{\"ping\":true}";
  const CheckResult r = RunOnce(c);
  // "/ok?x=1" is not "/ok" to the server: it answers 500, which is fine.
  EXPECT_EQ(r.output.rfind("HTTP PUT " + server_.Url("/ok?x=1") + ": ", 0), 0u)
      << r.output;
  EXPECT_EQ(server_.last_request.method(), http::verb::put);
  EXPECT_EQ(server_.last_request.target(), "/ok?x=1");
  EXPECT_EQ(server_.last_request.body(), "{\"ping\":true}");
  EXPECT_EQ(server_.last_request.count("X-Probe"), 2u);
}

TEST_F(CheckRunnerTest, HttpOutputKeepsTheFirstFourKiBOfTheBody) {
  const CheckResult r = RunOnce(Http(server_.Url("/big")));
  EXPECT_EQ(r.status, HealthStatus::kPassing);
  const std::string prefix =
      "HTTP GET " + server_.Url("/big") + ": 200 OK Output: ";
  EXPECT_EQ(r.output, prefix + std::string(4096, 'x'));
}

TEST_F(CheckRunnerTest, HttpTimeoutIsCritical) {
  structs::Check c = Http(server_.Url("/hang"));
  c.definition.timeout_ns = std::chrono::nanoseconds(milliseconds(200)).count();
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = RunOnce(c);
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("timed out after 200ms"), std::string::npos)
      << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST_F(CheckRunnerTest, HttpToAClosedPortIsCritical) {
  unsigned short port;
  {
    tcp::acceptor a(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  const CheckResult r =
      RunOnce(Http("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
}

TEST_F(CheckRunnerTest, HttpsToAPlainHttpServerFailsTheHandshake) {
  const CheckResult r = RunOnce(
      Http("https://127.0.0.1:" + std::to_string(server_.port()) + "/ok"));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("HTTP GET https://"), std::string::npos) << r.output;
}

TEST_F(CheckRunnerTest, HttpResolvesHostNames) {
  const CheckResult r = RunOnce(
      Http("http://localhost:" + std::to_string(server_.port()) + "/ok"));
  // localhost may resolve to ::1 first; async_connect tries each address.
  EXPECT_EQ(r.status, HealthStatus::kPassing) << r.output;
}

TEST_F(CheckRunnerTest, TcpConnectIsPassing) {
  const std::string addr = "127.0.0.1:" + std::to_string(server_.port());
  const CheckResult r = RunOnce(Tcp(addr));
  EXPECT_EQ(r.status, HealthStatus::kPassing);
  EXPECT_EQ(r.output, "TCP connect " + addr + ": Success");
}

TEST_F(CheckRunnerTest, TcpToAClosedPortIsCritical) {
  unsigned short port;
  {
    tcp::acceptor a(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  const CheckResult r = RunOnce(Tcp("127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("TCP connect 127.0.0.1:"), std::string::npos);
}

TEST_F(CheckRunnerTest, TcpMalformedAddressIsCritical) {
  const CheckResult r = RunOnce(Tcp("no-port-here"));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("malformed"), std::string::npos);
}

TEST_F(CheckRunnerTest, CommandExitCodesMapToStatuses) {
  structs::Check a = Sh("exit 0"), b = Sh("exit 1"), c = Sh("exit 2");
  a.check_id = "a";
  b.check_id = "b";
  c.check_id = "c";
  runner_->Upsert(a);
  runner_->Upsert(b);
  runner_->Upsert(c);
  ASSERT_TRUE(RunUntil([&] {
    return !results_["a"].empty() && !results_["b"].empty() &&
           !results_["c"].empty();
  }));
  EXPECT_EQ(results_["a"][0].status, HealthStatus::kPassing);
  EXPECT_EQ(results_["b"][0].status, HealthStatus::kWarning);
  EXPECT_EQ(results_["c"][0].status, HealthStatus::kCritical);
}

TEST_F(CheckRunnerTest, CommandOutputCapturesStdoutAndStderr) {
  const CheckResult r = RunOnce(Sh("echo out; echo err >&2"));
  EXPECT_EQ(r.status, HealthStatus::kPassing);
  EXPECT_EQ(r.output, "out\nerr\n");
}

TEST_F(CheckRunnerTest, CommandOutputKeepsTheLastFourKiB) {
  const CheckResult r = RunOnce(
      Sh("i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"));
  EXPECT_EQ(r.output.size(), 4096u);
  EXPECT_EQ(r.output.substr(r.output.size() - 9), "line1999\n");
}

TEST_F(CheckRunnerTest, CommandNotFoundIsCritical) {
  const CheckResult r = RunOnce(Cmd({"/nonexistent/sider-check"}));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("/nonexistent/sider-check"), std::string::npos);
}

TEST_F(CheckRunnerTest, CommandTimeoutKillsTheProcessGroup) {
  // The shell prints the pid of a background sleep that keeps the pipe
  // open: only killing the whole group ends the run early.
  structs::Check c = Sh("sleep 10 & echo $!; sleep 10");
  c.definition.timeout_ns = std::chrono::nanoseconds(milliseconds(200)).count();
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = RunOnce(c);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_EQ(r.status, HealthStatus::kCritical);
  EXPECT_NE(r.output.find("Timed out (200ms) running check"), std::string::npos)
      << r.output;
  const pid_t bg = static_cast<pid_t>(
      std::atol(r.output.substr(r.output.find("Output: ") + 8).c_str()));
  ASSERT_GT(bg, 0) << r.output;
  // The grandchild is killed. Orphaned, it is reaped by init if init
  // reaps (a container's may not): dead means gone or a zombie.
  EXPECT_TRUE(RunUntil([&] { return IsDeadOrZombie(bg); }));
}

TEST_F(CheckRunnerTest, RunsAgainEveryInterval) {
  structs::Check c = Sh("exit 0");
  c.definition.interval_ns = std::chrono::nanoseconds(milliseconds(20)).count();
  c.check_id = "p";
  runner_->Upsert(c);
  EXPECT_TRUE(RunUntil([&] { return results_["p"].size() >= 3; }));
}

TEST_F(CheckRunnerTest, RemoveStopsTheChecks) {
  structs::Check c = Tcp("127.0.0.1:" + std::to_string(server_.port()));
  c.check_id = "r";
  c.definition.interval_ns = std::chrono::nanoseconds(milliseconds(10)).count();
  runner_->Upsert(c);
  ASSERT_TRUE(RunUntil([&] { return results_["r"].size() >= 2; }));
  runner_->Remove("r");
  EXPECT_EQ(runner_->size(), 0u);
  // Let any in-flight run finish; it must not be reported.
  io_.restart();
  io_.run_for(milliseconds(200));
  const size_t n = results_["r"].size();
  io_.restart();
  io_.run_for(milliseconds(200));
  EXPECT_EQ(results_["r"].size(), n);
}

TEST_F(CheckRunnerTest, UpsertReplacesTheDefinition) {
  structs::Check c = Http(server_.Url("/fail"));
  c.check_id = "u";
  c.definition.interval_ns = std::chrono::nanoseconds(milliseconds(10)).count();
  runner_->Upsert(c);
  ASSERT_TRUE(RunUntil([&] { return !results_["u"].empty(); }));
  c.definition.http = server_.Url("/ok");
  runner_->Upsert(c);
  EXPECT_EQ(runner_->size(), 1u);
  ASSERT_TRUE(RunUntil(
      [&] { return results_["u"].back().status == HealthStatus::kPassing; }));
}

TEST_F(CheckRunnerTest, UpsertOfTheSameDefinitionKeepsTheSchedule) {
  structs::Check c = Sh("exit 0");  // Interval 10 s.
  c.check_id = "same";
  runner_->Upsert(c);
  ASSERT_TRUE(RunUntil([&] { return !results_["same"].empty(); }));
  c.status = HealthStatus::kPassing;  // Not part of the definition.
  c.output = "changed";
  for (int i = 0; i < 5; ++i) runner_->Upsert(c);
  io_.restart();
  io_.run_for(milliseconds(200));  // A restart would run at once.
  EXPECT_EQ(results_["same"].size(), 1u);
}

TEST_F(CheckRunnerTest, OtherCheckTypesAreIgnored) {
  structs::Check ttl;
  ttl.check_id = "t";
  ttl.type = CheckType::kTtl;
  runner_->Upsert(ttl);
  EXPECT_EQ(runner_->size(), 0u);
  runner_->Stop();
  runner_->Upsert(Sh("exit 0"));
  EXPECT_EQ(runner_->size(), 0u);
}

TEST_F(CheckRunnerTest, ConcurrencyIsBounded) {
  // Each run holds a directory as a mutex; two at once would fail mkdir.
  char tmpl[] = "/tmp/sider-agent-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string lock = std::string(tmpl) + "/lock";
  CheckRunner::Options o = options_;
  o.max_concurrent = 1;
  runner_ = MakeRunner(o);
  for (int i = 0; i < 4; ++i) {
    structs::Check c =
        Sh("mkdir " + lock + " || exit 2; sleep 0.05; rmdir " + lock);
    c.check_id = "m" + std::to_string(i);
    runner_->Upsert(c);
  }
  ASSERT_TRUE(RunUntil([&] {
    for (int i = 0; i < 4; ++i)
      if (results_["m" + std::to_string(i)].empty()) return false;
    return true;
  }));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(results_["m" + std::to_string(i)][0].status,
              HealthStatus::kPassing)
        << results_["m" + std::to_string(i)][0].output;
  }
  ::rmdir(tmpl);
}

// Two io threads, many checks at a short interval, Stop() from another
// thread while runs are in flight: no Report after Stop() returns, and
// (under ASan) no use-after-free as in-flight runs drain.
TEST(CheckRunnerThreadsTest, StopWhileRunningOnAPool) {
  SystemClock clock;
  asio::io_context io;
  tcp::acceptor listener(io,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::mutex mu;
  std::map<std::string, int> counts;
  std::atomic<bool> stopped{false};
  std::atomic<int> late_reports{0};
  CheckRunner runner(
      io, clock,
      [&](CheckResult r) {
        if (stopped) ++late_reports;
        std::lock_guard l(mu);
        ++counts[r.check_id];
      },
      CheckRunner::Options{.min_interval = milliseconds(1),
                           .max_initial_stagger = milliseconds(5),
                           .max_concurrent = 4});
  constexpr int kChecks = 12;
  for (int i = 0; i < kChecks; ++i) {
    structs::Check c;
    c.check_id = "c" + std::to_string(i);
    c.definition.interval_ns =
        std::chrono::nanoseconds(milliseconds(2)).count();
    if (i % 2 == 0) {
      c.type = CheckType::kTcp;
      c.definition.tcp =
          "127.0.0.1:" + std::to_string(listener.local_endpoint().port());
    } else {
      c.type = CheckType::kCmd;
      c.definition.args = {"/bin/sh", "-c", "echo hi"};
    }
    runner.Upsert(c);
  }
  auto work = asio::make_work_guard(io);
  std::thread t1([&] { io.run(); }), t2([&] { io.run(); });
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  for (;;) {
    {
      std::lock_guard l(mu);
      int done = 0;
      for (const auto& [id, n] : counts) done += n >= 3;
      if (done == kChecks) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  runner.Stop();
  stopped = true;
  // Let in-flight runs drain on the pool; they must not report.
  asio::steady_timer drain(io, milliseconds(100));
  drain.wait();
  work.reset();
  io.stop();
  t1.join();
  t2.join();
  EXPECT_EQ(late_reports.load(), 0);
}

TEST(SplitHostPortTest, ParsesV4V6AndNames) {
  std::string h, p;
  ASSERT_TRUE(internal::SplitHostPort("10.0.0.1:80", &h, &p));
  EXPECT_EQ(h, "10.0.0.1");
  EXPECT_EQ(p, "80");
  ASSERT_TRUE(internal::SplitHostPort("[::1]:8500", &h, &p));
  EXPECT_EQ(h, "::1");
  ASSERT_TRUE(internal::SplitHostPort("db.local:5432", &h, &p));
  EXPECT_EQ(h, "db.local");
  EXPECT_FALSE(internal::SplitHostPort("::1:80", &h, &p));
  EXPECT_FALSE(internal::SplitHostPort("host", &h, &p));
  EXPECT_FALSE(internal::SplitHostPort("host:99999", &h, &p));
  EXPECT_FALSE(internal::SplitHostPort("host:", &h, &p));
}

}  // namespace
}  // namespace sider::agent
