// etcd through its v3 JSON gRPC gateway (etcd 3.4: paths under /v3/; keys,
// values and range ends are base64; int64 fields such as lease IDs are JSON
// strings). Every gateway call is one gRPC call made by etcd itself on the
// member the connection reaches, so the figures include the gateway's JSON
// translation, which a native gRPC client would not pay.
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "workload.h"

namespace sider::bench {
namespace {

using boost::beast::http::verb;

// The "ID" field of a lease grant reply, or an error.
Result<std::string> LeaseIdOf(const HttpReply& reply) {
  SIDER_RETURN_IF_ERROR(StatusOfReply(reply, "lease grant"));
  try {
    const auto doc = nlohmann::json::parse(reply.body);
    if (auto it = doc.find("ID"); it != doc.end() && it->is_string()) {
      return it->get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  return Status(Code::kInternal, "lease grant: no ID in " + reply.body);
}

asio::awaitable<Result<std::string>> Grant(HttpConn& conn, unsigned ttl_s) {
  auto r = co_await conn.Send(verb::post, "/v3/lease/grant",
                              "{\"TTL\":" + std::to_string(ttl_s) + "}");
  if (!r.ok()) co_return r.status();
  co_return LeaseIdOf(*r);
}

asio::awaitable<Status> Put(HttpConn& conn, const std::string& key,
                            const std::string& value,
                            const std::string& lease) {
  std::string body = "{\"key\":\"" + Base64(key) + "\",\"value\":\"" +
                     Base64(value) + "\"";
  if (!lease.empty()) body += ",\"lease\":\"" + lease + "\"";
  body += "}";
  auto r = co_await conn.Send(verb::post, "/v3/kv/put", std::move(body));
  co_return r.ok() ? StatusOfReply(*r, "put") : r.status();
}

class EtcdRegister final : public HttpWorkload {
 public:
  explicit EtcdRegister(WorkloadOptions o) : o_(std::move(o)) {}
  asio::awaitable<Status> Setup(HttpConn&) override { co_return Status(); }
  // An instance is a key attached to its own lease: two gateway calls.
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t seq) override {
    auto lease = co_await Grant(conn, o_.ttl_s);
    if (!lease.ok()) co_return lease.status();
    const std::string id = o_.prefix + "-" + std::to_string(seq);
    co_return co_await Put(conn, "/bench/" + o_.prefix + "/reg/" + id,
                           InstanceJson(id, 8080), *lease);
  }

 private:
  const WorkloadOptions o_;
};

class EtcdHeartbeat final : public HttpWorkload {
 public:
  explicit EtcdHeartbeat(WorkloadOptions o) : o_(std::move(o)) {}
  asio::awaitable<Status> Setup(HttpConn& conn) override {
    for (unsigned i = 0; i < o_.pool; ++i) {
      auto lease = co_await Grant(conn, o_.ttl_s);
      if (!lease.ok()) co_return lease.status();
      leases_.push_back(*lease);
    }
    co_return Status();
  }
  // The gateway maps one POST to one LeaseKeepAlive stream carrying one
  // request; etcd answers it and ends the stream when the body ends.
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t seq) override {
    auto r = co_await conn.Send(
        verb::post, "/v3/lease/keepalive",
        "{\"ID\":\"" + leases_[seq % leases_.size()] + "\"}");
    if (!r.ok()) co_return r.status();
    if (Status s = StatusOfReply(*r, "keepalive"); !s.ok()) co_return s;
    if (r->body.find("\"TTL\"") == std::string::npos) {
      co_return Status(Code::kInternal, "keepalive: " + r->body.substr(0, 200));
    }
    co_return Status();
  }

 private:
  const WorkloadOptions o_;
  std::vector<std::string> leases_;
};

class EtcdDiscover final : public HttpWorkload {
 public:
  explicit EtcdDiscover(WorkloadOptions o) : o_(std::move(o)) {
    const std::string prefix = "/bench/" + o_.prefix + "/disc/";
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    body_ = "{\"key\":\"" + Base64(prefix) + "\",\"range_end\":\"" +
            Base64(end) + "\"" + (o_.stale ? ",\"serializable\":true" : "") +
            "}";
  }
  asio::awaitable<Status> Setup(HttpConn& conn) override {
    for (unsigned i = 0; i < o_.instances; ++i) {
      const std::string id = o_.prefix + "-disc-" + std::to_string(i);
      auto lease = co_await Grant(conn, o_.ttl_s);
      if (!lease.ok()) co_return lease.status();
      Status s = co_await Put(conn, "/bench/" + o_.prefix + "/disc/" + id,
                              InstanceJson(id, 8000 + i), *lease);
      if (!s.ok()) co_return s;
    }
    co_return Status();
  }
  asio::awaitable<Status> Once(HttpConn& conn, uint64_t) override {
    auto r = co_await conn.Send(verb::post, "/v3/kv/range", body_);
    if (!r.ok()) co_return r.status();
    if (Status s = StatusOfReply(*r, "range"); !s.ok()) co_return s;
    if (r->body.find("\"kvs\"") == std::string::npos) {
      co_return Status(Code::kInternal, "range: no kvs");
    }
    co_return Status();
  }

 private:
  const WorkloadOptions o_;
  std::string body_;
};

}  // namespace

Result<std::unique_ptr<HttpWorkload>> MakeEtcdWorkload(Workload w,
                                                       WorkloadOptions o) {
  switch (w) {
    case Workload::kRegister:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<EtcdRegister>(std::move(o)));
    case Workload::kHeartbeat:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<EtcdHeartbeat>(std::move(o)));
    case Workload::kDiscover:
      return Result<std::unique_ptr<HttpWorkload>>(
          std::make_unique<EtcdDiscover>(std::move(o)));
  }
  return Status(Code::kInvalidArgument, "unknown workload");
}

}  // namespace sider::bench
