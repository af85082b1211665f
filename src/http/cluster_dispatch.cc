#include "http/cluster_dispatch.h"

#include <cctype>
#include <charconv>
#include <memory>
#include <utility>

#include "base/duration.h"

namespace sider::http {
namespace {

bool IsGetLike(Method m) { return m == Method::kGet || m == Method::kHead; }

bool StartsWithAny(std::string_view path,
                   std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (path.starts_with(p)) return true;
  }
  return false;
}

// Agent writes that python-consul (and Consul itself) accept as GET.
bool IsAgentWriteByGet(std::string_view path) {
  return StartsWithAny(
      path, {"/v1/agent/service/deregister/", "/v1/agent/check/deregister/",
             "/v1/agent/check/pass/", "/v1/agent/check/warn/",
             "/v1/agent/check/fail/"});
}

// Operations on this node itself, whatever the method: membership and
// process control act on the node that received them.
bool IsNodeLocalOperation(std::string_view path) {
  return StartsWithAny(path, {"/v1/agent/join/", "/v1/agent/leave",
                              "/v1/agent/force-leave", "/v1/agent/reload",
                              "/v1/agent/monitor", "/v1/agent/token/",
                              "/v1/agent/metrics", "/v1/agent/host"}) ||
         path.starts_with("/v1/status/") || path == "/v1/catalog/datacenters" ||
         // Cluster formation talks to a specific server, before any
         // leader exists (server/cluster_membership.h).
         path.starts_with("/v1/internal/cluster/");
}

std::optional<uint64_t> MaxStaleMs(const Request& req) {
  auto v = req.Get("max_stale");
  if (!v || v->empty()) return std::nullopt;
  auto d = ParseGoDuration(*v);
  if (!d.ok() || d->count() < 0) return std::nullopt;  // Unbounded.
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
}

}  // namespace

RequestKind ClassifyRequest(const Request& req) {
  const std::string_view path = req.path;
  if (req.method == Method::kOther || !path.starts_with("/v1/") ||
      IsNodeLocalOperation(path)) {
    return RequestKind::kLocal;
  }
  if (path.starts_with("/v1/agent/")) {
    if (IsGetLike(req.method) && !IsAgentWriteByGet(path)) {
      return RequestKind::kLocal;  // The agent's own view.
    }
    return RequestKind::kWrite;
  }
  if (!IsGetLike(req.method)) return RequestKind::kWrite;
  return req.Has("stale") ? RequestKind::kStaleRead : RequestKind::kRead;
}

Action Decide(const DecisionInput& in) {
  RequestKind kind = in.kind;
  if (kind == RequestKind::kLocal) return Action::kServeLocal;
  if (kind == RequestKind::kStaleRead) {
    // Consul: a stale read beyond max_stale goes to the leader; the
    // leader (or a node it was forwarded to) serves it from its state.
    const bool too_stale = in.max_stale_ms && !in.is_leader &&
                           in.last_contact_ms > *in.max_stale_ms;
    if (!too_stale || in.forwarded) return Action::kServeLocal;
    if (in.leader_known) return Action::kForward;
    return Action::kWait;
  }
  if (in.is_leader) {
    return kind == RequestKind::kRead ? Action::kBarrierThenServe
                                      : Action::kServeLocal;
  }
  if (in.forwarded) return Action::kRefuse;  // Never forward twice.
  if (!in.leader_known) return Action::kWait;
  return kind == RequestKind::kRead && in.follower_read
             ? Action::kReadIndexThenServe
             : Action::kForward;
}

Request MakeRequest(Method method, std::string path,
                    std::vector<std::pair<std::string, std::string>> query,
                    std::string body) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto escape = [](std::string* out, std::string_view in) {
    for (unsigned char c : in) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out->push_back(static_cast<char>(c));
      } else {
        out->push_back('%');
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      }
    }
  };
  Request req;
  req.method = method;
  req.target = path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    req.target.push_back(sep);
    sep = '&';
    escape(&req.target, k);
    req.target.push_back('=');
    escape(&req.target, v);
  }
  req.path = std::move(path);
  req.query = std::move(query);
  req.body = std::move(body);
  return req;
}

