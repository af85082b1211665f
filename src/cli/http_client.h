// HttpGet/HttpCall: a synchronous HTTP/1.1 client for the CLI — one
// connection per call, bounded by `timeout` (connect, write and read
// together).
//
// Threading: blocks the calling thread; no shared state.
// Errors: kInvalidArgument for an address that is not host:port,
// kUnavailable when the server cannot be reached or the deadline passes.
// Any HTTP status is a value (CliReply), not an error.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"

namespace sider::cli {

struct CliReply {
  unsigned status = 0;
  std::string body;
};

Result<CliReply> HttpCall(const std::string& http_addr,
                          const std::string& method, const std::string& target,
                          const std::string& body = "",
                          std::chrono::milliseconds timeout =
                              std::chrono::seconds(30));

}  // namespace sider::cli
