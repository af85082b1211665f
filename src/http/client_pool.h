// ClientPool: an HTTP/1.1 client (Boost.Beast, plain TCP) with pooled
// keep-alive connections per peer, used to forward requests to the leader.
//
// Per peer ("host:port") the pool keeps up to Options::max_connections open
// at once; a request takes an idle connection if there is one (the most
// recently used: warm), opens a new one while under the limit, and otherwise
// queues until a connection is released. HTTP/1.1 has one request in flight
// per connection and Sider's server answers a connection's requests one at a
// time, so the limit is also the peer's forwarding concurrency: it must be at
// least the number of clients expected to forward at once, not "a few".
// Idle connections beyond Options::max_idle are closed.
//
// A keep-alive connection may have been closed by the peer while idle. A
// request that fails on a reused connection before any byte of the answer
// arrived is retried once on a fresh connection; this can in principle
// repeat a write the peer received just before dying (HTTP clients
// generally accept that window; the peer's restart loses the connection).
//
// Errors, through `done`:
//   kUnavailable     the peer could not be reached (resolve/connect failed or
//                    timed out) or the pool is shut down: the request was
//                    NOT delivered, so it is safe to send elsewhere.
//   kOutcomeUnknown  the request was (maybe) delivered but no complete answer
//                    came back (reset, timeout, malformed answer).
// A peer's error status (4xx/5xx) is a successful Response, passed back as
// is.
//
// Threading: Send() and Shutdown() may be called from any thread. `done`
// runs exactly once, on an io thread of the pool's io_context (never inline
// inside Send()). Lifetime: the pool must outlive the io_context's run
// (in-flight operations hold shared ownership of the pool's state only, so
// destroying the pool after Shutdown() is safe even with work queued).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/asio.h"
#include "base/status.h"
#include "http/http.h"

namespace sider::http {

class ClientPool {
 public:
  struct Options {
    // Per peer, open at once. Large on purpose: a blocking query forwarded
    // to the leader holds its connection for up to its wait (minutes), so
    // a small cap lets parked queries starve writes queued behind them
    // (1,000 parked watchers wedged a 3-member cluster at 256). The
    // process's descriptor limit is the real bound (app raises it).
    size_t max_connections = 16384;
    size_t max_idle = 128;         // Per peer, kept open while unused.
    std::chrono::milliseconds connect_timeout{1000};
    size_t max_response_body = 64u << 20;
  };
  using Done = std::function<void(Result<Response>)>;

  explicit ClientPool(asio::io_context& io);
  ClientPool(asio::io_context& io, Options options);
  ~ClientPool();  // Shutdown().
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Sends `req` (its method, target, headers and body; hop-by-hop headers
  // are dropped and Host is set to `peer`) to `peer` ("host:port", a
  // numeric host or a name to resolve) and calls `done` with the answer.
  // `timeout` bounds the whole exchange after connecting. A Method::kOther
  // request is refused with kInvalidArgument (its verb is not known).
  void Send(const std::string& peer, const Request& req,
            std::chrono::nanoseconds timeout, Done done);

  // Closes idle connections and fails queued requests with kUnavailable;
  // requests in flight finish, and their connections are closed. Send()
  // afterwards fails with kUnavailable. Idempotent.
  void Shutdown();

  struct PeerStats {
    size_t open = 0;  // Connections open (idle or busy).
    size_t idle = 0;
    size_t queued = 0;      // Requests waiting for a connection.
    uint64_t connects = 0;  // Connections ever opened.
    uint64_t reuses = 0;    // Requests sent on an already-used connection.
  };
  PeerStats Stats(const std::string& peer) const;

  struct Core;  // Shared with in-flight connections (client_pool.cc).

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace sider::http
