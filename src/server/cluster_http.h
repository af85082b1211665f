// ClusterHttpCall: one asynchronous HTTP/1.1 request from this server to
// another server's HTTP API — the join handshake, liveness probes and
// operator calls relayed to the leader. A fresh connection per call
// (these are rare: seconds apart), "Connection: close".
//
// Threading: callable from any thread; `done` runs exactly once on `ex`.
// Ownership: the in-flight operation owns itself (a shared_ptr held by its
// handlers); the caller keeps nothing.
// Errors (Result): kUnavailable for resolve/connect/IO failures and for
// the deadline (`timeout` covers the whole exchange); kInvalidArgument for
// an address that is not host:port. A reply with any HTTP status is a
// value, not an error.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/asio.h"
#include "base/status.h"

namespace sider::server {

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

void ClusterHttpCall(asio::any_io_executor ex, std::string host_port,
                     std::string method, std::string target, std::string body,
                     std::chrono::milliseconds timeout,
                     std::function<void(Result<HttpReply>)> done);

}  // namespace sider::server
