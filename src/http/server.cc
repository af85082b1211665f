#include "http/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <charconv>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>

#include "base/mutex.h"

namespace sider::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<Tcp, Strand>;
using Acceptor = asio::basic_socket_acceptor<Tcp, Strand>;

namespace {
class Connection;
}  // namespace

// A shared reply's header block as last serialized, and the decorated
// fields (status, content type, headers; no body) it was built from.
struct SharedReply::Wire {
  Response fields;
  std::string head;
};

struct Server::Shared {
  Shared(asio::io_context& io, Options o, const Router& r,
         std::function<void(Response&)> d)
      : options(std::move(o)),
        router(r),
        decorate(std::move(d)),
        acceptor(asio::make_strand(io)),
        accept_retry(acceptor.get_executor()) {}

  const Options options;
  const Router& router;
  const std::function<void(Response&)> decorate;
  // Touched only on the acceptor's strand once Start() has returned.
  Acceptor acceptor;
  asio::steady_timer accept_retry;

  Mutex mu;
  bool stopped SIDER_GUARDED_BY(mu) = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live
      SIDER_GUARDED_BY(mu);
};

namespace {

Method ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::head: return Method::kHead;
    default: return Method::kOther;
  }
}

// Appends `s` with CR and LF replaced, so a handler's header value can never
// split the response (header injection).
void AppendHeaderText(std::string* out, std::string_view s) {
  for (char c : s) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}

void AppendNumber(std::string* out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, end);
}

