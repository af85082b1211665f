// ClusterDispatch: "any node serves any request". It sits in front of the
// API Router and decides, per request, whether this node answers it or the
// leader must (docs/consistency.md has the whole story):
//
//   kLocal      agent reads (/v1/agent/services, /checks, /self, /members,
//               ...), node-local agent operations (join, leave, ...),
//               /v1/status/*, /v1/catalog/datacenters, cluster formation
//               (/v1/internal/cluster/*), non-/v1 paths: always here.
//   kStaleRead  a GET/HEAD with ?stale: here, from local state, unless
//               ?max_stale= is given and this node last heard from the
//               leader longer ago than that; then as kRead.
//   kRead       any other GET/HEAD (default and ?consistent): on the ready
//               leader, after a quorum round (the read barrier). On a
//               follower, a default-mode read is served here after a read
//               index (ClusterView::follower_read: the leader's state index
//               from GET /v1/internal/read-index, then applied here); a
//               ?consistent read, or one whose read index could not be had,
//               is forwarded to the leader.
//   kWrite      every other method, plus the agent writes that clients send
//               as GET (deregister, TTL pass/warn/fail): on the ready
//               leader; elsewhere, forwarded.
//
// Forwarding sends the raw request (method, target, headers, body) to the
// leader's HTTP address through the ClientPool, with `X-Sider-Forwarded:
// <this node>` added; the leader's status, headers and body come back
// unchanged. A request that already carries X-Sider-Forwarded is never
// forwarded again: if it reaches a node that is not the ready leader (the
// leadership moved meanwhile) that node answers 500 "No cluster leader" with
// `X-Sider-Not-Leader: true`, and the origin, which knows the request was
// not acted on, looks for the leader again.
//
// Read index: GET /v1/internal/read-index is answered here, not by the
// Router: by the ready leader, after a quorum round that started after the
// request arrived (read_barrier), with 200 and its state index as the body;
// by any other node with 500 "No cluster leader" + X-Sider-Not-Leader.
// FetchReadIndex() is the follower's side of it.
//
// No leader: while none is known (an election, or this node is elected but
// its barrier has not applied yet), or the known one cannot be reached, the
// request waits, re-checking every Options::poll_interval, for at most
// Options::leader_wait from its arrival; then it is answered 500 "No cluster
// leader". Nothing hangs beyond that bound (apart from the leader's own
// answer time, bounded by the forward timeout).
//
// Threading: Dispatch() may be called on any io thread, concurrently; the
// responder runs on an io thread. The ClusterView functions must be
// thread-safe. Everything given to the constructor must outlive every
// request in flight (i.e. the io_context's run).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/asio.h"
#include "base/clock.h"
#include "http/client_pool.h"
#include "http/http.h"
#include "http/router.h"

