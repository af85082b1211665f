// ClusterDispatch: the classification and decision tables (pure), and the
// dispatcher itself with a fake cluster view and a fake clock driven by
// hand (restart(); poll();). Forwarding is tested against a real
// http::Server on loopback standing in for the leader.
#include "http/cluster_dispatch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "testutil/fake_clock.h"

namespace sider::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Request Req(Method m, std::string target) {
  Request r;
  r.method = m;
  r.target = std::move(target);
  EXPECT_TRUE(ParseTarget(&r).ok());
  return r;
}

TEST(ClassifyRequestTest, AgentReadsAndNodeOperationsAreLocal) {
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/agent/services")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/agent/checks")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/agent/self")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/agent/service/web")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kPut, "/v1/agent/join/1.2.3.4")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kPut, "/v1/agent/leave")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/status/leader")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/catalog/datacenters")),
            RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/ui/")), RequestKind::kLocal);
  EXPECT_EQ(ClassifyRequest(Req(Method::kOther, "/v1/kv/a")),
            RequestKind::kLocal);
}

TEST(ClassifyRequestTest, AgentWritesGoToTheLeaderEvenAsGet) {
  EXPECT_EQ(ClassifyRequest(Req(Method::kPut, "/v1/agent/service/register")),
            RequestKind::kWrite);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/agent/check/pass/c1")),
            RequestKind::kWrite);
  EXPECT_EQ(
      ClassifyRequest(Req(Method::kGet, "/v1/agent/service/deregister/web")),
      RequestKind::kWrite);
  EXPECT_EQ(
      ClassifyRequest(Req(Method::kPut, "/v1/agent/maintenance?enable=1")),
      RequestKind::kWrite);
}

TEST(ClassifyRequestTest, ReadsByConsistencyModeAndWritesByMethod) {
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/health/service/web")),
            RequestKind::kRead);
  EXPECT_EQ(
      ClassifyRequest(Req(Method::kGet, "/v1/health/service/web?consistent")),
      RequestKind::kRead);
  EXPECT_EQ(ClassifyRequest(Req(Method::kGet, "/v1/kv/a?stale")),
            RequestKind::kStaleRead);
  EXPECT_EQ(ClassifyRequest(Req(Method::kHead, "/v1/catalog/nodes?stale=")),
            RequestKind::kStaleRead);
  EXPECT_EQ(ClassifyRequest(Req(Method::kPut, "/v1/kv/a")),
            RequestKind::kWrite);
  EXPECT_EQ(ClassifyRequest(Req(Method::kDelete, "/v1/kv/a?recurse")),
            RequestKind::kWrite);
  EXPECT_EQ(ClassifyRequest(Req(Method::kPost, "/v1/txn")),
            RequestKind::kWrite);
  EXPECT_EQ(ClassifyRequest(Req(Method::kPut, "/v1/internal/node-heartbeat")),
            RequestKind::kWrite);
}

DecisionInput In(RequestKind kind, bool leader, bool known,
                 bool forwarded = false) {
  DecisionInput in;
  in.kind = kind;
  in.is_leader = leader;
  in.leader_known = known;
  in.forwarded = forwarded;
  return in;
}

TEST(DecideTest, TheReadyLeaderServesWritesAndBarriersReads) {
  EXPECT_EQ(Decide(In(RequestKind::kWrite, true, false)), Action::kServeLocal);
  EXPECT_EQ(Decide(In(RequestKind::kRead, true, false)),
            Action::kBarrierThenServe);
  EXPECT_EQ(Decide(In(RequestKind::kRead, true, false, true)),
            Action::kBarrierThenServe);
  EXPECT_EQ(Decide(In(RequestKind::kStaleRead, true, false)),
            Action::kServeLocal);
}

TEST(DecideTest, AFollowerForwardsOrWaitsAndNeverForwardsTwice) {
  EXPECT_EQ(Decide(In(RequestKind::kWrite, false, true)), Action::kForward);
  EXPECT_EQ(Decide(In(RequestKind::kRead, false, true)), Action::kForward);
  EXPECT_EQ(Decide(In(RequestKind::kWrite, false, false)), Action::kWait);
  EXPECT_EQ(Decide(In(RequestKind::kRead, false, false)), Action::kWait);
  EXPECT_EQ(Decide(In(RequestKind::kWrite, false, true, true)),
            Action::kRefuse);
  EXPECT_EQ(Decide(In(RequestKind::kRead, false, false, true)),
            Action::kRefuse);
  EXPECT_EQ(Decide(In(RequestKind::kLocal, false, false, true)),
            Action::kServeLocal);
}