bool HasNoBody(unsigned status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<Server::Shared> shared)
      : socket_(std::move(socket)),
        shared_(std::move(shared)),
        buffer_(shared_->options.max_header_bytes + 16 * 1024) {}

  ~Connection() {
    WriterLock lock(&shared_->mu);
    shared_->live.erase(this);
  }

  Strand socket_executor() { return socket_.get_executor(); }

  // Runs on the strand.
  void Start() { ReadHeader(); }

  // Runs on the strand. Cancels whatever is pending; a handler's later
  // answer is then dropped.
  void Close() {
    closed_ = true;
    error_code ignored;
    socket_.shutdown(Tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // Called through the Responder, from any thread.
  void Answer(uint64_t seq, Response r) {
    asio::dispatch(socket_.get_executor(),
                   [self = shared_from_this(), seq, r = std::move(r)]() mutable {
                     self->Respond(seq, std::move(r));
                   });
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(shared_->options.max_header_bytes, UINT32_MAX)));
    // The largest limit of any path; OnHeader narrows it to the request's.
    size_t limit = shared_->options.max_body_bytes;
    for (const auto& [path, max] : shared_->options.max_body_bytes_by_path) {
      limit = std::max(limit, max);
    }
    parser_->body_limit(limit);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  // The body limit for the request whose header was just read.
  size_t BodyLimitForTarget() const {
    std::string_view target(parser_->get().target().data(),
                            parser_->get().target().size());
    target = target.substr(0, target.find('?'));
    for (const auto& [path, max] : shared_->options.max_body_bytes_by_path) {
      if (target == path) return max;
    }
    return shared_->options.max_body_bytes;
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return HandleRequest();
    if (!shared_->options.max_body_bytes_by_path.empty()) {
      const size_t limit = BodyLimitForTarget();
      const auto length = parser_->content_length();
      if (length && *length > limit) {
        return Reject(413, "Request body too large\n");
      }
      parser_->body_limit(limit);
    }
    // curl and the Go client wait for "100 Continue" before a large body;
    // Go's server sends it when the handler reads the body, we do it here.
    auto expect = parser_->get().find(bhttp::field::expect);
    if (expect != parser_->get().end() &&
        beast::iequals(expect->value(), "100-continue")) {
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->HandleRequest();
                      });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return Reject(413, "Request body too large\n");
    }
    if (ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow) {
      return Reject(431, "Request header fields too large\n");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target)
                             .category() &&
        ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return Reject(400, "Bad Request: " + ec.message() + "\n");
    }
    // EOF between requests, a reset, or Stop(): nothing to answer.
    Close();
  }

  void HandleRequest() {
    auto& msg = parser_->get();
    Request req;
    req.method = ToMethod(msg.method());
    req.target.assign(msg.target().data(), msg.target().size());
    if (Status s = ParseTarget(&req); !s.ok()) {
      return Reject(400, "Bad Request: " + s.message() + "\n");
    }
    req.headers.reserve(8);
    for (const auto& f : msg) {
      req.headers.emplace_back(std::string(f.name_string()),
                               std::string(f.value()));
    }
    req.body = std::move(msg.body());
    req.strand = socket_.get_executor();
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() < 11;
    head_ = req.method == Method::kHead;
    awaiting_ = true;
    const uint64_t seq = ++seq_;
    WatchPeer();
    try {
      shared_->router.Dispatch(
          std::move(req), [self = shared_from_this(), seq](Response r) {
            self->Answer(seq, std::move(r));
          });
    } catch (const std::exception& e) {
      // Handlers throw nothing by contract; a library call that leaked an
      // exception still gets a 500 rather than a dead io thread.
      Respond(seq, TextResponse(500, std::string("internal error: ") +
                                         e.what() + "\n"));
    }
  }

  // Answers the server itself and closes after the write.
  void Reject(unsigned status, std::string text) {
    keep_alive_ = false;
    head_ = false;
    awaiting_ = true;
    Respond(++seq_, TextResponse(status, std::move(text)));
  }

  // Runs on the strand.
  void Respond(uint64_t seq, Response r) {
    if (!awaiting_ || seq != seq_) return;  // A second answer: ignored.
    awaiting_ = false;
    if (closed_) return;
    if (r.shared) {
      PrepareShared(std::move(r.shared));
    } else {
      if (shared_->decorate) shared_->decorate(r);
      SerializeHead(r, r.body.size());
      body_buf_ = std::move(r.body);
      body_ = HasNoBody(r.status) || head_ ? std::string_view()
                                            : std::string_view(body_buf_);
    }
    // Most answers fit in the socket's send buffer: write them now, so no
    // completion handler is queued per answer (one change can answer
    // 10,000 parked queries). Only what did not fit goes through Asio.
    const size_t sent = SendNow();
    if (sent == head_buf_.size() + body_.size()) {
      return OnWrite(error_code());
    }
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_buf_),
                                              asio::buffer(body_)};
    buffers[0] += std::min(sent, head_buf_.size());
    buffers[1] += sent - std::min(sent, head_buf_.size());
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](error_code ec, size_t) {
                        self->OnWrite(ec);
                      });
  }

  // A shared reply: `decorate` runs on a copy of its fields without the
  // body. The header block is reused from the reply's `wire` when the
  // decorated fields equal those it was built from and this request takes
  // the common form (HTTP/1.1, keep-alive, not HEAD), else serialized and,
  // in the common form, left there for the next request.
  void PrepareShared(std::shared_ptr<const SharedReply> reply) {
    const Response& base = reply->response;
    Response fields;
    fields.status = base.status;
    fields.content_type = base.content_type;
    fields.headers.reserve(base.headers.size() + 4);
    fields.headers = base.headers;
    if (shared_->decorate) shared_->decorate(fields);
    const bool common = keep_alive_ && !http10_ && !head_;
    std::shared_ptr<const SharedReply::Wire> wire;
    if (common) {
      ReaderLock lock(&reply->mu);
      wire = reply->wire;
    }
    if (wire && SameFields(wire->fields, fields)) {
      head_buf_.assign(wire->head);
    } else {
      SerializeHead(fields, base.body.size());
      if (common) {
        wire = std::make_shared<const SharedReply::Wire>(
            SharedReply::Wire{fields, head_buf_});
        WriterLock lock(&reply->mu);
        reply->wire = std::move(wire);
      }
    }
    body_buf_.clear();
    body_ = HasNoBody(fields.status) || head_ ? std::string_view()
                                               : std::string_view(base.body);
    body_owner_ = std::move(reply);
  }

  static bool SameFields(const Response& a, const Response& b) {
    return a.status == b.status && a.content_type == b.content_type &&
           a.headers == b.headers;
  }

  // One non-blocking sendmsg of head_buf_ + body_; the bytes written,
  // 0 if none could be (a full buffer or an error: the async write that
  // follows then waits, or reports the error).
  size_t SendNow() {
    iovec iov[2] = {{head_buf_.data(), head_buf_.size()},
                    {const_cast<char*>(body_.data()), body_.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = body_.empty() ? 1 : 2;
    const ssize_t n = ::sendmsg(socket_.native_handle(), &msg,
                                MSG_DONTWAIT | MSG_NOSIGNAL);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

  // The status line and headers of `r` (whose body is body_size bytes)
  // into head_buf_, with this request's Connection header.
  void SerializeHead(const Response& r, size_t body_size) {
    head_buf_.clear();
    head_buf_.append("HTTP/1.1 ");
    AppendNumber(&head_buf_, r.status);
    head_buf_.push_back(' ');
    const auto reason =
        bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    head_buf_.append(reason.data(), reason.size());
    head_buf_.append("\r\n");
    if (!HasNoBody(r.status)) {
      if (!r.content_type.empty()) {
        head_buf_.append("Content-Type: ");
        AppendHeaderText(&head_buf_, r.content_type);
        head_buf_.append("\r\n");
      }
      head_buf_.append("Content-Length: ");
      AppendNumber(&head_buf_, body_size);
      head_buf_.append("\r\n");
    }
    for (const auto& [name, value] : r.headers) {
      AppendHeaderText(&head_buf_, name);
      head_buf_.append(": ");
      AppendHeaderText(&head_buf_, value);
      head_buf_.append("\r\n");
    }
    if (!keep_alive_) {
      head_buf_.append("Connection: close\r\n");
    } else if (http10_) {
      head_buf_.append("Connection: keep-alive\r\n");
    }
    head_buf_.append("\r\n");
  }

  void OnWrite(error_code ec) {
    body_ = {};
    body_owner_.reset();
    if (ec) return Close();  // The client went away; nothing to tell it.
    if (body_buf_.capacity() > 64 * 1024) std::string().swap(body_buf_);
    if (!keep_alive_) return LingerClose();
    AwaitNextRequest();
  }

  // Between requests: a pipelined request already buffered is parsed at
  // once; otherwise the read that WatchPeer() left pending brings the
  // client's next bytes, and only then are the parser and Beast's read
  // operation (a large heap block) set up. One change answers 10,000
  // parked queries in a burst, and that burst should not also prepare
  // 10,000 parsers for requests that come later, if at all.
  void AwaitNextRequest() {
    if (buffer_.size() > 0) return ReadHeader();
    if (peer_eof_) return Close();  // Half-closed, and all of it answered.
    WatchPeer();  // Unless WatchPeer()'s read is still pending.
  }

  // While a request is being answered, and between requests: one small
  // read stays pending, so the socket needs no read syscall when the
  // answer is written — which for a parked query is in a burst of
  // thousands — and a client that goes away is seen. Bytes that arrive
  // before the answer (a pipelined request) wait in buffer_; an
  // end-of-stream then (a client that half-closed after its request) still
  // gets its answer, and the connection closes after it.
  void WatchPeer() {
    if (reading_ || buffer_.size() > 0) return;
    reading_ = true;
    const size_t room = std::max<size_t>(buffer_.capacity() - buffer_.size(), 512);
    socket_.async_read_some(
        buffer_.prepare(std::min(room, buffer_.max_size() - buffer_.size())),
        [self = shared_from_this()](error_code ec, size_t n) {
          self->OnPeerBytes(ec, n);
        });
  }

  void OnPeerBytes(error_code ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (!ec) buffer_.commit(n);
    if (!awaiting_) {  // Between requests: this is the next one.
      if (ec) return OnReadError(ec);
      return ReadHeader();
    }
    if (ec == asio::error::eof) {
      peer_eof_ = true;
    } else if (ec) {
      Close();  // Reset: the answer has no one to go to.
    }
  }

  // Closing a socket with unread input makes the kernel send RST, which can
  // destroy a 413 before the client reads it. So: send FIN, discard what
  // the client still sends (bounded), then close; a timer bounds the wait.
  void LingerClose() {
    error_code ignored;
    socket_.shutdown(Tcp::socket::shutdown_send, ignored);
    if (parser_ && parser_->is_done()) return Close();  // Nothing unread.
    linger_timer_.emplace(socket_.get_executor(), std::chrono::seconds(2));
    linger_timer_->async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Close();
    });
    Drain(0);
  }

  void Drain(size_t total) {
    constexpr size_t kMaxDrain = 4 << 20;
    if (total > kMaxDrain) return Close();
    buffer_.consume(buffer_.size());  // Whatever is unread is discarded.
    socket_.async_read_some(
        buffer_.prepare(16 * 1024),
        [self = shared_from_this(), total](error_code ec, size_t n) {
          if (ec) {
            if (self->linger_timer_) self->linger_timer_->cancel();
            return self->Close();
          }
          self->Drain(total + n);
        });
  }

  Socket socket_;
  const std::shared_ptr<Server::Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<asio::steady_timer> linger_timer_;
  std::string head_buf_;  // Reused: the response header being written.
  std::string body_buf_;  // The body being written, unless shared.
  std::shared_ptr<const SharedReply> body_owner_;  // A shared reply's.
  std::string_view body_;  // Into body_buf_ or body_owner_; "" for HEAD.
  uint64_t seq_ = 0;      // The number of the request being answered.
  bool awaiting_ = false;  // A Respond() for seq_ is expected.
  bool reading_ = false;   // WatchPeer()'s read is pending.
  bool peer_eof_ = false;  // The client sent end-of-stream.
  bool closed_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_ = false;
};

