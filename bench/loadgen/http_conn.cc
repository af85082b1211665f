#include "http_conn.h"

#include <charconv>
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace sider::bench {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

Result<std::vector<Endpoint>> ParseEndpoints(const std::string& list) {
  std::vector<Endpoint> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(start, comma - start);
    const size_t colon = item.rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos ||
        std::from_chars(item.data() + colon + 1, item.data() + item.size(), port)
                .ec != std::errc() ||
        port == 0 || port > 65535) {
      return Status(Code::kInvalidArgument, "bad endpoint '" + item + "'");
    }
    out.push_back({item.substr(0, colon), static_cast<uint16_t>(port)});
    start = comma + 1;
  }
  if (out.empty()) return Status(Code::kInvalidArgument, "no endpoints");
  return out;
}

HttpConn::HttpConn(asio::any_io_executor executor,
                   std::vector<Endpoint> endpoints, size_t first,
                   std::chrono::milliseconds timeout)
    : stream_(std::move(executor)),
      endpoints_(std::move(endpoints)),
      current_(first % endpoints_.size()),
      timeout_(timeout) {}

void HttpConn::Rotate() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
  buffer_.clear();
  connected_ = false;
  current_ = (current_ + 1) % endpoints_.size();
}

asio::awaitable<Status> HttpConn::Connect() {
  const Endpoint& ep = endpoints_[current_];
  beast::error_code ec;
  const auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) co_return Status(Code::kInvalidArgument, "bad address " + ep.host);
  stream_.expires_after(timeout_);
  co_await stream_.async_connect(tcp::endpoint(addr, ep.port),
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Status(Code::kUnavailable, "connect: " + ec.message());
  stream_.socket().set_option(tcp::no_delay(true), ec);
  connected_ = true;
  co_return Status::Ok();
}

asio::awaitable<Result<HttpReply>> HttpConn::Send(bhttp::verb method,
                                                  std::string target,
                                                  std::string body) {
  if (!connected_) {
    Status s = co_await Connect();
    if (!s.ok()) {
      Rotate();
      co_return s;
    }
  }
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, endpoints_[current_].host);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();

  beast::error_code ec;
  stream_.expires_after(timeout_);
  co_await bhttp::async_write(stream_, req,
                              asio::redirect_error(asio::use_awaitable, ec));
  bhttp::response<bhttp::string_body> res;
  if (!ec) {
    co_await bhttp::async_read(stream_, buffer_, res,
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    Rotate();
    co_return Status(Code::kUnavailable, "http: " + ec.message());
  }
  HttpReply reply;
  reply.status = res.result_int();
  if (auto it = res.find("X-Consul-Index"); it != res.end()) {
    reply.consul_index = std::string(it->value());
  }
  reply.body = std::move(res.body());
  if (!res.keep_alive()) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    connected_ = false;
  }
  co_return reply;
}

}  // namespace sider::bench