Status StatusOfResponse(const Response& reply) {
  const Response& r = reply.shared ? reply.shared->response : reply;
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  return Status(Code::kUnavailable, std::to_string(r.status) + " " + r.body);
}

Response NoLeaderResponse() {
  return TextResponse(500, std::string(kNoLeaderText));
}

namespace {

// "Not acted on here": the origin may look for the leader again.
Response NotLeaderResponse() {
  Response r = NoLeaderResponse();
  r.SetHeader(std::string(kNotLeaderHeader), "true");
  return r;
}

}  // namespace

void FetchReadIndex(ClientPool& pool, const std::string& leader,
                    const std::string& node_name,
                    std::chrono::nanoseconds timeout,
                    std::function<void(Result<uint64_t>)> done) {
  Request req = MakeRequest(Method::kGet, std::string(kReadIndexPath), {});
  req.headers.emplace_back(std::string(kForwardedHeader), node_name);
  pool.Send(leader, req, timeout,
            [done = std::move(done)](Result<Response> r) {
              if (!r.ok()) return done(r.status());
              if (r->status != 200) {
                return done(Status(Code::kUnavailable,
                                   "read index: " + std::to_string(r->status) +
                                       " " + r->body));
              }
              const std::string& b = r->body;
              uint64_t index = 0;
              auto [end, ec] =
                  std::from_chars(b.data(), b.data() + b.size(), index);
              if (ec != std::errc() || end != b.data() + b.size()) {
                return done(Status(Code::kInternal,
                                   "read index: bad answer \"" + b + "\""));
              }
              done(index);
            });
}

// One request that could not be answered at once: it waits for a leader,
// is forwarded, and retries while the leader moves, until its deadline.
class ClusterDispatch::Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  Attempt(const ClusterDispatch& d, Request req, Responder respond,
          RequestKind kind)
      : d_(d),
        req_(std::move(req)),
        respond_(std::move(respond)),
        kind_(kind),
        forwarded_(req_.Header(kForwardedHeader).has_value()),
        consistent_(req_.Has("consistent")),
        max_stale_ms_(MaxStaleMs(req_)),
        deadline_(d.clock_.Now() + d.options_.leader_wait) {}

  void Step() {
    DecisionInput in;
    in.kind = kind_;
    in.forwarded = forwarded_;
    in.is_leader = d_.view_.is_ready_leader();
    std::string leader;
    if (!in.is_leader) leader = d_.view_.leader_http_address();
    in.leader_known = !leader.empty();
    in.max_stale_ms = max_stale_ms_;
    in.last_contact_ms = d_.view_.last_contact_ms();
    in.follower_read = kind_ == RequestKind::kRead && !consistent_ &&
                       !read_index_failed_ && d_.view_.follower_read;
    switch (Decide(in)) {
      case Action::kServeLocal:
        return d_.inner_.Dispatch(std::move(req_), std::move(respond_));
      case Action::kBarrierThenServe:
        return Barrier();
      case Action::kReadIndexThenServe:
        return ReadIndex();
      case Action::kForward:
        return Forward(leader);
      case Action::kWait:
        return WaitAndRetry();
      case Action::kRefuse:
        return respond_(NotLeaderResponse());
    }
  }

 private:
  void Barrier() {
    d_.view_.read_barrier([self = shared_from_this()](Status s) {
      if (s.ok()) {
        return self->d_.inner_.Dispatch(std::move(self->req_),
                                        std::move(self->respond_));
      }
      self->WaitAndRetry();  // Leadership lost: find the new leader.
    });
  }

  // Served from this follower's state once it has applied a read index
  // the leader gave after this read arrived. Without one (no leader, the
  // leader unreachable or too slow, this node too far behind), the read
  // takes the path it took before follower reads: forwarded, within the
  // same deadline.
  void ReadIndex() {
    d_.view_.follower_read(deadline_, [self = shared_from_this()](Status s) {
      if (s.ok()) {
        return self->d_.inner_.Dispatch(std::move(self->req_),
                                        std::move(self->respond_));
      }
      self->read_index_failed_ = true;
      if (self->d_.clock_.Now() >= self->deadline_) {
        return self->respond_(NoLeaderResponse());
      }
      self->Step();
    });
  }

  void Forward(const std::string& leader) {
    if (!forwarded_ && !origin_) {
      req_.headers.emplace_back(std::string(kForwardedHeader),
                                d_.view_.node_name);
      origin_ = true;
    }
    const auto timeout =
        req_.Has("index")
            ? std::chrono::nanoseconds(d_.options_.blocking_timeout)
            : std::chrono::nanoseconds(d_.options_.forward_timeout);
    d_.pool_.Send(leader, req_, timeout,
                  [self = shared_from_this()](Result<Response> r) {
                    self->OnAnswer(std::move(r));
                  });
  }

  void OnAnswer(Result<Response> r) {
    if (!r.ok()) {
      if (r.status().code() == Code::kUnavailable) {
        return WaitAndRetry();  // Not delivered: the leader is gone.
      }
      return respond_(ErrorResponse(r.status()));
    }
    for (const auto& [name, value] : r->headers) {
      if (name == kNotLeaderHeader) return WaitAndRetry();
    }
    respond_(std::move(r).value());
  }

  void WaitAndRetry() {
    const auto now = d_.clock_.Now();
    if (now >= deadline_) return respond_(NoLeaderResponse());
    const auto at = std::min(deadline_, now + d_.options_.poll_interval);
    alarm_ = d_.clock_.SetAlarm(at, d_.executor_, [self = shared_from_this()] {
      self->alarm_.reset();
      self->Step();
    });
  }

  const ClusterDispatch& d_;
  Request req_;
  Responder respond_;
  const RequestKind kind_;
  const bool forwarded_;  // Arrived with X-Sider-Forwarded.
  const bool consistent_;  // ?consistent: always served by the leader.
  bool read_index_failed_ = false;
  bool origin_ = false;   // We added it (to our copy, for the leader).
  const std::optional<uint64_t> max_stale_ms_;
  const Clock::TimePoint deadline_;
  std::unique_ptr<Clock::Alarm> alarm_;
};

