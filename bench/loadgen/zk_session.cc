#include "zk_session.h"

#include <thread>

namespace sider::bench {

Status ZkStatus(int rc, const std::string& what) {
  if (rc == ZOK) return Status();
  const Code code = (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT ||
                     rc == ZSESSIONEXPIRED || rc == ZCLOSING)
                        ? Code::kUnavailable
                        : Code::kInternal;
  return Status(code, what + ": " + zerror(rc));
}

void ZkQuietLogs() { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); }

Result<std::unique_ptr<ZkSession>> ZkSession::Connect(
    const std::string& hosts, std::chrono::milliseconds session_timeout,
    std::chrono::milliseconds timeout) {
  std::unique_ptr<ZkSession> s(new ZkSession());
  s->zh_ = zookeeper_init(hosts.c_str(), nullptr,
                          static_cast<int>(session_timeout.count()), nullptr,
                          nullptr, 0);
  if (s->zh_ == nullptr) {
    return Status(Code::kUnavailable, "zookeeper_init failed for " + hosts);
  }
  // The C client reports the connection only through the watcher or state;
  // setup code may poll it (this is not a unit test).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (zoo_state(s->zh_) != ZOO_CONNECTED_STATE) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(Code::kUnavailable, "no ZooKeeper session with " + hosts);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return s;
}

ZkSession::~ZkSession() {
  if (zh_ != nullptr) zookeeper_close(zh_);
}

Status ZkSession::Create(const std::string& path, const std::string& value,
                         int mode, bool exist_ok) {
  const int rc = zoo_create(zh_, path.c_str(), value.data(),
                            static_cast<int>(value.size()),
                            &ZOO_OPEN_ACL_UNSAFE, mode, nullptr, 0);
  if (rc == ZNODEEXISTS && exist_ok) return Status();
  return ZkStatus(rc, "create " + path);
}

Status ZkSession::EnsurePath(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix =
        slash == std::string::npos ? path : path.substr(0, slash);
    SIDER_RETURN_IF_ERROR(Create(prefix, "", 0, /*exist_ok=*/true));
    if (slash == std::string::npos) return Status();
  }
}

}  // namespace sider::bench
