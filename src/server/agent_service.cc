#include "server/agent_service.h"

#include <utility>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/health_manager.h"
#include "server/node_heartbeat.h"
#include "store/catalog_store.h"

namespace sider::server {
namespace {

using structs::Check;
using structs::CheckType;
using structs::HealthStatus;

// Consul's default texts, matched because UIs and scripts show them.
constexpr std::string_view kServiceMaintenanceDefault =
    "Maintenance mode is enabled for this service, but no reason was "
    "provided. This is a default message.";
constexpr std::string_view kNodeMaintenanceDefault =
    "Maintenance mode is enabled for this node, but no reason was provided. "
    "This is a default message.";

}  // namespace

AgentService::AgentService(const NodeIdentity& self,
                           asio::any_io_executor executor,
                           store::CatalogStore& store,
                           consensus::RaftNode& raft, HealthManager& health)
    : self_(self),
      executor_(std::move(executor)),
      store_(store),
      raft_(raft),
      health_(health) {}

structs::Node AgentService::SelfNode() const { return NodeRowFor(self_); }

structs::Node AgentService::NodeFor(const std::string& node) const {
  if (node == self_.name) return SelfNode();
  if (auto have = store_.GetNode(node)) return *std::move(have);
  structs::Node n;
  n.name = node;
  n.datacenter = self_.datacenter;
  return n;
}

void AgentService::Propose(std::string command, Done done) {
  raft_.Propose(std::move(command), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

void AgentService::RegisterService(const std::string& node,
                                   structs::Service service,
                                   std::vector<Check> checks, Done done) {
  service.node = node;
  if (service.id.empty()) service.id = service.name;
  for (Check& c : checks) {
    c.node = node;
    c.ns = service.ns;
    c.service_id = service.id;
    c.service_name = service.name;
    c.service_tags = service.tags;
  }
  structs::RegisterCommand cmd;
  cmd.node = NodeFor(node);
  cmd.skip_node_update = true;
  cmd.service = std::move(service);
  cmd.checks = checks;
  Propose(fsm::EncodeRegister(cmd),
          [this, checks = std::move(checks), done = std::move(done)](Status s) {
            if (s.ok()) health_.ChecksRegistered(checks);
            done(std::move(s));
          });
}

void AgentService::DeregisterService(const std::string& node,
                                     const std::string& ns,
                                     const std::string& service_id,
                                     Done done) {
  if (!store_.GetService(node, ns, service_id)) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  std::vector<std::string> removed =
      store_.ServiceCheckIds(node, ns, service_id);
  structs::DeregisterCommand cmd;
  cmd.node = node;
  cmd.ns = ns;
  cmd.service_id = service_id;
  Propose(fsm::EncodeDeregister(cmd), [this, node, removed = std::move(removed),
                                       done = std::move(done)](Status s) {
    if (s.ok()) health_.ChecksRemoved(node, removed);
    done(std::move(s));
  });
}

void AgentService::RegisterCheck(const std::string& node, Check check,
                                 Done done) {
  check.node = node;
  if (!check.service_id.empty()) {
    auto svc = store_.GetService(node, check.ns, check.service_id);
    if (!svc) {
      done(Status(Code::kNotFound,
                  "ServiceID \"" + check.service_id + "\" does not exist"));
      return;
    }
    check.service_name = svc->name;
    check.service_tags = svc->tags;
  }
  structs::RegisterCommand cmd;
  cmd.node = NodeFor(node);
  cmd.skip_node_update = true;
  cmd.checks.push_back(check);
  Propose(fsm::EncodeRegister(cmd), [this, check = std::move(check),
                                     done = std::move(done)](Status s) {
    if (s.ok()) health_.ChecksRegistered({check});
    done(std::move(s));
  });
}

void AgentService::DeregisterCheck(const std::string& node,
                                   const std::string& check_id, Done done) {
  if (!store_.GetCheck(node, check_id)) {
    done(Status(Code::kNotFound, "Unknown check ID \"" + check_id +
                                     "\". Ensure that the check ID is "
                                     "passed, not the check name."));
    return;
  }
  structs::DeregisterCommand cmd;
  cmd.node = node;
  cmd.check_id = check_id;
  Propose(fsm::EncodeDeregister(cmd),
          [this, node, check_id, done = std::move(done)](Status s) {
            if (s.ok()) health_.ChecksRemoved(node, {check_id});
            done(std::move(s));
          });
}

void AgentService::UpdateTtl(const std::string& node,
                             const std::string& check_id,
                             HealthStatus status, std::string output,
                             Done done) {
  auto check = store_.GetCheck(node, check_id);
  if (!check) {
    done(Status(Code::kNotFound, "Unknown check ID \"" + check_id +
                                     "\". Ensure that the check ID is "
                                     "passed, not the check name."));
    return;
  }
  if (check->type != CheckType::kTtl) {
    done(Status(Code::kInvalidArgument,
                "CheckID \"" + check_id + "\" does not have associated TTL"));
    return;
  }
  if (!health_.TtlUpdate(*check, status, output)) {
    done(Status::Ok());  // Leader memory absorbed it: no log entry.
    return;
  }
  structs::UpdateCheckCommand cmd;
  cmd.node = node;
  cmd.check_id = check_id;
  cmd.status = status;
  cmd.output = std::move(output);
  Propose(fsm::EncodeUpdateCheck(cmd), std::move(done));
}

void AgentService::ServiceMaintenance(const std::string& node,
                                      const std::string& ns,
                                      const std::string& service_id,
                                      bool enable, std::string reason,
                                      Done done) {
  auto svc = store_.GetService(node, ns, service_id);
  if (!svc) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  Check check;
  check.check_id = std::string(structs::kServiceMaintenancePrefix) + service_id;
  check.name = "Service Maintenance Mode";
  check.notes = reason.empty() ? std::string(kServiceMaintenanceDefault)
                               : std::move(reason);
  check.service_id = service_id;
  check.ns = ns;
  SetMaintenance(node, std::move(check), enable, std::move(done));
}

void AgentService::NodeMaintenance(const std::string& node, bool enable,
                                   std::string reason, Done done) {
  Check check;
  check.check_id = std::string(structs::kNodeMaintenanceCheckId);
  check.name = "Node Maintenance Mode";
  check.notes = reason.empty() ? std::string(kNodeMaintenanceDefault)
                               : std::move(reason);
  SetMaintenance(node, std::move(check), enable, std::move(done));
}

// Maintenance is Consul's critical check: enabling registers `check`,
// disabling removes it (a no-op when it is not there).
void AgentService::SetMaintenance(const std::string& node, Check check,
                                  bool enable, Done done) {
  if (!enable) {
    if (!store_.GetCheck(node, check.check_id)) {
      done(Status::Ok());
      return;
    }
    DeregisterCheck(node, check.check_id, std::move(done));
    return;
  }
  check.status = HealthStatus::kCritical;
  RegisterCheck(node, std::move(check), std::move(done));
}

void AgentService::SetServiceEnabled(const std::string& node,
                                     const std::string& ns,
                                     const std::string& service_id,
                                     bool enabled, Done done) {
  if (!store_.GetService(node, ns, service_id)) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  structs::SetServiceEnabledCommand cmd;
  cmd.node = node;
  cmd.ns = ns;
  cmd.service_id = service_id;
  cmd.enabled = enabled;
  Propose(fsm::EncodeSetServiceEnabled(cmd), std::move(done));
}

void AgentService::EnsureSelfRegistered(Done done) {
  structs::Node want = SelfNode();
  Check serf;
  serf.node = self_.name;
  serf.check_id = std::string(kSerfCheckId);
  serf.name = "Serf Health Status";
  serf.status = HealthStatus::kPassing;
  serf.output = "Agent alive and reachable";
  auto have = store_.GetNode(self_.name);
  auto have_check = store_.GetCheck(self_.name, serf.check_id);
  if (have) {  // Keep Meta keys others wrote; ours win.
    structs::Meta meta = have->meta;
    for (auto& [k, v] : want.meta) meta[k] = v;
    want.meta = std::move(meta);
  }
  if (have && have->address == want.address &&
      have->id == want.id &&
      have->meta == want.meta && have_check &&
      have_check->status == HealthStatus::kPassing) {
    done(Status::Ok());
    return;
  }
  structs::RegisterCommand cmd;
  cmd.node = std::move(want);
  cmd.checks.push_back(std::move(serf));
  Propose(fsm::EncodeRegister(cmd), std::move(done));
}

}  // namespace sider::server
