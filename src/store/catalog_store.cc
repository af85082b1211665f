// CatalogStore: construction and the write path (validation, then row
// mutations from catalog_tables.cc, then one commit that bumps indexes and
// collects the Watches to fire once the lock is released).
#include "store/catalog_store.h"

#include <utility>

#include "store/catalog_tables.h"

namespace sider::store {
namespace {

using internal::Changes;
using internal::NodeRow;
using internal::NsView;

Status Invalid(std::string message) {
  return Status(Code::kInvalidArgument, std::move(message));
}

void DefaultNamespace(std::string* ns) {
  if (ns->empty()) *ns = structs::kDefaultNamespace;
}

bool ValidStatus(structs::HealthStatus s) {
  return s <= structs::HealthStatus::kMaintenance;
}

bool ValidType(structs::CheckType t) { return t <= structs::CheckType::kAlias; }

Status NormalizeService(const std::string& node, structs::Service* svc) {
  if (svc->name.empty()) return Invalid("missing service name");
  if (svc->id.empty()) svc->id = svc->name;
  DefaultNamespace(&svc->ns);
  if (svc->node.empty()) svc->node = node;
  if (svc->node != node) {
    return Invalid("service node '" + svc->node + "' does not match '" +
                   node + "'");
  }
  return Status::Ok();
}

// Resolves a check's service (from the request or already on the node) and
// copies its name and tags in, as Consul does.
Status NormalizeCheck(const internal::Tables& t, const structs::Node& node,
                      const std::optional<structs::Service>& req_svc,
                      structs::Check* c) {
  if (c->node.empty()) c->node = node.name;
  if (c->node != node.name) {
    return Invalid("check node '" + c->node + "' does not match '" +
                   node.name + "'");
  }
  if (c->check_id.empty()) c->check_id = c->name;  // Consul's default.
  if (c->check_id.empty()) return Invalid("missing check id");
  if (!ValidStatus(c->status)) return Invalid("invalid check status");
  if (!ValidType(c->type)) return Invalid("invalid check type");
  DefaultNamespace(&c->ns);
  if (c->service_id.empty()) {
    c->service_name.clear();
    c->service_tags.clear();
    return Status::Ok();
  }
  const structs::Service* svc = nullptr;
  if (req_svc && req_svc->id == c->service_id &&
      (req_svc->ns == c->ns || c->ns == structs::kDefaultNamespace)) {
    svc = &*req_svc;
  } else if (auto n = t.nodes.find(node.name); n != t.nodes.end()) {
    auto s = n->second.services.find(NsView{c->ns, c->service_id});
    if (s != n->second.services.end()) svc = &s->second;
  }
  if (svc == nullptr) {
    return Invalid("check '" + c->check_id + "' names unknown service '" +
                   c->service_id + "'");
  }
  c->ns = svc->ns;
  c->service_name = svc->name;
  c->service_tags = svc->tags;
  return Status::Ok();
}

Result<structs::RegisterCommand> NormalizeRegister(
    const internal::Tables& t, const structs::RegisterCommand& in) {
  structs::RegisterCommand cmd = in;
  if (cmd.node.name.empty()) return Invalid("missing node name");
  // Consul: an address is required unless the node row is left alone.
  if (cmd.node.address.empty() && !cmd.skip_node_update) {
    return Invalid("missing node address");
  }
  if (cmd.service) {
    SIDER_RETURN_IF_ERROR(NormalizeService(cmd.node.name, &*cmd.service));
  }
  for (structs::Check& c : cmd.checks) {
    SIDER_RETURN_IF_ERROR(NormalizeCheck(t, cmd.node, cmd.service, &c));
  }
  return cmd;
}

}  // namespace

CatalogStore::CatalogStore() : t_(std::make_unique<Tables>()) {}
CatalogStore::~CatalogStore() = default;

Status CatalogStore::Register(uint64_t raft_index,
                              const structs::RegisterCommand& in) {
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    // Everything that can fail happens before the first mutation.
    SIDER_ASSIGN_OR_RETURN(structs::RegisterCommand cmd,
                           NormalizeRegister(t, in));
    Changes ch;
    internal::UpsertNode(t, raft_index, cmd.node, cmd.skip_node_update, &ch);
    NodeRow& row = t.nodes.find(cmd.node.name)->second;
    if (cmd.service) {
      internal::UpsertService(t, row, raft_index, std::move(*cmd.service), &ch);
    }
    for (structs::Check& c : cmd.checks) {
      internal::UpsertCheck(row, raft_index, std::move(c), &ch);
    }
    internal::CommitChanges(t, raft_index, &ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return Status::Ok();
}

// Deregistering something already gone succeeds and changes nothing, as in
// Consul: agents retry deregistrations and must not see errors for it.
Status CatalogStore::Deregister(uint64_t raft_index,
                                const structs::DeregisterCommand& cmd) {
  if (cmd.node.empty()) return Invalid("missing node name");
  const std::string_view ns =
      cmd.ns.empty() ? structs::kDefaultNamespace : std::string_view(cmd.ns);
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    Changes ch;
    auto it = t.nodes.find(cmd.node);
    if (it == t.nodes.end()) return Status::Ok();
    if (cmd.service_id.empty() && cmd.check_id.empty()) {
      internal::DeleteNode(t, cmd.node, &ch);
    } else {
      if (!cmd.service_id.empty()) {
        internal::DeleteService(t, it->second, ns, cmd.service_id, &ch);
      }
      if (!cmd.check_id.empty()) {
        internal::DeleteCheck(it->second, cmd.check_id, &ch);
      }
    }
    internal::CommitChanges(t, raft_index, &ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return Status::Ok();
}

Status CatalogStore::UpdateCheck(uint64_t raft_index,
                                 const structs::UpdateCheckCommand& cmd) {
  if (!ValidStatus(cmd.status)) return Invalid("invalid check status");
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    auto n = t.nodes.find(cmd.node);
    if (n == t.nodes.end()) return Status::Ok();
    auto c = n->second.checks.find(cmd.check_id);
    if (c == n->second.checks.end()) return Status::Ok();
    structs::Check next = c->second;
    next.status = cmd.status;
    next.output = cmd.output;
    Changes ch;
    internal::UpsertCheck(n->second, raft_index, std::move(next), &ch);
    internal::CommitChanges(t, raft_index, &ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return Status::Ok();
}

Status CatalogStore::SetServiceEnabled(
    uint64_t raft_index, const structs::SetServiceEnabledCommand& cmd) {
  const std::string_view ns =
      cmd.ns.empty() ? structs::kDefaultNamespace : std::string_view(cmd.ns);
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    auto n = t.nodes.find(cmd.node);
    if (n == t.nodes.end()) {
      return Status(Code::kNotFound, "unknown node '" + cmd.node + "'");
    }
    auto s = n->second.services.find(NsView{ns, cmd.service_id});
    if (s == n->second.services.end()) {
      return Status(Code::kNotFound,
                    "unknown service '" + cmd.service_id + "' on node '" +
                        cmd.node + "'");
    }
    structs::Service next = s->second;
    next.enabled = cmd.enabled;
    Changes ch;
    internal::UpsertService(t, n->second, raft_index, std::move(next), &ch);
    internal::CommitChanges(t, raft_index, &ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return Status::Ok();
}

uint64_t CatalogStore::MaxIndex() const {
  ReaderLock lock(&mu_);
  return t_->max_index;
}

}  // namespace sider::store
