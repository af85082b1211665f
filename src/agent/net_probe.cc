// HTTP and TCP probes: Asio sockets and a Beast HTTP/1.1 client, one
// connection per run; https:// over OpenSSL (verifying the server's
// certificate and name unless the check sets TLSSkipVerify).
// probe.h brings base/asio.h, which must precede any other Asio header.
#include "agent/probe.h"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>
#include <utility>


namespace sider::agent::internal {
namespace {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using structs::HealthStatus;

struct Url {
  std::string authority;  // As written: used for the Host header.
  std::string host;
  std::string port;
  std::string target;
  bool tls = false;  // https
};

// http:// and https://; returns an error message otherwise.
std::string ParseUrl(const std::string& url, Url* out) {
  const auto sep = url.find("://");
  if (sep == std::string::npos) return "missing scheme";
  std::string scheme = url.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https") {
    return "unsupported scheme " + scheme;
  }
  out->tls = scheme == "https";
  const size_t start = sep + 3;
  const size_t end = url.find_first_of("/?#", start);
  out->authority = url.substr(
      start, end == std::string::npos ? std::string::npos : end - start);
  out->target = end == std::string::npos ? "/" : url.substr(end);
  if (!out->target.empty() && out->target[0] != '/') out->target.insert(0, "/");
  if (const auto h = out->target.find('#'); h != std::string::npos)
    out->target.resize(h);  // Fragments never go on the wire.
  std::string host_port = out->authority;
  const bool has_port =
      host_port.rfind(':') != std::string::npos && host_port.back() != ']';
  if (!has_port) host_port += out->tls ? ":443" : ":80";
  if (!SplitHostPort(host_port, &out->host, &out->port))
    return "malformed address " + out->authority;
  return "";
}

// The TLS client settings, made once per process: the system's CA
// certificates, peer verification on or (TLSSkipVerify) off.
asio::ssl::context& TlsContext(bool skip_verify) {
  static asio::ssl::context* const contexts[2] = {
      [] {
        auto* c = new asio::ssl::context(asio::ssl::context::tls_client);
        error_code ignored;  // Without CA files nothing verifies: critical.
        c->set_default_verify_paths(ignored);
        c->set_verify_mode(asio::ssl::verify_peer);
        return c;
      }(),
      [] {
        auto* c = new asio::ssl::context(asio::ssl::context::tls_client);
        c->set_verify_mode(asio::ssl::verify_none);
        return c;
      }()};
  return *contexts[skip_verify ? 1 : 0];
}

// Resolves (unless the host is an IP literal, which needs no resolver
// thread) and connects. Base of both probes.
class NetProbe : public Probe {
 protected:
  explicit NetProbe(const Strand& strand)
      : strand_(strand), resolver_(strand), socket_(strand) {}

  template <typename Then>
  void Connect(const std::string& host, const std::string& port, Then then) {
    error_code ec;
    const auto addr = asio::ip::make_address(host, ec);
    if (!ec) {
      const auto port_num = static_cast<unsigned short>(std::stoul(port));
      socket_.async_connect(tcp::endpoint(addr, port_num), std::move(then));
      return;
    }
    resolver_.async_resolve(
        host, port,
        [this, then = std::move(then)](error_code ec,
                                       tcp::resolver::results_type r) mutable {
          if (ec) return then(ec);
          asio::async_connect(
              socket_, r,
              [then = std::move(then)](error_code ec, const tcp::endpoint&) {
                then(ec);
              });
        });
  }

  void Abort() {
    resolver_.cancel();
    error_code ignored;
    socket_.close(ignored);
  }

