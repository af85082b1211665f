// ZkSession: one ZooKeeper session through the multi-threaded C client
// (Debian's libzookeeper-mt). Each session owns the client's two threads
// (I/O and completions); every completion and watch callback of the session
// runs on its one completion thread, in order.
//
// Thread safety: Connect/EnsurePath/Create are blocking calls for setup code;
// the handle may be used for async calls from any thread (the C client is
// thread-safe). The destructor closes the session, which deletes its
// ephemeral znodes.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <zookeeper/zookeeper.h>

#include "base/status.h"

namespace sider::bench {

class ZkSession {
 public:
  // `hosts` is the C client's list ("127.0.0.1:2181,..."); it picks one.
  // Waits up to `timeout` for the session to be connected.
  static Result<std::unique_ptr<ZkSession>> Connect(
      const std::string& hosts, std::chrono::milliseconds session_timeout,
      std::chrono::milliseconds timeout);
  ~ZkSession();
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  zhandle_t* handle() const { return zh_; }
  // Creates `path` and its missing ancestors as persistent znodes.
  Status EnsurePath(const std::string& path);
  // Synchronous create; ZNODEEXISTS is OK when `exist_ok`.
  Status Create(const std::string& path, const std::string& value, int mode,
                bool exist_ok);

 private:
  ZkSession() = default;
  zhandle_t* zh_ = nullptr;
};

// Turns a ZooKeeper return code into a Status (`what` names the call).
Status ZkStatus(int rc, const std::string& what);

// Quiets the C client's logging (it logs every connect at INFO to stderr).
void ZkQuietLogs();

}  // namespace sider::bench