void Accept(const std::shared_ptr<Server::Shared>& shared);

void OnAccept(const std::shared_ptr<Server::Shared>& shared, error_code ec,
              Socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: back off instead of spinning, as Go's server does.
    shared->accept_retry.expires_after(std::chrono::milliseconds(100));
    shared->accept_retry.async_wait([shared](error_code ec) {
      if (!ec) Accept(shared);
    });
    return;
  }
  error_code ignored;
  socket.set_option(Tcp::no_delay(true), ignored);
  auto conn = std::make_shared<Connection>(std::move(socket), shared);
  {
    WriterLock lock(&shared->mu);
    if (shared->stopped) return;  // ~Connection closes the socket.
    shared->live.emplace(conn.get(), conn);
  }
  // The socket's executor is the connection's strand.
  asio::dispatch(conn->socket_executor(), [conn] { conn->Start(); });
  Accept(shared);
}

void Accept(const std::shared_ptr<Server::Shared>& shared) {
  shared->acceptor.async_accept(
      asio::make_strand(shared->acceptor.get_executor().get_inner_executor()),
      [shared](error_code ec, Socket socket) {
        OnAccept(shared, ec, std::move(socket));
      });
}

}  // namespace

Server::Server(asio::io_context& io, Options options, const Router& router,
               std::function<void(Response&)> decorate)
    : shared_(std::make_shared<Shared>(io, std::move(options), router,
                                       std::move(decorate))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  error_code ec;
  const auto address = asio::ip::make_address(shared_->options.address, ec);
  if (ec) {
    return Status(Code::kInvalidArgument,
                  "invalid listen address \"" + shared_->options.address +
                      "\": " + ec.message());
  }
  const Tcp::endpoint endpoint(address, shared_->options.port);
  Acceptor& acceptor = shared_->acceptor;
  const std::string where =
      shared_->options.address + ":" + std::to_string(shared_->options.port);
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Status(Code::kUnavailable, "open " + where + ": " + ec.message());
  }
  // SO_REUSEADDR only lets us rebind over TIME_WAIT; a live listener still
  // makes bind() fail with EADDRINUSE.
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return Status(Code::kUnavailable, "listen " + where + ": " + ec.message());
  }
  if (acceptor.bind(endpoint, ec); ec) {
    Status s(Code::kUnavailable, "bind " + where + ": " + ec.message());
    acceptor.close(ec);
    return s;
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    Status s(Code::kUnavailable, "listen " + where + ": " + ec.message());
    acceptor.close(ec);
    return s;
  }
  port_ = acceptor.local_endpoint(ec).port();
  asio::post(acceptor.get_executor(), [shared = shared_] { Accept(shared); });
  return Status::Ok();
}

void Server::Stop() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    WriterLock lock(&shared_->mu);
    if (shared_->stopped) return;
    shared_->stopped = true;
    for (auto& [ptr, weak] : shared_->live) {
      if (auto conn = weak.lock()) open.push_back(std::move(conn));
    }
  }
  asio::post(shared_->acceptor.get_executor(), [shared = shared_] {
    error_code ignored;
    shared->acceptor.close(ignored);
    shared->accept_retry.cancel();
  });
  for (auto& conn : open) {
    asio::post(conn->socket_executor(), [conn] { conn->Close(); });
  }
}

}  // namespace sider::http