  Strand strand_;
  tcp::resolver resolver_;
  tcp::socket socket_;
};

class TcpProbe final : public NetProbe,
                       public std::enable_shared_from_this<TcpProbe> {
 public:
  TcpProbe(const Strand& strand, std::string addr, ProbeDone done)
      : NetProbe(strand), addr_(std::move(addr)), done_(std::move(done)) {}

  void Start() {
    std::string host, port;
    if (!SplitHostPort(addr_, &host, &port)) {
      return Post(HealthStatus::kCritical,
                  "TCP connect " + addr_ + ": malformed address");
    }
    Connect(host, port, [self = shared_from_this()](error_code ec) {
      self->OnConnect(ec);
    });
  }

  void Cancel(const std::string& reason) override {
    if (!done_) return;
    reason_ = reason;
    Abort();
  }

 private:
  void OnConnect(error_code ec) {
    if (!done_) return;
    error_code ignored;
    socket_.close(ignored);
    if (!reason_.empty()) {
      Finish(HealthStatus::kCritical, "TCP connect " + addr_ + ": " + reason_);
    } else if (ec) {
      Finish(HealthStatus::kCritical,
             "TCP connect " + addr_ + ": " + ec.message());
    } else {
      Finish(HealthStatus::kPassing, "TCP connect " + addr_ + ": Success");
    }
  }

  // For failures before any I/O: `done` must not run inside Start().
  void Post(HealthStatus s, std::string out) {
    asio::post(strand_, [self = shared_from_this(), s, out = std::move(out)] {
      self->Finish(s, out);
    });
  }

  void Finish(HealthStatus s, std::string out) {
    if (done_) std::exchange(done_, nullptr)(s, std::move(out));
  }

  const std::string addr_;
  ProbeDone done_;
  std::string reason_;
};

class HttpProbe final : public NetProbe,
                        public std::enable_shared_from_this<HttpProbe> {
 public:
  HttpProbe(const Strand& strand, const structs::CheckDefinition& def,
            ProbeDone done)
      : NetProbe(strand), def_(def), done_(std::move(done)) {
    method_ = def_.method.empty() ? "GET" : def_.method;
    prefix_ = "HTTP " + method_ + " " + def_.http + ": ";
  }

  void Start() {
    if (std::string err = ParseUrl(def_.http, &url_); !err.empty()) {
      return Post(prefix_ + err);
    }
    BuildRequest();
    Connect(url_.host, url_.port, [self = shared_from_this()](error_code ec) {
      self->OnConnect(ec);
    });
  }

  void Cancel(const std::string& reason) override {
    if (!done_) return;
    reason_ = reason;
    Abort();
  }

 private:
  void BuildRequest() {
    const http::verb verb = http::string_to_verb(method_);
    if (verb == http::verb::unknown) {
      req_.method_string(method_);
    } else {
      req_.method(verb);
    }
    req_.target(url_.target);
    req_.version(11);
    req_.set(http::field::host, url_.authority);
    req_.set(http::field::user_agent, "Consul Health Check");
    req_.set(http::field::accept, "text/plain, text/*, */*");
    req_.set(http::field::connection, "close");
    for (const auto& [name, values] : def_.header) {
      req_.erase(name);
      for (const auto& v : values) req_.insert(name, v);
    }
    req_.body() = def_.body;
    if (!def_.body.empty() || verb == http::verb::post ||
        verb == http::verb::put) {
      req_.prepare_payload();
    }
    if (verb == http::verb::head) parser_.skip(true);
  }

  // Runs `fn` with the stream the request goes over: the socket, or the
  // TLS stream on it.
  template <typename Fn>
  void WithStream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else {
      fn(socket_);
    }
  }