namespace sider::http {

inline constexpr std::string_view kForwardedHeader = "X-Sider-Forwarded";
inline constexpr std::string_view kNotLeaderHeader = "X-Sider-Not-Leader";
inline constexpr std::string_view kNoLeaderText = "No cluster leader";
inline constexpr std::string_view kReadIndexPath = "/v1/internal/read-index";

enum class RequestKind { kLocal, kStaleRead, kRead, kWrite };

// Which of the four a request is (see above); a pure function of method,
// path and query.
RequestKind ClassifyRequest(const Request& req);

// What to do with a request now.
enum class Action {
  kServeLocal,        // Hand it to the Router.
  kBarrierThenServe,  // Leader: quorum round, then the Router.
  kReadIndexThenServe,  // Follower: a read index, then the Router.
  kForward,           // Send it to the leader.
  kWait,              // No usable leader yet: check again shortly.
  kRefuse,            // A forwarded request reached a non-leader: 500 + marker.
};

struct DecisionInput {
  RequestKind kind = RequestKind::kLocal;
  bool forwarded = false;     // Carries X-Sider-Forwarded.
  bool is_leader = false;     // This node is the ready leader.
  bool leader_known = false;  // Another node's HTTP address is known.
  // A kRead this node may serve after a read index: default mode (not
  // ?consistent), follower reads enabled, no read index failed for it yet.
  bool follower_read = false;
  std::optional<uint64_t> max_stale_ms;  // From ?max_stale=.
  uint64_t last_contact_ms = 0;
};

Action Decide(const DecisionInput& in);

// What ClusterDispatch needs to know about the cluster; all thread-safe.
struct ClusterView {
  std::string node_name;  // Goes into X-Sider-Forwarded.
  std::function<bool()> is_ready_leader;
  // The leader's HTTP "host:port"; "" if no leader is known or this node
  // is the leader (so a leader whose barrier has not applied waits rather
  // than forwarding to itself).
  std::function<std::string()> leader_http_address;
  std::function<uint64_t()> last_contact_ms;
  // One quorum round: `done` gets OK once this node has confirmed it still
  // leads and applied everything committed before the call.
  std::function<void(std::function<void(Status)> done)> read_barrier;
  // Leader: the index a read index answers (RaftNode::StateIndex()).
  std::function<uint64_t()> state_index;
  // Follower: `done` gets OK once this node has applied a read index
  // obtained from the leader after the call (server::ReadIndexGate), or an
  // error by `deadline`. Unset: follower reads are forwarded.
  std::function<void(Clock::TimePoint deadline,
                     std::function<void(Status)> done)>
      follower_read;
};

class ClusterDispatch {
 public:
  struct Options {
    std::chrono::milliseconds leader_wait{2000};
    std::chrono::milliseconds poll_interval{20};
    // Bounds a forwarded exchange; a blocking query (?index=) gets
    // blocking_timeout instead (Consul's 10 min maximum plus jitter).
    std::chrono::seconds forward_timeout{60};
    std::chrono::seconds blocking_timeout{11 * 60};
    // Path prefixes answered here whatever the method, in addition to the
    // built-in list (for node-local endpoints added later).
    std::vector<std::string> extra_local_prefixes;
  };

  ClusterDispatch(const Router& inner, ClientPool& pool, ClusterView view,
                  Clock& clock, asio::any_io_executor executor,
                  Options options);
  ClusterDispatch(const ClusterDispatch&) = delete;
  ClusterDispatch& operator=(const ClusterDispatch&) = delete;

  // Routes every request through this dispatcher: adds a catch-all "/*"
  // route (every method) to `outer`, which the Server then serves.
  void Install(Router& outer);

  void Dispatch(Request req, Responder respond) const;

  RequestKind Classify(const Request& req) const;

 private:
  class Attempt;

  void ServeReadIndex(Responder respond) const;

  const Router& inner_;
  ClientPool& pool_;
  const ClusterView view_;
  Clock& clock_;
  const asio::any_io_executor executor_;
  const Options options_;
};

// The answer for "no leader": 500 "No cluster leader" (Consul's text).
Response NoLeaderResponse();

// A request made by this server itself (heartbeats, probe results) to be
// routed through ClusterDispatch::Dispatch like a client's: `target` is
// built from `path` and the %-escaped `query`.
Request MakeRequest(Method method, std::string path,
                    std::vector<std::pair<std::string, std::string>> query,
                    std::string body = "");

// Asks the leader at `leader` (HTTP host:port) for a read index: GET
// kReadIndexPath with X-Sider-Forwarded: `node_name`, so it is never
// forwarded on. kUnavailable if the answer is not 200 (the node is not the
// ready leader, or an older version that lacks the endpoint) or the pool's
// error; kInternal for an unparsable body.
void FetchReadIndex(ClientPool& pool, const std::string& leader,
                    const std::string& node_name,
                    std::chrono::nanoseconds timeout,
                    std::function<void(Result<uint64_t>)> done);

// Status of an internal call's answer: OK for 2xx, else kUnavailable with
// the status and body.
Status StatusOfResponse(const Response& r);

}  // namespace sider::http
