#include "http/client_pool.h"

#include <strings.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/mutex.h"

namespace sider::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;

namespace {

class Conn;

struct Job {
  Request req;
  std::chrono::nanoseconds timeout{};
  ClientPool::Done done;
  bool retried = false;
};

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Headers that describe one hop, not the message (RFC 9110 7.6.1), the
// ones Beast computes itself, and Expect (the body is sent at once, and a
// "100 Continue" must not be taken for the answer).
bool IsHopByHop(std::string_view name) {
  for (std::string_view h :
       {"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
        "TE", "Trailer", "Upgrade", "Content-Length", "Host", "Expect"}) {
    if (IEquals(name, h)) return true;
  }
  return false;
}

// True for errors that mean "the peer closed the connection", which on a
// reused keep-alive connection usually means it was closed while idle.
bool IsClosedByPeer(error_code ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

}  // namespace

struct ClientPool::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& i, Options o) : io(i), options(o) {}

  struct Peer {
    std::vector<std::shared_ptr<Conn>> idle;
    size_t open = 0;
    std::deque<Job> queue;
    uint64_t connects = 0;
    uint64_t reuses = 0;
  };

  void Acquire(const std::string& peer, Job job);
  void Release(const std::shared_ptr<Conn>& conn, bool reusable);
  void Retry(const std::string& peer, Job job);
  void Fail(Job job, Status status) {
    asio::post(io, [done = std::move(job.done), status = std::move(status)] {
      done(status);
    });
  }

  asio::io_context& io;
  const Options options;
  mutable Mutex mu;
  bool stopped SIDER_GUARDED_BY(mu) = false;
  std::map<std::string, Peer, std::less<>> peers SIDER_GUARDED_BY(mu);
};

namespace {

// One connection to one peer. Everything after Start() runs on the
// stream's strand.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(std::shared_ptr<ClientPool::Core> core, std::string peer)
      : core_(std::move(core)),
        peer_(std::move(peer)),
        stream_(asio::make_strand(core_->io)),
        resolver_(stream_.get_executor()) {}

  const std::string& peer() const { return peer_; }

  void Start(Job job) {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this(), job = std::move(job)]() mutable {
                     self->job_ = std::move(job);
                     if (self->connected_) {
                       self->reused_ = true;
                       self->Write();
                     } else {
                       self->Connect();
                     }
                   });
  }

  void Close() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->stream_.socket().shutdown(Tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  void Connect() {
    const auto colon = peer_.rfind(':');
    if (colon == std::string::npos) {
      return Finish(Status(Code::kUnavailable, "bad peer address " + peer_),
                    false);
    }
    std::string host = peer_.substr(0, colon);
    const std::string port = peer_.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    stream_.expires_after(core_->options.connect_timeout);
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](error_code ec,
                                    Tcp::resolver::results_type results) {
          if (ec) return self->ConnectFailed(ec);
          self->stream_.async_connect(
              results, [self](error_code ec2, const Tcp::endpoint&) {
                if (ec2) return self->ConnectFailed(ec2);
                error_code ignored;
                self->stream_.socket().set_option(Tcp::no_delay(true), ignored);
                self->connected_ = true;
                self->Write();
              });
        });
  }

  void ConnectFailed(error_code ec) {
    Finish(Status(Code::kUnavailable,
                  "connecting to " + peer_ + ": " + ec.message()),
           false);
  }

  void Write() {
    const Request& req = job_.req;
    out_ = {};
    const std::string_view verb = MethodName(req.method);
    out_.method(
        bhttp::string_to_verb(beast::string_view(verb.data(), verb.size())));
    out_.target(req.target);
    out_.version(11);
    for (const auto& [name, value] : req.headers) {
      if (!IsHopByHop(name)) out_.insert(name, value);
    }
    out_.set(bhttp::field::host, peer_);
    out_.body() = req.body;
    out_.keep_alive(true);
    out_.prepare_payload();
    stream_.expires_after(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            job_.timeout));
    bhttp::async_write(stream_, out_,
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->IoFailed(ec, false);
                         self->Read();
                       });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(core_->options.max_response_body);
    parser_->skip(job_.req.method == Method::kHead);  // No body follows.
    buffer_.clear();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->IoFailed(ec, true);
                        self->Answer();
                      });
  }

  void IoFailed(error_code ec, bool written) {
    const bool nothing_back = !parser_ || !parser_->got_some();
    if (reused_ && !job_.retried && nothing_back &&
        (!written || IsClosedByPeer(ec))) {
      // Most likely closed while idle: once more on a fresh connection.
      job_.retried = true;
      error_code ignored;
      stream_.socket().close(ignored);
      core_->Retry(peer_, std::move(job_));
      return;
    }
    // A failed write delivered no complete request; a failed read may come
    // after the peer acted on it.
    const Code code = written ? Code::kOutcomeUnknown : Code::kUnavailable;
    Finish(Status(code, "forwarding to " + peer_ + ": " + ec.message()), false);
  }

  void Answer() {
    stream_.expires_never();
    auto& msg = parser_->get();
    Response r;
    r.status = msg.result_int();
    r.content_type.clear();
    for (const auto& f : msg) {
      const std::string_view name(f.name_string().data(),
                                  f.name_string().size());
      if (IEquals(name, "Content-Type")) {
        r.content_type.assign(f.value().data(), f.value().size());
      } else if (!IsHopByHop(name)) {
        r.headers.emplace_back(std::string(name), std::string(f.value()));
      }
    }
    r.body = std::move(msg.body());
    const bool keep = msg.keep_alive();
    parser_.reset();
    Finish(std::move(r), keep);
  }

  void Finish(Result<Response> result, bool reusable) {
    auto done = std::move(job_.done);
    job_ = {};
    if (!reusable) {
      error_code ignored;
      stream_.socket().close(ignored);
    }
    // Back to the pool first, so a caller that sends its next request from
    // `done` finds this connection idle.
    core_->Release(shared_from_this(), reusable);
    done(std::move(result));
  }

  const std::shared_ptr<ClientPool::Core> core_;
  const std::string peer_;
  beast::tcp_stream stream_;
  Tcp::resolver resolver_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> out_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  Job job_;
  bool connected_ = false;
  bool reused_ = false;
};

}  // namespace

