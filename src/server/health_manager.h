// HealthManager: everything that turns time and probes into check status.
//
//  * Leader duties (only while this node is the ready leader): TTL expiry
//    from the TtlTracker's memory, and the DeregisterCriticalServiceAfter
//    reaper. A node that becomes leader gives every TTL a full period and
//    starts every "critical since" clock afresh, so nothing expires early
//    because of a failover.
//  * Local duties (on the node a service was registered through): running
//    its HTTP, TCP and command checks. Registrations are written on the
//    leader (forwarded there), so each node learns of its own probes from
//    the replicated catalog: it watches its node's checks in the store and
//    starts/stops runners to match. A probe's result is proposed directly on
//    the leader and sent to the leader (SetRemoteUpdate) elsewhere.
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
#include <functional>
#include <set>
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
#include "base/status.h"
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

  // How a probe result reaches the leader from a follower (the app routes
  // it through http::ClusterDispatch to /v1/internal/check-update). Without
  // one, results are proposed locally (which fails off the leader). Call
  // before Start().
  using RemoteUpdate = std::function<void(structs::UpdateCheckCommand,
                                          std::function<void(Status)>)>;
  void SetRemoteUpdate(RemoteUpdate fn) { remote_update_ = std::move(fn); }

  // Starts watching this node's checks in the store (running their probes)
  // and subscribes to leadership changes.
  void Start();
  void Stop();

  // Leader: a probe result sent by the node that ran it. kNotFound if the
  // check is gone; else the proposal's outcome.
  void ApplyProbeUpdate(structs::UpdateCheckCommand cmd,
                        std::function<void(Status)> done);

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

  // After a whole-state restore (PUT /v1/snapshot) applied: if this node
  // leads, forget the old state's timers and give everything in the
  // restored state a full period from now, as a new leader does.
  void RearmAfterRestore();

 private:
  void WatchOwnChecks();
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
  RemoteUpdate remote_update_;

  Mutex mu_;
  // Probe check ids with a runner, as last reconciled from the store.
  std::set<std::string> probes_ SIDER_GUARDED_BY(mu_);
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
