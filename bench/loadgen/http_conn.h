// HttpConn: one HTTP/1.1 keep-alive client connection for the load
// generator, over Boost.Beast. It talks to one endpoint at a time; after a
// transport error or timeout it closes the socket and moves to the next
// endpoint of its list, so a stream of requests survives the loss of one
// cluster member (the failover workload relies on this).
//
// Thread safety: a connection belongs to one coroutine; Send() must not be
// called again before the previous call has completed. Errors are values:
// Send() never throws (Asio errors are redirected into error codes).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/asio.h"  // First: it includes <utility> before awaitable.hpp.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include "base/status.h"

namespace sider::bench {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port[,host:port...]".
Result<std::vector<Endpoint>> ParseEndpoints(const std::string& list);

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::optional<std::string> consul_index;  // The X-Consul-Index header.
};

class HttpConn {
 public:
  // Starts at endpoints[first % size]; connects lazily on the first Send().
  HttpConn(asio::any_io_executor executor, std::vector<Endpoint> endpoints,
           size_t first, std::chrono::milliseconds timeout);

  // One request and its complete reply. A transport failure (connect,
  // write, read, timeout) returns kUnavailable and rotates to the next
  // endpoint; an HTTP error status is a reply, not a failure.
  asio::awaitable<Result<HttpReply>> Send(boost::beast::http::verb method,
                                          std::string target,
                                          std::string body);

  const Endpoint& endpoint() const { return endpoints_[current_]; }
  size_t endpoint_index() const { return current_; }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  asio::awaitable<Status> Connect();
  void Rotate();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::vector<Endpoint> endpoints_;
  size_t current_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
};

}  // namespace sider::bench
