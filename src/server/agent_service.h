// AgentService: the agent endpoints' logic for services and checks
// registered through a node (Consul's /v1/agent/...): registration,
// deregistration, TTL updates, maintenance mode. Every change is a command
// proposed to Raft; the callback runs once it is committed and applied.
//
// Agent writes are node-scoped but run on the leader: a follower forwards
// them (http/cluster_dispatch.h) and the leader acts for the origin node
// named in X-Sider-Forwarded. So every method takes the node the request
// came through (`node`); it is this node's own name for a local request.
// The origin node's catalog row is kept as is (it is registered by its
// heartbeat, server/node_heartbeat.h); only this node can write its own.
// Probes of the registered checks run on the origin node, which finds them
// in the replicated catalog (HealthManager).
//
// TTL passes are the hot path: a pass that changes neither status nor
// output is answered from leader memory (TtlTracker) without a log entry.
//
// Threading: all methods may be called from any io thread; callbacks run
// on the io executor given at construction.
// Errors: kNotFound for an unknown service/check id, kInvalidArgument for
// a bad request, kUnavailable with no leader, kOutcomeUnknown when the
// leader was lost mid-write.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/asio.h"
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

class HealthManager;

class AgentService {
 public:
  using Done = std::function<void(Status)>;

  AgentService(const NodeIdentity& self, asio::any_io_executor executor,
               store::CatalogStore& store, consensus::RaftNode& raft,
               HealthManager& health);

  // PUT /v1/agent/service/register. `service.node` and the checks' node,
  // service id and name are filled in here.
  void RegisterService(const std::string& node, structs::Service service,
                       std::vector<structs::Check> checks, Done done);
  // PUT /v1/agent/service/deregister/:id
  void DeregisterService(const std::string& node, const std::string& ns,
                         const std::string& service_id, Done done);
  // PUT /v1/agent/check/register
  void RegisterCheck(const std::string& node, structs::Check check,
                     Done done);
  // PUT /v1/agent/check/deregister/:id
  void DeregisterCheck(const std::string& node, const std::string& check_id,
                       Done done);
  // pass/warn/fail/update on a TTL check.
  void UpdateTtl(const std::string& node, const std::string& check_id,
                 structs::HealthStatus status, std::string output, Done done);
  // PUT /v1/agent/service/maintenance/:id
  void ServiceMaintenance(const std::string& node, const std::string& ns,
                          const std::string& service_id, bool enable,
                          std::string reason, Done done);
  // PUT /v1/agent/maintenance
  void NodeMaintenance(const std::string& node, bool enable,
                       std::string reason, Done done);
  // Sider extension: PUT /v1/agent/service/enable/:id?enable=
  void SetServiceEnabled(const std::string& node, const std::string& ns,
                         const std::string& service_id, bool enabled,
                         Done done);

  // Registers this node itself (with Consul's "serfHealth" check) unless it
  // is already there unchanged. Called by the leader after its barrier.
  void EnsureSelfRegistered(Done done);

  const NodeIdentity& self() const { return self_; }

 private:
  void Propose(std::string command, Done done);
  void SetMaintenance(const std::string& node, structs::Check check,
                      bool enable, Done done);
  structs::Node SelfNode() const;
  // The catalog row to write with: ours for this node, else the stored
  // one (or just the name), never updated (skip_node_update).
  structs::Node NodeFor(const std::string& node) const;

  const NodeIdentity self_;
  const asio::any_io_executor executor_;
  store::CatalogStore& store_;
  consensus::RaftNode& raft_;
  HealthManager& health_;
};

}  // namespace sider::server
