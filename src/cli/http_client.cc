#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace sider::cli {
namespace {
constexpr uint64_t kMaxReplyBytes = 256u << 20;
}  // namespace

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Result<CliReply> HttpCall(const std::string& http_addr,
                          const std::string& method, const std::string& target,
                          const std::string& body,
                          std::chrono::milliseconds timeout) {
  const auto colon = http_addr.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      colon + 1 == http_addr.size()) {
    return Status(Code::kInvalidArgument,
                  "--http-addr: want HOST:PORT, got \"" + http_addr + "\"");
  }
  const std::string host = http_addr.substr(0, colon);
  const std::string port = http_addr.substr(colon + 1);
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method),
                                           target, 11};
    req.set(bhttp::field::host, http_addr);
    req.set(bhttp::field::user_agent, "sider-cli");
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    // Beast's default of 8 MiB would refuse large replies (snapshots).
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxReplyBytes);
    bhttp::read(stream, buffer, parser);
    bhttp::response<bhttp::string_body> res = parser.release();
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return CliReply{res.result_int(), std::move(res.body())};
  } catch (const std::exception& e) {
    return Status(Code::kUnavailable,
                  "cannot reach " + http_addr + ": " + e.what());
  }
}

}  // namespace sider::cli
