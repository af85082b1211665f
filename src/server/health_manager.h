// HealthManager: everything that turns time and probes into check status.
//
//  * Leader duties (only while this node is the ready leader): TTL expiry
//    from the TtlTracker's memory, and the DeregisterCriticalServiceAfter
//    reaper. A node that becomes leader gives every TTL a full period and
//    starts every "critical since" clock afresh, so nothing expires early
//    because of a failover.
//  * Local duties (on the node a service was registered through): running
//    its HTTP, TCP and command checks.
//
// Only transitions become Raft commands: a TTL pass that changes nothing is
// memory only; a probe result is proposed when its status changes, or when
// only its output changed and the last write for that check is at least
// kOutputWriteInterval old.
//
// Threading: public methods may be called from any io thread; internal
// state is guarded by mu_; commands are proposed without holding it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/check_runner.h"
#include "agent/ttl_tracker.h"
#include "base/asio.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "server/node_identity.h"
#include "structs/catalog.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::store {
class CatalogStore;
}

namespace sider::server {

class HealthManager {
 public:
  static constexpr std::chrono::seconds kOutputWriteInterval{2};
  static constexpr std::chrono::milliseconds kReapInterval{500};

  HealthManager(const NodeIdentity& self, asio::io_context& io, Clock& clock,
                store::CatalogStore& store, consensus::RaftNode& raft);
  ~HealthManager();

  // Starts local check runners for the checks already in the store on this
  // node and subscribes to leadership changes.
  void Start();
  void Stop();

  // After a registration committed: track TTLs, start probes.
  void ChecksRegistered(const std::vector<structs::Check>& checks);
  // After a deregistration committed.
  void ChecksRemoved(const std::string& node,
                     const std::vector<std::string>& check_ids);

  // A TTL pass/warn/fail reached this node. Returns true when the store must
  // be told (status or output changes, or the TTL had expired); false when
  // leader memory absorbed it. kNotFound-like cases are the caller's.
  bool TtlUpdate(const structs::Check& current, structs::HealthStatus status,
                 const std::string& output);

 private:
  void OnLeadership(bool leader);
  void OnTtlExpired(const std::string& node, const std::string& check_id);
  void OnProbeResult(agent::CheckResult result);
  void Reap();
  void ScheduleReap();
  void ProposeStatus(const std::string& node, const std::string& check_id,
                     structs::HealthStatus status, std::string output);

  const NodeIdentity self_;
  asio::io_context& io_;
  Clock& clock_;
  store::CatalogStore& store_;
  consensus::RaftNode& raft_;
  agent::TtlTracker ttl_;
  agent::CheckRunner runner_;

  Mutex mu_;
  bool leader_ SIDER_GUARDED_BY(mu_) = false;
  bool stopped_ SIDER_GUARDED_BY(mu_) = false;
  // (node, check id) -> when the leader first saw it critical.
  std::map<std::pair<std::string, std::string>, Clock::TimePoint>
      critical_since_ SIDER_GUARDED_BY(mu_);
  // check id -> last time a probe's output-only change was written.
  std::map<std::string, Clock::TimePoint> last_output_write_
      SIDER_GUARDED_BY(mu_);
  std::unique_ptr<Clock::Alarm> reap_alarm_ SIDER_GUARDED_BY(mu_);
};

}  // namespace sider::server