ClusterDispatch::ClusterDispatch(const Router& inner, ClientPool& pool,
                                 ClusterView view, Clock& clock,
                                 asio::any_io_executor executor,
                                 Options options)
    : inner_(inner),
      pool_(pool),
      view_(std::move(view)),
      clock_(clock),
      executor_(std::move(executor)),
      options_(std::move(options)) {}

void ClusterDispatch::Install(Router& outer) {
  outer.Add({Method::kGet, Method::kPut, Method::kPost, Method::kDelete,
             Method::kHead, Method::kOther},
            "/*", [this](Request req, Responder respond) {
              Dispatch(std::move(req), std::move(respond));
            });
}

RequestKind ClusterDispatch::Classify(const Request& req) const {
  for (const std::string& p : options_.extra_local_prefixes) {
    if (std::string_view(req.path).starts_with(p)) return RequestKind::kLocal;
  }
  return ClassifyRequest(req);
}

void ClusterDispatch::ServeReadIndex(Responder respond) const {
  if (!view_.state_index || !view_.is_ready_leader()) {
    return respond(NotLeaderResponse());
  }
  // A quorum round that started after the request arrived: every write
  // acknowledged before the follower asked is in this node's state.
  view_.read_barrier([this, respond = std::move(respond)](Status s) {
    if (!s.ok()) return respond(NotLeaderResponse());
    respond(TextResponse(200, std::to_string(view_.state_index())));
  });
}

void ClusterDispatch::Dispatch(Request req, Responder respond) const {
  if (req.path == kReadIndexPath && IsGetLike(req.method)) {
    return ServeReadIndex(std::move(respond));
  }
  const RequestKind kind = Classify(req);
  // The common cases need no state: answered here, now.
  if (kind == RequestKind::kLocal ||
      (kind == RequestKind::kStaleRead && !req.Has("max_stale"))) {
    return inner_.Dispatch(std::move(req), std::move(respond));
  }
  if (kind == RequestKind::kWrite && view_.is_ready_leader()) {
    return inner_.Dispatch(std::move(req), std::move(respond));
  }
  std::make_shared<Attempt>(*this, std::move(req), std::move(respond), kind)
      ->Step();
}

}  // namespace sider::http
