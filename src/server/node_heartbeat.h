// Node failure detection: every server sends the leader a heartbeat every
// second or so (HeartbeatSender, through the app's leader link); the leader
// keeps a node TTL per node in memory (NodeFailureDetector, a TtlTracker
// keyed (node, "serfHealth")). A node whose heartbeats stop for a TTL gets
// its "serfHealth" check set critical ("Agent not live or unreachable", as
// Consul's serf says), so its services stop being passing; its next
// heartbeat sets it passing again. The heartbeat also keeps the node's own
// catalog row (address, ID, the server Meta keys) registered.
//
// As with TTL checks, a heartbeat is not a log entry: only transitions are.
// Expiry is a leader duty: it starts after the new leader's barrier (on
// OnLeadershipChange), the new leader first gives every node a full TTL,
// and it stops when leadership is lost. The nodes tracked by a new leader
// are the catalog's nodes that have a serfHealth check and the
// "sider-http-addr" Meta key (i.e. Sider servers, which heartbeat), except
// itself.
//
// Threading: every method may be called from any io thread; callbacks run
// on the executor given at construction.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

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

inline constexpr std::string_view kSerfCheckId = "serfHealth";

// The catalog row a server keeps for itself: the same as the one cluster
// membership registers for it (Meta kMetaRole, kMetaRaftAddr,
// kMetaHttpAddr from cluster_info.h), so the two never disagree.
structs::Node NodeRowFor(const NodeIdentity& self);

class NodeFailureDetector {
 public:
  using Done = std::function<void(Status)>;

  NodeFailureDetector(const NodeIdentity& self, Clock& clock,
                      asio::any_io_executor executor,
                      store::CatalogStore& store, consensus::RaftNode& raft,
                      std::chrono::nanoseconds node_ttl);
  ~NodeFailureDetector();

  // Subscribes to leadership changes.
  void Start();
  void Stop();

  // Leader: `node` is alive. Writes its row and a passing serfHealth when
  // they are missing, changed or not passing; otherwise memory only.
  // kUnavailable off the leader.
  void Heartbeat(structs::Node node, Done done);

  // After a whole-state restore (PUT /v1/snapshot) applied: if this node
  // leads, forget the old state's timers and give everything in the
  // restored state a full period from now, as a new leader does.
  void RearmAfterRestore();

 private:
  void OnLeadership(bool leader);
  void OnExpired(const std::string& node);

  const NodeIdentity self_;
  const asio::any_io_executor executor_;
  store::CatalogStore& store_;
  consensus::RaftNode& raft_;
  const std::chrono::nanoseconds ttl_period_;
  agent::TtlTracker ttl_;

  Mutex mu_;
  bool leader_ SIDER_GUARDED_BY(mu_) = false;
  bool stopped_ SIDER_GUARDED_BY(mu_) = false;
};

// Sends this node's heartbeat every `interval` through `send` (which must
// reach the leader and call its callback once). The next one is sent
// `interval` after the previous one was answered, so a slow leader is not
// piled up on.
class HeartbeatSender {
 public:
  using Send = std::function<void(std::function<void(Status)>)>;

  HeartbeatSender(Clock& clock, asio::any_io_executor executor,
                  std::chrono::nanoseconds interval, Send send);
  ~HeartbeatSender();  // Stop().
  void Start();
  void Stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sider::server
