// Server: the HTTP/1.1 listener (Boost.Beast) in front of a Router.
//
// Each accepted connection gets its own strand; the io_context may be run by
// any number of threads. A connection reads one request, hands it to the
// Router and reads nothing more until the handler's answer has been written
// (so pipelined requests are answered in order; the next one waits in the
// connection's buffer). Connections are kept alive per HTTP/1.1 rules.
//
// Errors the server answers itself, closing the connection afterwards:
//   400  malformed request line, headers or chunking; bad %-escapes
//   413  a body over Options::max_body_bytes (from Content-Length, before
//        reading the body; or while reading a chunked body)
//   431  a header block over Options::max_header_bytes
//
// An answer is written at once with one non-blocking sendmsg when the
// socket takes it whole (the common case: no completion handler is queued),
// else the rest asynchronously. Handlers get the connection's strand in
// Request::strand.
//
// Handlers may answer much later and from any thread (a blocking query
// parks for minutes). The connection stays open meanwhile. A client that
// went away is noticed only when the answer is written; the write fails
// quietly and the connection is dropped. The process must ignore SIGPIPE
// (the app does); writes use MSG_NOSIGNAL where Asio can, regardless.
//
// Threading: construct, Start() and Stop() from one thread (any). Stop() is
// asynchronous: it posts the closing of the listener and of every open
// connection, which happens once the io_context runs them. `router` must
// outlive every handler call, i.e. until the io_context has stopped.
//
// Ownership: the Server owns the listener; connections share ownership of
// the settings with it, so destroying the Server while the io_context still
// runs is safe (call Stop() first so connections close).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/asio.h"
#include "base/status.h"
#include "http/http.h"
#include "http/router.h"

namespace sider::http {

class Server {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    uint16_t port = 8500;  // 0: an ephemeral port; see port().
    // KV values go up to 512 KiB; a 1 MiB body leaves room for a JSON
    // /v1/txn or a base64 value.
    size_t max_body_bytes = 1 << 20;
    // Exceptions to max_body_bytes for exact paths (query string ignored),
    // e.g. {"/v1/snapshot", 64 MiB} for restores; same 413 when exceeded.
    std::vector<std::pair<std::string, size_t>> max_body_bytes_by_path;
    // Go's http.DefaultMaxHeaderBytes, which Consul uses.
    size_t max_header_bytes = 1 << 20;
  };

  // `decorate` runs on every response, including the server's own 4xx,
  // just before it is written (on the connection's strand): the app adds
  // X-Consul-KnownLeader and similar headers there. For a SharedReply
  // (http.h) it runs on a copy of the reply's status, content type and
  // headers, without the body; the serialized result is reused for the
  // next request whose decorated fields are equal.
  Server(asio::io_context& io, Options options, const Router& router,
         std::function<void(Response&)> decorate = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then starts accepting on the io_context. kUnavailable
  // if the address is in use; kInvalidArgument if it does not parse.
  Status Start();

  // The bound port (useful with Options::port = 0). 0 before Start().
  uint16_t port() const { return port_; }

  // Stops accepting and closes every connection (asynchronously; see
  // above). Idempotent.
  void Stop();

  struct Shared;  // Settings and the live-connection set (server.cc).

 private:
  std::shared_ptr<Shared> shared_;
  uint16_t port_ = 0;
};

}  // namespace sider::http
