#include "server/agent_service.h"

#include <utility>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/health_manager.h"
#include "store/catalog_store.h"

namespace sider::server {
namespace {

using structs::Check;
using structs::CheckType;
using structs::HealthStatus;

constexpr std::string_view kSerfCheckId = "serfHealth";

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

structs::Node AgentService::SelfNode() const {
  structs::Node node;
  node.name = self_.name;
  node.id = self_.id;
  node.address = self_.address;
  node.datacenter = self_.datacenter;
  node.tagged_addresses = {{"lan", self_.address}, {"wan", self_.address}};
  return node;
}

void AgentService::Propose(std::string command, Done done) {
  raft_.Propose(std::move(command), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

void AgentService::RegisterService(structs::Service service,
                                   std::vector<Check> checks, Done done) {
  service.node = self_.name;
  if (service.id.empty()) service.id = service.name;
  for (Check& c : checks) {
    c.node = self_.name;
    c.ns = service.ns;
    c.service_id = service.id;
    c.service_name = service.name;
    c.service_tags = service.tags;
  }
  structs::RegisterCommand cmd;
  cmd.node = SelfNode();
  cmd.skip_node_update = true;
  cmd.service = std::move(service);
  cmd.checks = checks;
  Propose(fsm::EncodeRegister(cmd),
          [this, checks = std::move(checks), done = std::move(done)](Status s) {
            if (s.ok()) health_.ChecksRegistered(checks);
            done(std::move(s));
          });
}

void AgentService::DeregisterService(const std::string& ns,
                                     const std::string& service_id,
                                     Done done) {
  if (!store_.GetService(self_.name, ns, service_id)) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  std::vector<std::string> removed;
  for (const Check& c : store_.ChecksOnNode(self_.name)) {
    if (c.service_id == service_id && c.ns == ns) removed.push_back(c.check_id);
  }
  structs::DeregisterCommand cmd;
  cmd.node = self_.name;
  cmd.ns = ns;
  cmd.service_id = service_id;
  Propose(fsm::EncodeDeregister(cmd), [this, removed = std::move(removed),
                                       done = std::move(done)](Status s) {
    if (s.ok()) health_.ChecksRemoved(self_.name, removed);
    done(std::move(s));
  });
}

void AgentService::RegisterCheck(Check check, Done done) {
  check.node = self_.name;
  if (!check.service_id.empty()) {
    auto svc = store_.GetService(self_.name, check.ns, check.service_id);
    if (!svc) {
      done(Status(Code::kNotFound,
                  "ServiceID \"" + check.service_id + "\" does not exist"));
      return;
    }
    check.service_name = svc->name;
    check.service_tags = svc->tags;
  }
  structs::RegisterCommand cmd;
  cmd.node = SelfNode();
  cmd.skip_node_update = true;
  cmd.checks.push_back(check);
  Propose(fsm::EncodeRegister(cmd), [this, check = std::move(check),
                                     done = std::move(done)](Status s) {
    if (s.ok()) health_.ChecksRegistered({check});
    done(std::move(s));
  });
}

void AgentService::DeregisterCheck(const std::string& check_id, Done done) {
  if (!store_.GetCheck(self_.name, check_id)) {
    done(Status(Code::kNotFound, "Unknown check ID \"" + check_id +
                                     "\". Ensure that the check ID is "
                                     "passed, not the check name."));
    return;
  }
  structs::DeregisterCommand cmd;
  cmd.node = self_.name;
  cmd.check_id = check_id;
  Propose(fsm::EncodeDeregister(cmd),
          [this, check_id, done = std::move(done)](Status s) {
            if (s.ok()) health_.ChecksRemoved(self_.name, {check_id});
            done(std::move(s));
          });
}

void AgentService::UpdateTtl(const std::string& check_id,
                             HealthStatus status, std::string output,
                             Done done) {
  auto check = store_.GetCheck(self_.name, check_id);
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
  cmd.node = self_.name;
  cmd.check_id = check_id;
  cmd.status = status;
  cmd.output = std::move(output);
  Propose(fsm::EncodeUpdateCheck(cmd), std::move(done));
}

void AgentService::ServiceMaintenance(const std::string& ns,
                                      const std::string& service_id,
                                      bool enable, std::string reason,
                                      Done done) {
  auto svc = store_.GetService(self_.name, ns, service_id);
  if (!svc) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  const std::string check_id =
      std::string(structs::kServiceMaintenancePrefix) + service_id;
  if (!enable) {
    if (!store_.GetCheck(self_.name, check_id)) {
      done(Status::Ok());
      return;
    }
    DeregisterCheck(check_id, std::move(done));
    return;
  }
  Check check;
  check.check_id = check_id;
  check.name = "Service Maintenance Mode";
  check.notes = reason.empty() ? std::string(kServiceMaintenanceDefault)
                               : std::move(reason);
  check.status = HealthStatus::kCritical;
  check.service_id = service_id;
  check.ns = ns;
  RegisterCheck(std::move(check), std::move(done));
}

void AgentService::NodeMaintenance(bool enable, std::string reason,
                                   Done done) {
  const std::string check_id(structs::kNodeMaintenanceCheckId);
  if (!enable) {
    if (!store_.GetCheck(self_.name, check_id)) {
      done(Status::Ok());
      return;
    }
    DeregisterCheck(check_id, std::move(done));
    return;
  }
  Check check;
  check.check_id = check_id;
  check.name = "Node Maintenance Mode";
  check.notes = reason.empty() ? std::string(kNodeMaintenanceDefault)
                               : std::move(reason);
  check.status = HealthStatus::kCritical;
  RegisterCheck(std::move(check), std::move(done));
}

void AgentService::SetServiceEnabled(const std::string& ns,
                                     const std::string& service_id,
                                     bool enabled, Done done) {
  if (!store_.GetService(self_.name, ns, service_id)) {
    done(Status(Code::kNotFound, "Unknown service ID \"" + service_id + "\""));
    return;
  }
  structs::SetServiceEnabledCommand cmd;
  cmd.node = self_.name;
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
  auto have = store_.NodeServices(self_.name, structs::kDefaultNamespace,
                                  nullptr);
  auto have_check = store_.GetCheck(self_.name, serf.check_id);
  if (have.value && have.value->node.address == want.address &&
      have.value->node.id == want.id && have_check &&
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
