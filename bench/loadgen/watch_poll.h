// WatchPoll: K parked HTTP watchers on raw non-blocking sockets and one
// epoll set, for `watch-park` (Sider blocking queries, etcd watch streams).
//
// Why not Asio coroutines: during a fan-out the watcher processes share the
// machine's cores with the server they measure, so every microsecond they
// spend per notification is taken from the server. One epoll_wait for up to
// kBatch ready sockets and one recv each is what a watcher costs here; the
// coroutine per watcher cost about twice that (a reactor op, a completion
// handler, a coroutine resume per read).
//
// What is measured is unchanged: a watcher is notified when its socket has
// delivered the whole notification, and its time is read right after the
// recv that completed it. For Sider that is the complete HTTP reply (status
// line, headers and Content-Length bytes of body), not just its headers.
//
// Sockets are kept open until the object is destroyed (see watch.cc for
// why). Threading: one thread owns a WatchPoll and calls everything.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http_conn.h"

namespace sider::bench {

// What a watcher sends and waits for.
struct WatchProtocol {
  std::string request;
  // Bytes that mark the watcher parked (etcd's "created"); empty: parked
  // once the request is written.
  std::string ready_marker;
  // The notification is complete when this returns true for the bytes
  // read after the ready marker (or from the start without one).
  enum class Done { kHttpReply, kMarker } done = Done::kHttpReply;
  std::string fire_marker;  // For Done::kMarker.
};

// True once `bytes` hold one complete HTTP/1.1 reply: headers and, when
// the reply has a Content-Length, that many bytes of body. Without a
// Content-Length the reply is complete at the end of its headers (the
// watchers' replies always carry one).
bool HttpReplyComplete(std::string_view bytes);

// True once the notification after the ready marker is complete.
bool NotificationComplete(const WatchProtocol& p, std::string_view after_ready);

class WatchPoll {
 public:
  WatchPoll(WatchProtocol protocol, std::vector<Endpoint> endpoints,
            unsigned watchers);
  ~WatchPoll();
  WatchPoll(const WatchPoll&) = delete;
  WatchPoll& operator=(const WatchPoll&) = delete;

  // Connects every watcher and writes its request, then runs until every
  // watcher is parked or has failed, or `deadline` passes.
  Status Park(std::chrono::steady_clock::time_point deadline);
  // Runs until every parked watcher is notified or has failed, or
  // `deadline` passes.
  void AwaitNotifications(std::chrono::steady_clock::time_point deadline);

  unsigned parked() const { return parked_; }
  // Steady-clock nanoseconds of each notified watcher's notification.
  std::vector<uint64_t> NotificationTimes() const;
  const std::string& first_error() const { return first_error_; }

 private:
  struct Watcher;
  static constexpr int kBatch = 256;
  static constexpr size_t kConnecting = 256;

  // Opens watcher i's connection (non-blocking) into the epoll set.
  Status Open(size_t i);
  // One epoll round: handles every ready socket. Returns false on an
  // epoll error.
  bool Poll(std::chrono::steady_clock::time_point deadline);
  void OnReady(Watcher& w, uint32_t events);
  void OnWritable(Watcher& w);
  void OnReadable(Watcher& w);
  void Fail(Watcher& w, const std::string& why);

  const WatchProtocol protocol_;
  const std::vector<Endpoint> endpoints_;
  std::vector<Watcher> watchers_;
  int epoll_fd_ = -1;
  size_t opened_ = 0;
  unsigned parked_ = 0;
  unsigned failed_unparked_ = 0;
  unsigned finished_ = 0;  // Notified, or failed after parking.
  std::string first_error_;
};

}  // namespace sider::bench
