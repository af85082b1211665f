#include "server/cluster_http.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <utility>

namespace sider::server {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(asio::any_io_executor ex, std::function<void(Result<HttpReply>)> done)
      : ex_(ex), resolver_(ex), stream_(ex), done_(std::move(done)) {}

  void Start(std::string host, std::string port, bhttp::verb verb,
             std::string target, std::string body,
             std::chrono::milliseconds timeout) {
    req_.method(verb);
    req_.target(target);
    req_.version(11);
    req_.set(bhttp::field::host, host + ":" + port);
    req_.set(bhttp::field::user_agent, "sider-cluster");
    req_.set(bhttp::field::connection, "close");
    if (!body.empty()) req_.set(bhttp::field::content_type, "application/json");
    req_.body() = std::move(body);
    req_.prepare_payload();
    what_ = host + ":" + port;
    // One deadline for the whole exchange (resolve included).
    deadline_ = std::chrono::steady_clock::now() + timeout;
    stream_.expires_at(deadline_);
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](const beast::error_code& ec,
                                    tcp::resolver::results_type results) {
          self->OnResolved(ec, std::move(results));
        });
  }

 private:
  void OnResolved(const beast::error_code& ec,
                  tcp::resolver::results_type results) {
    if (ec) return Finish(ec, "resolve");
    if (std::chrono::steady_clock::now() >= deadline_) {
      return Finish(beast::error::timeout, "resolve");
    }
    stream_.async_connect(
        results, [self = shared_from_this()](const beast::error_code& e,
                                             const tcp::endpoint&) {
          if (e) return self->Finish(e, "connect");
          bhttp::async_write(self->stream_, self->req_,
                             [self](const beast::error_code& e2, size_t) {
                               if (e2) return self->Finish(e2, "write");
                               self->Read();
                             });
        });
  }

  void Read() {
    bhttp::async_read(stream_, buffer_, res_,
                      [self = shared_from_this()](const beast::error_code& e,
                                                  size_t) {
                        if (e) return self->Finish(e, "read");
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(
                            tcp::socket::shutdown_both, ignored);
                        HttpReply reply;
                        reply.status = self->res_.result_int();
                        reply.body = std::move(self->res_.body());
                        self->Done(std::move(reply));
                      });
  }

  void Finish(const beast::error_code& ec, const char* step) {
    Done(Status(Code::kUnavailable, std::string(step) + " " + what_ + ": " +
                                        ec.message()));
  }

  void Done(Result<HttpReply> r) {
    if (!done_) return;
    asio::post(ex_, [done = std::move(done_), r = std::move(r)]() mutable {
      done(std::move(r));
    });
  }

  asio::any_io_executor ex_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  beast::flat_buffer buffer_;
  std::string what_;
  std::chrono::steady_clock::time_point deadline_;
  std::function<void(Result<HttpReply>)> done_;
};

}  // namespace

void ClusterHttpCall(asio::any_io_executor ex, std::string host_port,
                     std::string method, std::string target, std::string body,
                     std::chrono::milliseconds timeout,
                     std::function<void(Result<HttpReply>)> done) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      colon + 1 == host_port.size()) {
    asio::post(ex, [done = std::move(done), host_port] {
      done(Status(Code::kInvalidArgument,
                  "want HOST:PORT, got \"" + host_port + "\""));
    });
    return;
  }
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) verb = bhttp::verb::get;
  auto call = std::make_shared<Call>(ex, std::move(done));
  call->Start(host_port.substr(0, colon), host_port.substr(colon + 1), verb,
              std::move(target), std::move(body), timeout);
}

}  // namespace sider::server
