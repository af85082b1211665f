// Sider through its Consul-compatible HTTP API.
#include <utility>

#include <boost/beast/http/verb.hpp>

#include "workload.h"

namespace sider::bench {
namespace {

using boost::beast::http::verb;

std::string RegisterBody(const std::string& name, const std::string& id,
                         unsigned port, unsigned ttl_s, bool passing) {
  return "{\"Name\":\"" + name + "\",\"ID\":\"" + id +
         "\",\"Port\":" + std::to_string(port) +
         ",\"Tags\":[\"v1\"],\"Check\":{\"TTL\":\"" + std::to_string(ttl_s) +
         "s\"" + (passing ? ",\"Status\":\"passing\"" : "") + "}}";
}

class SiderRegister final : public HttpWorkload {
 public:
  explicit SiderRegister(WorkloadOptions o) : o_(std::move(o)) {}
  asio::awaitable<Status> Setup(HttpConn&) override { co_return Status(); }
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t seq) override {
    auto r = co_await conn.Send(
        verb::put, "/v1/agent/service/register",
        RegisterBody(o_.prefix + "-reg", o_.prefix + "-" + std::to_string(seq),
                     8080, o_.ttl_s, false));
    co_return r.ok() ? StatusOfReply(*r, "register") : r.status();
  }

 private:
  const WorkloadOptions o_;
};

// Agent endpoints are node-local, as in Consul: a TTL check is passed
// through the agent (member) that registered it. So every member registers
// its own copy of the pool, and a client renews the copy of the member its
// connection is on.
class SiderHeartbeat final : public HttpWorkload {
 public:
  explicit SiderHeartbeat(WorkloadOptions o) : o_(std::move(o)) {}
  asio::awaitable<Status> Setup(HttpConn& conn) override {
    for (size_t e = 0; e < conn.endpoints().size(); ++e) {
      HttpConn member(conn.executor(), conn.endpoints(), e,
                      std::chrono::seconds(10));
      for (unsigned i = 0; i < o_.pool; ++i) {
        auto r = co_await member.Send(
            verb::put, "/v1/agent/service/register",
            RegisterBody(o_.prefix + "-hb", Id(e, i), 8080, o_.ttl_s, true));
        if (!r.ok()) co_return r.status();
        if (Status s = StatusOfReply(*r, "register"); !s.ok()) co_return s;
      }
    }
    co_return Status();
  }
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t seq) override {
    auto r = co_await conn.Send(
        verb::put,
        "/v1/agent/check/pass/service:" + Id(conn.endpoint_index(), seq % o_.pool),
        "");
    co_return r.ok() ? StatusOfReply(*r, "check pass") : r.status();
  }

 private:
  std::string Id(size_t member, uint64_t i) const {
    return o_.prefix + "-hb-" + std::to_string(member) + "-" + std::to_string(i);
  }
  const WorkloadOptions o_;
};

class SiderDiscover final : public HttpWorkload {
 public:
  explicit SiderDiscover(WorkloadOptions o)
      : o_(std::move(o)),
        target_("/v1/health/service/" + o_.prefix + "-disc?passing" +
                (o_.stale ? "&stale" : "")) {}
  asio::awaitable<Status> Setup(HttpConn& conn) override {
    for (unsigned i = 0; i < o_.instances; ++i) {
      auto r = co_await conn.Send(
          verb::put, "/v1/agent/service/register",
          RegisterBody(o_.prefix + "-disc",
                       o_.prefix + "-disc-" + std::to_string(i), 8000 + i,
                       o_.ttl_s, true));
      if (!r.ok()) co_return r.status();
      if (Status s = StatusOfReply(*r, "register"); !s.ok()) co_return s;
    }
    co_return Status();
  }
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t) override {
    auto r = co_await conn.Send(verb::get, target_, "");
    if (!r.ok()) co_return r.status();
    if (r->body.size() < 3) {
      co_return Status(Code::kInternal, "discover: empty instance list");
    }
    co_return StatusOfReply(*r, "health");
  }

 private:
  const WorkloadOptions o_;
  const std::string target_;
};

}  // namespace

Result<std::unique_ptr<HttpWorkload>> MakeSiderWorkload(Workload w,
                                                        WorkloadOptions o) {
  switch (w) {
    case Workload::kRegister:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<SiderRegister>(std::move(o)));
    case Workload::kHeartbeat:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<SiderHeartbeat>(std::move(o)));
    case Workload::kDiscover:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<SiderDiscover>(std::move(o)));
  }
  return Status(Code::kInvalidArgument, "unknown workload");
}

}  // namespace sider::bench
