#include "watch_poll.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run_stats.h"

namespace sider::bench {

namespace {

// Case-insensitive search for "\r\ncontent-length:" in the header block.
std::optional<size_t> ContentLength(std::string_view head) {
  constexpr std::string_view kName = "\r\ncontent-length:";
  for (size_t i = 0; i + kName.size() <= head.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < kName.size() && match; ++j) {
      const char c = head[i + j];
      match = (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) == kName[j];
    }
    if (!match) continue;
    size_t p = i + kName.size();
    while (p < head.size() && head[p] == ' ') ++p;
    size_t n = 0;
    auto [end, ec] = std::from_chars(head.data() + p, head.data() + head.size(), n);
    if (ec != std::errc() || end == head.data() + p) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

}  // namespace

bool HttpReplyComplete(std::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  const size_t body_at = end + 4;
  const auto length = ContentLength(bytes.substr(0, end + 2));
  return !length || bytes.size() - body_at >= *length;
}

bool NotificationComplete(const WatchProtocol& p, std::string_view after_ready) {
  switch (p.done) {
    case WatchProtocol::Done::kHttpReply:
      return HttpReplyComplete(after_ready);
    case WatchProtocol::Done::kMarker:
      return after_ready.find(p.fire_marker) != std::string_view::npos;
  }
  return false;
}

struct WatchPoll::Watcher {
  int fd = -1;
  size_t written = 0;   // Bytes of the request written so far.
  std::string seen;     // Everything read.
  size_t from = 0;      // Where the notification starts in `seen`.
  bool parked = false;
  bool finished = false;  // Notified, or failed.
  uint64_t notified_ns = 0;
};

WatchPoll::WatchPoll(WatchProtocol protocol, std::vector<Endpoint> endpoints,
                     unsigned watchers)
    : protocol_(std::move(protocol)),
      endpoints_(std::move(endpoints)),
      watchers_(watchers),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

WatchPoll::~WatchPoll() {
  for (Watcher& w : watchers_) {
    if (w.fd >= 0) close(w.fd);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status WatchPoll::Park(std::chrono::steady_clock::time_point deadline) {
  if (epoll_fd_ < 0) return Status(Code::kInternal, "epoll_create1 failed");
  // At most kConnecting connections are opened and not yet written at a
  // time: 10,000 SYNs at once overflow the server's listen queue, and a
  // dropped handshake costs the watcher a one-second retransmission.
  while (parked_ + failed_unparked_ < watchers_.size() &&
         std::chrono::steady_clock::now() < deadline) {
    while (opened_ < watchers_.size() &&
           opened_ - parked_ - failed_unparked_ < kConnecting) {
      SIDER_RETURN_IF_ERROR(Open(opened_++));
    }
    if (!Poll(deadline)) return Status(Code::kInternal, "epoll_wait failed");
  }
  return Status();
}

Status WatchPoll::Open(size_t i) {
  const Endpoint& e = endpoints_[i % endpoints_.size()];
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(e.port);
  if (inet_pton(AF_INET, e.host.c_str(), &addr.sin_addr) != 1) {
    return Status(Code::kInvalidArgument, "bad IPv4 address " + e.host);
  }
  Watcher& w = watchers_[i];
  w.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w.fd < 0) return Status(Code::kUnavailable, std::strerror(errno));
  const int one = 1;
  setsockopt(w.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(w.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    Fail(w, std::string("connect: ") + std::strerror(errno));
    return Status();
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = i;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, w.fd, &ev) != 0) {
    return Status(Code::kInternal, std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return Status();
}

void WatchPoll::AwaitNotifications(std::chrono::steady_clock::time_point deadline) {
  while (finished_ < parked_ && std::chrono::steady_clock::now() < deadline) {
    if (!Poll(deadline)) return;
  }
}

std::vector<uint64_t> WatchPoll::NotificationTimes() const {
  std::vector<uint64_t> times;
  for (const Watcher& w : watchers_) {
    if (w.notified_ns != 0) times.push_back(w.notified_ns);
  }
  return times;
}

bool WatchPoll::Poll(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  const int timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 50));
  epoll_event events[kBatch];
  const int n = epoll_wait(epoll_fd_, events, kBatch, timeout);
  if (n < 0) return errno == EINTR;
  for (int i = 0; i < n; ++i) {
    OnReady(watchers_[events[i].data.u64], events[i].events);
  }
  return true;
}

void WatchPoll::OnReady(Watcher& w, uint32_t events) {
  if (w.fd < 0) return;
  if (w.written < protocol_.request.size()) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnWritable(w);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(w);
}

void WatchPoll::OnWritable(Watcher& w) {
  const std::string& req = protocol_.request;
  const ssize_t n = send(w.fd, req.data() + w.written, req.size() - w.written,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return Fail(w, std::string("connect/send: ") + std::strerror(errno));
  }
  w.written += static_cast<size_t>(n);
  if (w.written < req.size()) return;
  // Written: from now on only input matters (level-triggered EPOLLOUT
  // would report a writable socket on every round).
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(&w - watchers_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w.fd, &ev);
  if (protocol_.ready_marker.empty() && !w.parked) {
    w.parked = true;
    ++parked_;
  }
}

void WatchPoll::OnReadable(Watcher& w) {
  char buf[4096];
  const ssize_t n = recv(w.fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {
    return Fail(w, n == 0 ? "end of stream" : std::string("recv: ") + std::strerror(errno));
  }
  if (w.finished) return;  // Bytes after the notification: ignored.
  w.seen.append(buf, static_cast<size_t>(n));
  if (!w.parked) {
    const size_t at = w.seen.find(protocol_.ready_marker);
    if (at == std::string::npos) return;
    w.parked = true;
    ++parked_;
    w.from = at + protocol_.ready_marker.size();
  }
  if (NotificationComplete(protocol_, std::string_view(w.seen).substr(w.from))) {
    w.notified_ns = SteadyNanos();
    w.finished = true;
    ++finished_;
  }
}

void WatchPoll::Fail(Watcher& w, const std::string& why) {
  if (first_error_.empty()) first_error_ = why;
  if (w.fd >= 0) close(w.fd);  // Also leaves the epoll set.
  w.fd = -1;
  if (w.finished) return;
  w.finished = true;
  if (w.parked) {
    ++finished_;
  } else {
    ++failed_unparked_;
  }
}

}  // namespace sider::bench