TEST(DecideTest, AFollowerServesDefaultReadsAfterAReadIndex) {
  DecisionInput in = In(RequestKind::kRead, false, true);
  in.follower_read = true;
  EXPECT_EQ(Decide(in), Action::kReadIndexThenServe);
  in.leader_known = false;  // The read index comes from the leader.
  EXPECT_EQ(Decide(in), Action::kWait);
  in.leader_known = true;
  in.forwarded = true;
  EXPECT_EQ(Decide(in), Action::kRefuse);
  in = In(RequestKind::kWrite, false, true);
  in.follower_read = true;
  EXPECT_EQ(Decide(in), Action::kForward);
  in = In(RequestKind::kRead, true, false);
  in.follower_read = true;
  EXPECT_EQ(Decide(in), Action::kBarrierThenServe);
}

TEST(DecideTest, StaleReadsAreLocalUnlessOlderThanMaxStale) {
  DecisionInput in = In(RequestKind::kStaleRead, false, false);
  in.last_contact_ms = 10'000;
  EXPECT_EQ(Decide(in), Action::kServeLocal);  // No bound: any age.
  in.max_stale_ms = 20'000;
  EXPECT_EQ(Decide(in), Action::kServeLocal);
  in.max_stale_ms = 5'000;
  EXPECT_EQ(Decide(in), Action::kWait);  // Too stale, no leader yet.
  in.leader_known = true;
  EXPECT_EQ(Decide(in), Action::kForward);
  in.forwarded = true;
  EXPECT_EQ(Decide(in), Action::kServeLocal);  // Never twice.
}

TEST(MakeRequestTest, EscapesTheQuery) {
  Request r = MakeRequest(Method::kPut, "/v1/internal/check-update",
                          {{"node", "n 1"}, {"check", "a/b&c"}}, "out");
  EXPECT_EQ(r.target, "/v1/internal/check-update?node=n%201&check=a%2Fb%26c");
  Request parsed;
  parsed.target = r.target;
  ASSERT_TRUE(ParseTarget(&parsed).ok());
  EXPECT_EQ(parsed.Get("check").value_or(""), "a/b&c");
  EXPECT_EQ(r.Get("node").value_or(""), "n 1");
  EXPECT_EQ(r.body, "out");
}

// The dispatcher on a hand-driven io_context and a fake clock.
class ClusterDispatchTest : public ::testing::Test {
 protected:
  ClusterDispatchTest() {
    inner_.Add({Method::kGet, Method::kPut}, "/v1/*",
               [this](Request req, Responder respond) {
                 ++served_;
                 seen_forwarded_ = req.Header(kForwardedHeader);
                 respond(TextResponse(200, "local " + req.path));
               });
  }

  ClusterView View() {
    ClusterView v;
    v.node_name = "n2";
    v.is_ready_leader = [this] { return leader_.load(); };
    v.leader_http_address = [this] { return leader_addr_; };
    v.last_contact_ms = [] { return uint64_t{0}; };
    v.read_barrier = [this](std::function<void(Status)> done) {
      ++barriers_;
      pending_barriers_.push_back(std::move(done));
    };
    v.state_index = [this] { return state_index_; };
    if (follower_reads_) {
      v.follower_read = [this](Clock::TimePoint deadline,
                               std::function<void(Status)> done) {
        read_index_deadlines_.push_back(deadline);
        pending_read_index_.push_back(std::move(done));
      };
    }
    return v;
  }

  std::unique_ptr<ClusterDispatch> Make() {
    ClusterDispatch::Options o;
    o.leader_wait = milliseconds(1000);
    o.poll_interval = milliseconds(20);
    return std::make_unique<ClusterDispatch>(inner_, pool_, View(), clock_,
                                             io_.get_executor(), o);
  }

  // Dispatches and returns where the answer will land.
  std::shared_ptr<std::optional<Response>> Send(ClusterDispatch& d,
                                                Request req) {
    auto out = std::make_shared<std::optional<Response>>();
    d.Dispatch(std::move(req), [out](Response r) { *out = std::move(r); });
    return out;
  }

