// The workloads of the benchmark issue, as seen by the load generator, and
// the HTTP systems' implementations of them (Sider's Consul API, etcd's v3
// JSON gateway). ZooKeeper's live in zk_driver.h because its C client is
// callback-based, not Asio.
//
//   register   create an instance that expires unless renewed
//   heartbeat  renew one of a pool of instances
//   discover   read the instances of one service that has 10 of them
//
// Thread safety: a workload object is shared by every client coroutine of
// a run; Setup() runs once before them, on one coroutine; Once() may run
// concurrently on many (implementations keep only const state after Setup).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http_conn.h"  // First: base/asio.h before awaitable.hpp.

#include <boost/asio/awaitable.hpp>

#include "base/status.h"

namespace sider::bench {

enum class System { kSider, kEtcd, kZk };
enum class Workload { kRegister, kHeartbeat, kDiscover };

Result<System> ParseSystem(const std::string& name);
Result<Workload> ParseWorkload(const std::string& name);

struct WorkloadOptions {
  std::string prefix = "bench";  // Names this run's keys/services apart.
  unsigned pool = 1000;          // heartbeat: instances renewed in turn.
  unsigned instances = 10;       // discover: instances of the one service.
  bool stale = false;  // discover: Sider ?stale, etcd serializable, ZK plain.
  unsigned ttl_s = 600;  // register/heartbeat: TTL of the instance.
};

class HttpWorkload {
 public:
  virtual ~HttpWorkload() = default;
  virtual asio::awaitable<Status> Setup(HttpConn& conn) = 0;
  // One measured operation; `seq` is unique within the run.
  virtual asio::awaitable<Status> Once(HttpConn& conn, uint64_t seq) = 0;
};

Result<std::unique_ptr<HttpWorkload>> MakeSiderWorkload(Workload w,
                                                        WorkloadOptions o);
Result<std::unique_ptr<HttpWorkload>> MakeEtcdWorkload(Workload w,
                                                       WorkloadOptions o);

// Shared by the etcd code and tests.
std::string Base64(const std::string& in);
// The instance document stored by etcd and ZooKeeper, the size of what a
// Consul client registers: {"ID":..,"Address":..,"Port":..,"Tags":[..]}.
std::string InstanceJson(const std::string& id, unsigned port);

// A non-2xx reply as a Status (kUnavailable for 5xx, so callers back off).
Status StatusOfReply(const HttpReply& reply, const char* what);

}  // namespace sider::bench
