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
//               leader, after a quorum round (the read barrier); elsewhere,
//               forwarded to the leader.
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

enum class RequestKind { kLocal, kStaleRead, kRead, kWrite };

// Which of the four a request is (see above); a pure function of method,
// path and query.
RequestKind ClassifyRequest(const Request& req);

// What to do with a request now.
enum class Action {
  kServeLocal,        // Hand it to the Router.
  kBarrierThenServe,  // Leader: quorum round, then the Router.
  kForward,           // Send it to the leader.
  kWait,              // No usable leader yet: check again shortly.
  kRefuse,            // A forwarded request reached a non-leader: 500 + marker.
};

struct DecisionInput {
  RequestKind kind = RequestKind::kLocal;
  bool forwarded = false;     // Carries X-Sider-Forwarded.
  bool is_leader = false;     // This node is the ready leader.
  bool leader_known = false;  // Another node's HTTP address is known.
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

// Status of an internal call's answer: OK for 2xx, else kUnavailable with
// the status and body.
Status StatusOfResponse(const Response& r);

}  // namespace sider::http