  void Poll() {
    io_.restart();
    io_.poll();
  }

  asio::io_context io_;
  testutil::FakeClock clock_;
  ClientPool pool_{io_};
  Router inner_;
  std::atomic<bool> leader_{false};
  std::string leader_addr_;
  int served_ = 0;
  int barriers_ = 0;
  std::optional<std::string> seen_forwarded_;
  std::vector<std::function<void(Status)>> pending_barriers_;
  bool follower_reads_ = false;
  uint64_t state_index_ = 0;
  std::vector<Clock::TimePoint> read_index_deadlines_;
  std::vector<std::function<void(Status)>> pending_read_index_;
};

bool HasNotLeaderMarker(const Response& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == kNotLeaderHeader && v == "true") return true;
  }
  return false;
}

// A real http::Server on loopback standing in for the leader; its
// io_context runs on its own thread.
class FakeLeader {
 public:
  explicit FakeLeader(Router& router) : server_(io_, Opts(), router) {}
  ~FakeLeader() {
    server_.Stop();
    io_.stop();
  }
  bool Start() {
    if (!server_.Start().ok()) return false;
    thread_ = std::jthread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
    return true;
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(server_.port());
  }

 private:
  static Server::Options Opts() {
    Server::Options so;
    so.address = "127.0.0.1";
    so.port = 0;
    return so;
  }
  asio::io_context io_;
  Server server_;
  std::jthread thread_;
};

TEST_F(ClusterDispatchTest, LeaderServesWritesAtOnce) {
  leader_ = true;
  auto d = Make();
  auto out = Send(*d, Req(Method::kPut, "/v1/kv/a"));
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->body, "local /v1/kv/a");
  EXPECT_EQ(barriers_, 0);
}

TEST_F(ClusterDispatchTest, LeaderAnswersADefaultReadOnlyAfterTheBarrier) {
  leader_ = true;
  auto d = Make();
  auto out = Send(*d, Req(Method::kGet, "/v1/health/service/web"));
  EXPECT_FALSE(out->has_value());
  ASSERT_EQ(pending_barriers_.size(), 1u);
  pending_barriers_[0](Status::Ok());
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 200u);
  // ?stale needs no barrier.
  auto stale = Send(*d, Req(Method::kGet, "/v1/health/service/web?stale"));
  ASSERT_TRUE(stale->has_value());
  EXPECT_EQ(barriers_, 1);
}

TEST_F(ClusterDispatchTest, FailsWithNoClusterLeaderAfterTheBoundedWait) {
  auto d = Make();
  auto write = Send(*d, Req(Method::kPut, "/v1/kv/a"));
  auto read = Send(*d, Req(Method::kGet, "/v1/kv/a"));
  auto stale = Send(*d, Req(Method::kGet, "/v1/kv/a?stale"));
  ASSERT_TRUE(stale->has_value());  // Stale reads never wait.
  EXPECT_EQ((*stale)->status, 200u);
  for (int i = 0; i < 49; ++i) {
    clock_.Advance(milliseconds(20));
    Poll();
  }
  EXPECT_FALSE(write->has_value());  // 980 ms: still waiting.
  clock_.Advance(milliseconds(20));
  Poll();
  ASSERT_TRUE(write->has_value());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*write)->status, 500u);
  EXPECT_EQ((*write)->body, "No cluster leader");
  EXPECT_EQ((*read)->body, "No cluster leader");
  EXPECT_EQ(served_, 1);
}

TEST_F(ClusterDispatchTest, AWaitingRequestIsServedOnceThisNodeLeads) {
  auto d = Make();
  auto write = Send(*d, Req(Method::kPut, "/v1/kv/a"));
  clock_.Advance(milliseconds(20));
  Poll();
  EXPECT_FALSE(write->has_value());
  leader_ = true;
  clock_.Advance(milliseconds(20));
  Poll();
  ASSERT_TRUE(write->has_value());
  EXPECT_EQ((*write)->status, 200u);
}

TEST_F(ClusterDispatchTest, AForwardedRequestIsNeverForwardedAgain) {
  leader_addr_ = "127.0.0.1:1";  // Would be forwarded if it could be.
  auto d = Make();
  Request req = Req(Method::kPut, "/v1/kv/a");
  req.headers.emplace_back(std::string(kForwardedHeader), "n3");
  auto out = Send(*d, std::move(req));
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 500u);
  EXPECT_EQ((*out)->body, "No cluster leader");
  bool marked = false;
  for (const auto& [k, v] : (*out)->headers) {
    marked |= k == kNotLeaderHeader && v == "true";
  }
  EXPECT_TRUE(marked);
  EXPECT_EQ(served_, 0);
}

