#include "fanout_floor.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run_stats.h"

namespace sider::bench {
namespace {

std::string Reply(size_t body_bytes, const char* index) {
  std::string body(body_bytes, 'x');
  if (!body.empty()) body.front() = '[';
  if (body.size() > 1) body.back() = ']';
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nX-Consul-Index: " + index +
         "\r\nX-Consul-KnownLeader: true\r\nX-Consul-LastContact: 0\r\n\r\n" +
         body;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

class Listener {
 public:
  ~Listener() {
    for (int fd : held_) close(fd);
    for (auto& [fd, unused] : partial_) close(fd);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  Status Listen(uint16_t port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (listen_fd_ < 0 || epoll_fd_ < 0) return Errno("socket");
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listen_fd_, 4096) != 0) {
      return Errno("bind/listen");
    }
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    return Watch(listen_fd_);
  }

  uint16_t port() const { return port_; }
  const std::vector<int>& held() const { return held_; }

  // Accepts and reads until `k` requests with ?index= are held.
  Status Hold(unsigned k, std::chrono::steady_clock::time_point deadline) {
    const std::string first = Reply(2, "1");  // "[]" at index 1.
    while (held_.size() < k) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status(Code::kDeadlineExceeded,
                      "only " + std::to_string(held_.size()) + " parked");
      }
      epoll_event events[256];
      const int n = epoll_wait(epoll_fd_, events, 256, 50);
      if (n < 0 && errno != EINTR) return Errno("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          SIDER_RETURN_IF_ERROR(AcceptAll());
          continue;
        }
        char buf[2048];
        const ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (got <= 0) {
          partial_.erase(fd);
          close(fd);
          continue;
        }
        std::string& req = partial_[fd];
        req.append(buf, static_cast<size_t>(got));
        const size_t end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const bool blocking = req.substr(0, end).find("index=") != std::string::npos;
        req.erase(0, end + 4);
        if (!blocking) {
          if (!SendAll(fd, first)) return Errno("send");
          continue;
        }
        // Held: out of the epoll set, written to only by the senders.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        partial_.erase(fd);
        held_.push_back(fd);
      }
    }
    return Status();
  }

 private:
  static Status Errno(const char* what) {
    return Status(Code::kUnavailable, std::string(what) + ": " + std::strerror(errno));
  }

  Status Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return Errno("epoll_ctl");
    return Status();
  }

  Status AcceptAll() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) {
          return Status();
        }
        return Errno("accept4");
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      partial_[fd];
      SIDER_RETURN_IF_ERROR(Watch(fd));
    }
  }

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  uint16_t port_ = 0;
  std::unordered_map<int, std::string> partial_;  // Open, not yet held.
  std::vector<int> held_;
};

}  // namespace

Status RunFanoutFloor(const FloorOptions& o) {
  if (o.threads == 0) return Status(Code::kInvalidArgument, "--threads must be > 0");
  Listener listener;
  SIDER_RETURN_IF_ERROR(listener.Listen(o.port));
  std::printf("LISTENING %u\n", static_cast<unsigned>(listener.port()));
  std::fflush(stdout);
  SIDER_RETURN_IF_ERROR(
      listener.Hold(o.watchers, std::chrono::steady_clock::now() + o.timeout));
  std::printf("PARKED %zu\n", listener.held().size());
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line)) {
    return Status(Code::kUnavailable, "stdin closed before the go line");
  }

  const std::string reply = Reply(o.body_bytes, "2");
  const std::vector<int>& fds = listener.held();
  std::vector<unsigned> sent(o.threads, 0);
  const uint64_t start = SteadyNanos();
  {
    std::vector<std::jthread> senders;
    for (unsigned t = 0; t < o.threads; ++t) {
      senders.emplace_back([&, t] {
        for (size_t i = t; i < fds.size(); i += o.threads) {
          const ssize_t n = send(fds[i], reply.data(), reply.size(),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n == static_cast<ssize_t>(reply.size())) ++sent[t];
        }
      });
    }
  }
  const uint64_t end = SteadyNanos();
  unsigned total = 0;
  for (unsigned n : sent) total += n;
  std::printf("RESULT start_ns=%llu end_ns=%llu sent=%u\n",
              static_cast<unsigned long long>(start),
              static_cast<unsigned long long>(end), total);
  std::fflush(stdout);
  while (std::getline(std::cin, line)) {
  }
  return Status();
}

}  // namespace sider::bench