  void OnConnect(error_code ec) {
    if (ec) return Fail(ec);
    if (!url_.tls) return Write();
    tls_.emplace(socket_, TlsContext(def_.tls_skip_verify));
    error_code ip_literal;
    asio::ip::make_address(url_.host, ip_literal);
    if (ip_literal) {  // A name: send it (SNI) and verify the certificate's.
      SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str());
    }
    if (!def_.tls_skip_verify) {
      tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    }
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](error_code ec) {
                            if (ec) return self->Fail(ec);
                            self->Write();
                          });
  }

  void Write() {
    WithStream([this](auto& stream) {
      http::async_write(stream, req_,
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (ec) return self->Fail(ec);
                          self->ReadHeader();
                        });
    });
  }

  void ReadHeader() {
    WithStream([this](auto& stream) {
      http::async_read_header(
          stream, buffer_, parser_,
          [self = shared_from_this()](error_code ec, size_t) {
            if (ec) return self->Fail(ec);
            self->header_done_ = true;
            self->ReadBody();
          });
    });
  }

  // Reads until the body ends or kMaxOutput bytes are in; the rest is left
  // unread and the connection closed.
  void ReadBody() {
    if (parser_.is_done() || body_len_ == body_.size()) return Succeed();
    auto& b = parser_.get().body();
    b.data = body_.data() + body_len_;
    b.size = body_.size() - body_len_;
    WithStream([this](auto& stream) {
      http::async_read(stream, buffer_, parser_,
                       [self = shared_from_this()](error_code ec, size_t) {
                         auto& b = self->parser_.get().body();
                         self->body_len_ = self->body_.size() - b.size;
                         if (ec == http::error::need_buffer) ec = {};
                         if (ec) return self->Succeed();  // Keep the status.
                         self->ReadBody();
                       });
    });
  }

  void Succeed() {
    if (!done_) return;
    const auto& res = parser_.get();
    const unsigned code = res.result_int();
    std::string out = prefix_ + std::to_string(code) + " " +
                      std::string(res.reason()) +
                      " Output: " + std::string(body_.data(), body_len_);
    Finish(HttpCodeToStatus(code), std::move(out));
  }

  void Fail(error_code ec) {
    if (!done_) return;
    if (header_done_) return Succeed();
    Finish(HealthStatus::kCritical,
           prefix_ + (reason_.empty() ? ec.message() : reason_));
  }

  void Post(std::string out) {
    asio::post(strand_, [self = shared_from_this(), out = std::move(out)] {
      self->Finish(HealthStatus::kCritical, out);
    });
  }

  void Finish(HealthStatus s, std::string out) {
    error_code ignored;
    socket_.close(ignored);
    if (done_) std::exchange(done_, nullptr)(s, std::move(out));
  }

  const structs::CheckDefinition def_;
  ProbeDone done_;
  std::string method_;
  std::string prefix_;
  std::string reason_;
  Url url_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;  // https only.
  http::request<http::string_body> req_;
  boost::beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  std::array<char, kMaxOutput> body_{};
  size_t body_len_ = 0;
  bool header_done_ = false;
};

}  // namespace

bool SplitHostPort(const std::string& addr, std::string* host,
                   std::string* port) {
  std::string h, p;
  if (!addr.empty() && addr[0] == '[') {
    const auto close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() ||
        addr[close + 1] != ':')
      return false;
    h = addr.substr(1, close - 1);
    p = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos) return false;
    h = addr.substr(0, colon);
    p = addr.substr(colon + 1);
    if (h.find(':') != std::string::npos) return false;  // Unbracketed v6.
  }
  if (h.empty() || p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(),
                   [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoul(p) > 65535)
    return false;
  *host = std::move(h);
  *port = std::move(p);
  return true;
}

HealthStatus HttpCodeToStatus(unsigned code) {
  if (code >= 200 && code <= 299) return HealthStatus::kPassing;
  if (code == 429) return HealthStatus::kWarning;
  return HealthStatus::kCritical;
}

std::shared_ptr<Probe> StartHttpProbe(const Strand& strand,
                                      const structs::CheckDefinition& def,
                                      ProbeDone done) {
  auto p = std::make_shared<HttpProbe>(strand, def, std::move(done));
  p->Start();
  return p;
}

std::shared_ptr<Probe> StartTcpProbe(const Strand& strand,
                                     const structs::CheckDefinition& def,
                                     ProbeDone done) {
  auto p = std::make_shared<TcpProbe>(strand, def.tcp, std::move(done));
  p->Start();
  return p;
}

}  // namespace sider::agent::internal