TEST_F(ClusterDispatchTest, AFollowerServesADefaultReadLocallyAfterAReadIndex) {
  follower_reads_ = true;
  leader_addr_ = "127.0.0.1:1";  // Known; never contacted here.
  auto d = Make();
  const auto arrived = clock_.Now();
  auto out = Send(*d, Req(Method::kGet, "/v1/kv/a"));
  auto blocking = Send(*d, Req(Method::kGet, "/v1/kv/b?index=5"));
  EXPECT_FALSE(out->has_value());
  ASSERT_EQ(pending_read_index_.size(), 2u);
  EXPECT_EQ(read_index_deadlines_[0], arrived + milliseconds(1000));
  pending_read_index_[0](Status::Ok());
  pending_read_index_[1](Status::Ok());
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 200u);
  EXPECT_EQ((*out)->body, "local /v1/kv/a");
  ASSERT_TRUE(blocking->has_value());
  EXPECT_EQ((*blocking)->body, "local /v1/kv/b");
  EXPECT_FALSE(seen_forwarded_.has_value());
  EXPECT_EQ(served_, 2);
  EXPECT_EQ(barriers_, 0);
}

TEST_F(ClusterDispatchTest, AFollowerWithoutALeaderWaitsThenFailsItsReads) {
  follower_reads_ = true;
  auto d = Make();
  auto out = Send(*d, Req(Method::kGet, "/v1/kv/a"));
  for (int i = 0; i < 50 && !out->has_value(); ++i) {
    clock_.Advance(milliseconds(20));
    Poll();
  }
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->body, "No cluster leader");
  EXPECT_TRUE(pending_read_index_.empty());  // No leader to ask.
  EXPECT_EQ(served_, 0);
}

TEST_F(ClusterDispatchTest, ConsistentReadsAndFailedReadIndexesAreForwarded) {
  Router leader_router;
  std::vector<std::string> leader_saw;
  leader_router.Add({Method::kGet}, "/v1/kv/*",
                    [&](Request req, Responder respond) {
                      leader_saw.push_back(req.target);
                      respond(TextResponse(200, "leader " + req.path));
                    });
  FakeLeader leader(leader_router);
  ASSERT_TRUE(leader.Start());
  leader_addr_ = leader.address();
  follower_reads_ = true;
  auto d = Make();
  auto consistent = Send(*d, Req(Method::kGet, "/v1/kv/a?consistent"));
  EXPECT_TRUE(pending_read_index_.empty());  // Straight to the leader.
  auto fallback = Send(*d, Req(Method::kGet, "/v1/kv/b"));
  ASSERT_EQ(pending_read_index_.size(), 1u);
  pending_read_index_[0](Status(Code::kDeadlineExceeded, "too slow"));
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!(consistent->has_value() && fallback->has_value()) &&
         std::chrono::steady_clock::now() < deadline) {
    io_.restart();
    io_.run_one_for(milliseconds(50));
  }
  ASSERT_TRUE(consistent->has_value());
  ASSERT_TRUE(fallback->has_value());
  EXPECT_EQ((*consistent)->body, "leader /v1/kv/a");
  EXPECT_EQ((*fallback)->body, "leader /v1/kv/b");
  EXPECT_EQ(pending_read_index_.size(), 1u);  // Not asked twice.
  EXPECT_EQ(served_, 0);
  pool_.Shutdown();
}

TEST_F(ClusterDispatchTest, TheLeaderAnswersAReadIndexAfterAQuorumRound) {
  leader_ = true;
  state_index_ = 42;
  auto d = Make();
  Request req = Req(Method::kGet, std::string(kReadIndexPath));
  req.headers.emplace_back(std::string(kForwardedHeader), "n3");
  auto out = Send(*d, req);
  EXPECT_FALSE(out->has_value());  // Not before the round.
  ASSERT_EQ(pending_barriers_.size(), 1u);
  state_index_ = 43;  // Applied meanwhile: the answer is as of the round.
  pending_barriers_[0](Status::Ok());
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 200u);
  EXPECT_EQ((*out)->body, "43");
  // Leadership lost during the round: refused, so the follower moves on.
  auto lost = Send(*d, req);
  pending_barriers_[1](Status(Code::kUnavailable, "leadership lost"));
  ASSERT_TRUE(lost->has_value());
  EXPECT_EQ((*lost)->status, 500u);
  EXPECT_TRUE(HasNotLeaderMarker(**lost));
  EXPECT_EQ(served_, 0);
}