void ClientPool::Core::Acquire(const std::string& peer, Job job) {
  std::shared_ptr<Conn> conn;
  {
    WriterLock lock(&mu);
    if (stopped) {
      Fail(std::move(job), Status(Code::kUnavailable, "shutting down"));
      return;
    }
    Peer& p = peers[peer];
    if (!p.idle.empty()) {
      conn = std::move(p.idle.back());
      p.idle.pop_back();
      ++p.reuses;
    } else if (p.open < options.max_connections) {
      ++p.open;
      ++p.connects;
      conn = std::make_shared<Conn>(shared_from_this(), peer);
    } else {
      p.queue.push_back(std::move(job));
      return;
    }
  }
  conn->Start(std::move(job));
}

void ClientPool::Core::Release(const std::shared_ptr<Conn>& conn,
                               bool reusable) {
  std::shared_ptr<Conn> next;
  Job job;
  {
    WriterLock lock(&mu);
    Peer& p = peers[conn->peer()];
    if (stopped) reusable = false;
    if (!p.queue.empty()) {
      job = std::move(p.queue.front());
      p.queue.pop_front();
      if (reusable) {
        next = conn;
        ++p.reuses;
      } else {
        next = std::make_shared<Conn>(shared_from_this(), conn->peer());
        ++p.connects;
      }
    } else if (reusable && p.idle.size() < options.max_idle) {
      p.idle.push_back(conn);
      return;
    } else {
      --p.open;
    }
  }
  if (next) {
    next->Start(std::move(job));
  } else {
    conn->Close();
  }
}

void ClientPool::Core::Retry(const std::string& peer, Job job) {
  std::shared_ptr<Conn> conn;
  {
    WriterLock lock(&mu);
    ++peers[peer].connects;
    conn = std::make_shared<Conn>(shared_from_this(), peer);
  }
  conn->Start(std::move(job));
}

ClientPool::ClientPool(asio::io_context& io) : ClientPool(io, Options{}) {}

ClientPool::ClientPool(asio::io_context& io, Options options)
    : core_(std::make_shared<Core>(io, options)) {}

ClientPool::~ClientPool() { Shutdown(); }

void ClientPool::Send(const std::string& peer, const Request& req,
                      std::chrono::nanoseconds timeout, Done done) {
  Job job;
  job.timeout = timeout;
  job.done = std::move(done);
  if (req.method == Method::kOther) {
    return core_->Fail(std::move(job),
                       Status(Code::kInvalidArgument,
                              "cannot forward a request with this method"));
  }
  job.req.method = req.method;
  job.req.target = req.target;
  job.req.headers = req.headers;
  job.req.body = req.body;
  core_->Acquire(peer, std::move(job));
}

void ClientPool::Shutdown() {
  std::vector<std::shared_ptr<Conn>> idle;
  std::vector<Job> queued;
  {
    WriterLock lock(&core_->mu);
    if (core_->stopped) return;
    core_->stopped = true;
    for (auto& [name, p] : core_->peers) {
      for (auto& c : p.idle) idle.push_back(std::move(c));
      p.open -= p.idle.size();
      p.idle.clear();
      for (auto& j : p.queue) queued.push_back(std::move(j));
      p.queue.clear();
    }
  }
  for (auto& c : idle) c->Close();
  for (auto& j : queued) {
    core_->Fail(std::move(j), Status(Code::kUnavailable, "shutting down"));
  }
}

ClientPool::PeerStats ClientPool::Stats(const std::string& peer) const {
  ReaderLock lock(&core_->mu);
  PeerStats s;
  auto it = core_->peers.find(peer);
  if (it == core_->peers.end()) return s;
  s.open = it->second.open;
  s.idle = it->second.idle.size();
  s.queued = it->second.queue.size();
  s.connects = it->second.connects;
  s.reuses = it->second.reuses;
  return s;
}

}  // namespace sider::http