TEST_F(ClusterDispatchTest, ANonLeaderRefusesAReadIndex) {
  leader_addr_ = "127.0.0.1:1";
  follower_reads_ = true;
  auto d = Make();
  Request req = Req(Method::kGet, std::string(kReadIndexPath));
  req.headers.emplace_back(std::string(kForwardedHeader), "n3");
  auto out = Send(*d, std::move(req));
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 500u);
  EXPECT_EQ((*out)->body, "No cluster leader");
  EXPECT_TRUE(HasNotLeaderMarker(**out));
  EXPECT_TRUE(pending_read_index_.empty());
  EXPECT_EQ(barriers_, 0);
}

TEST_F(ClusterDispatchTest, FetchReadIndexAsksAsAForwardedRequest) {
  Router leader_router;
  std::string saw_forwarded;
  std::atomic<bool> is_leader{true};
  leader_router.Add({Method::kGet}, std::string(kReadIndexPath),
                    [&](Request req, Responder respond) {
                      saw_forwarded = req.Header(kForwardedHeader).value_or("");
                      if (is_leader) return respond(TextResponse(200, "17"));
                      Response r = NoLeaderResponse();
                      r.SetHeader(std::string(kNotLeaderHeader), "true");
                      respond(std::move(r));
                    });
  FakeLeader leader(leader_router);
  ASSERT_TRUE(leader.Start());
  auto fetch = [&]() {
    std::optional<Result<uint64_t>> got;
    FetchReadIndex(pool_, leader.address(), "n2", seconds(5),
                   [&](Result<uint64_t> r) { got = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (!got.has_value() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(milliseconds(50));
    }
    return got;
  };
  auto ok = fetch();
  ASSERT_TRUE(ok.has_value());
  ASSERT_TRUE(ok->ok()) << ok->status().message();
  EXPECT_EQ(**ok, 17u);
  EXPECT_EQ(saw_forwarded, "n2");
  is_leader = false;
  auto refused = fetch();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), Code::kUnavailable);
  pool_.Shutdown();
}

// Forwarding to a real server standing in for the leader. Its io_context
// runs on its own thread; ours is polled until the answer arrives.
TEST_F(ClusterDispatchTest, AFollowerForwardsAndPassesTheAnswerBackUnchanged) {
  asio::io_context leader_io;
  Router leader_router;
  std::string leader_saw;
  leader_router.Add({Method::kPut}, "/v1/kv/*",
                    [&](Request req, Responder respond) {
                      leader_saw = req.Header(kForwardedHeader).value_or("");
                      Response r = TextResponse(409, "cas failed " + req.body);
                      r.SetHeader("X-Consul-Index", "7");
                      respond(std::move(r));
                    });
  Server::Options so;
  so.address = "127.0.0.1";
  so.port = 0;
  Server leader(leader_io, so, leader_router);
  ASSERT_TRUE(leader.Start().ok());
  std::jthread leader_thread([&] {
    auto guard = asio::make_work_guard(leader_io);
    leader_io.run();
  });
  leader_addr_ = "127.0.0.1:" + std::to_string(leader.port());
  auto d = Make();
  Request req = Req(Method::kPut, "/v1/kv/a?cas=3");
  req.body = "v";
  auto out = Send(*d, std::move(req));
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!out->has_value() && std::chrono::steady_clock::now() < deadline) {
    io_.restart();
    io_.run_one_for(milliseconds(50));
  }
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->status, 409u);
  EXPECT_EQ((*out)->body, "cas failed v");
  EXPECT_EQ(leader_saw, "n2");
  bool index = false;
  for (const auto& [k, v] : (*out)->headers)
    index |= k == "X-Consul-Index" && v == "7";
  EXPECT_TRUE(index);
  EXPECT_EQ(served_, 0);
  leader.Stop();
  pool_.Shutdown();
  leader_io.stop();
}

}  // namespace
}  // namespace sider::http
