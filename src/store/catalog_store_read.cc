// CatalogStore: the read path. Every read holds the reader lock only while
// copying rows out, and hands back the Watch whose firing means its result
// may have changed.
#include <algorithm>
#include <cctype>
#include <set>

#include "store/catalog_store.h"
#include "store/catalog_tables.h"

namespace sider::store {
namespace {

using internal::NodeRow;
using internal::NsView;
using internal::ServiceEntry;

// Replies never carry index 0: Consul clients treat 0 as "no index".
uint64_t Clamp(uint64_t index) { return std::max<uint64_t>(index, 1); }

void AddWatch(WatchSet* ws, const WatchPtr& w) {
  if (ws != nullptr) ws->Add(w);
}

std::string_view NsOrDefault(std::string_view ns) {
  return ns.empty() ? structs::kDefaultNamespace : ns;
}

bool EqualFold(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Consul compares tags case-insensitively (structs.serviceTagFilter).
bool HasAllTags(const structs::Service& svc,
                const std::vector<std::string>& tags) {
  for (const std::string& want : tags) {
    const bool found = std::any_of(
        svc.tags.begin(), svc.tags.end(),
        [&](const std::string& have) { return EqualFold(have, want); });
    if (!found) return false;
  }
  return true;
}

bool NodeMetaMatches(const structs::Node& node, const ServiceFilter& filter) {
  for (const auto& [k, v] : filter.node_meta) {
    auto it = node.meta.find(k);
    if (it == node.meta.end() || it->second != v) return false;
  }
  return true;
}

// Node checks first, then the instance's own, each by check id.
std::vector<structs::Check> InstanceChecks(const NodeRow& row,
                                           const structs::Service& svc) {
  std::vector<structs::Check> out;
  auto own = row.checks_by_service.find(NsView{svc.ns, svc.id});
  out.reserve(row.node_check_ids.size() +
              (own == row.checks_by_service.end() ? 0 : own->second.size()));
  auto add = [&](const std::string& id) {
    auto c = row.checks.find(id);
    if (c != row.checks.end()) out.push_back(c->second);
  };
  for (const std::string& id : row.node_check_ids) add(id);
  if (own != row.checks_by_service.end()) {
    for (const std::string& id : own->second) add(id);
  }
  return out;
}

// Calls fn(row, service) for each instance of (ns, name) passing `filter`'s
// tag and node-meta terms, in (node, id) order.
template <typename Fn>
void ForEachInstance(const CatalogStore::Tables& t, const ServiceEntry& e,
                     std::string_view ns, const ServiceFilter& filter, Fn fn) {
  for (const auto& [node, id] : e.instances) {
    auto n = t.nodes.find(node);
    if (n == t.nodes.end()) continue;  // Unreachable: kept in step.
    auto s = n->second.services.find(NsView{ns, id});
    if (s == n->second.services.end()) continue;
    if (!HasAllTags(s->second, filter.tags)) continue;
    if (!NodeMetaMatches(n->second.node, filter)) continue;
    fn(n->second, s->second);
  }
}

// The service's entry, adding its index and Watch to the reply; a service
// that never existed answers with the service table's (its creation bumps
// that table).
const ServiceEntry* LookupService(const CatalogStore::Tables& t,
                                  std::string_view ns, std::string_view name,
                                  uint64_t* index, WatchSet* ws) {
  auto it = t.by_name.find(NsView{ns, name});
  if (it == t.by_name.end()) {
    *index = Clamp(t.services_index);
    AddWatch(ws, t.services_watch);
    return nullptr;
  }
  *index = Clamp(it->second.index);
  AddWatch(ws, it->second.watch);
  return &it->second;
}

}  // namespace

Indexed<std::vector<structs::Node>> CatalogStore::Nodes(WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Node>> out;
  out.index = Clamp(t_->nodes_index);
  AddWatch(ws, t_->nodes_watch);
  out.value.reserve(t_->nodes.size());
  for (const auto& [name, row] : t_->nodes) out.value.push_back(row.node);
  return out;
}

Indexed<std::optional<structs::NodeServices>> CatalogStore::NodeServices(
    std::string_view node, std::string_view ns, WatchSet* ws) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  Indexed<std::optional<structs::NodeServices>> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) {
    out.index = Clamp(t_->nodes_index);
    AddWatch(ws, t_->nodes_watch);
    return out;
  }
  const NodeRow& row = it->second;
  out.index = Clamp(row.index);
  AddWatch(ws, row.watch);
  out.value.emplace();
  out.value->node = row.node;
  for (const auto& [key, svc] : row.services) {
    if (svc.ns == ns) out.value->services.push_back(svc);
  }
  return out;
}

Indexed<std::vector<std::pair<std::string, std::vector<std::string>>>>
CatalogStore::Services(std::string_view ns, WatchSet* ws) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  Indexed<std::vector<std::pair<std::string, std::vector<std::string>>>> out;
  out.index = Clamp(t_->services_index);
  AddWatch(ws, t_->services_watch);
  for (auto it = t_->by_name.lower_bound(NsView{ns, ""});
       it != t_->by_name.end() && it->first.ns == ns; ++it) {
    if (it->second.instances.empty()) continue;
    std::set<std::string> tags;
    ForEachInstance(*t_, it->second, ns, ServiceFilter{},
                    [&](const NodeRow&, const structs::Service& svc) {
                      tags.insert(svc.tags.begin(), svc.tags.end());
                    });
    out.value.emplace_back(it->first.name,
                           std::vector<std::string>(tags.begin(), tags.end()));
  }
  return out;
}

Indexed<std::vector<structs::ServiceNode>> CatalogStore::ServiceNodes(
    std::string_view ns, std::string_view name, const ServiceFilter& filter,
    WatchSet* ws) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::ServiceNode>> out;
  const ServiceEntry* e = LookupService(*t_, ns, name, &out.index, ws);
  if (e == nullptr) return out;
  out.value.reserve(e->instances.size());
  ForEachInstance(*t_, *e, ns, filter,
                  [&](const NodeRow& row, const structs::Service& svc) {
                    out.value.push_back(structs::ServiceNode{row.node, svc});
                  });
  return out;
}

Indexed<std::vector<structs::CheckServiceNode>> CatalogStore::CheckServiceNodes(
    std::string_view ns, std::string_view name, const ServiceFilter& filter,
    WatchSet* ws) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::CheckServiceNode>> out;
  const ServiceEntry* e = LookupService(*t_, ns, name, &out.index, ws);
  if (e == nullptr) return out;
  out.value.reserve(e->instances.size());
  ForEachInstance(
      *t_, *e, ns, filter, [&](const NodeRow& row, const structs::Service& svc) {
        std::vector<structs::Check> checks = InstanceChecks(row, svc);
        if (filter.passing_only &&
            structs::AggregateHealth(svc, checks) !=
                structs::HealthStatus::kPassing) {
          return;
        }
        out.value.push_back(
            structs::CheckServiceNode{row.node, svc, std::move(checks)});
      });
  return out;
}

Indexed<std::vector<structs::Check>> CatalogStore::ServiceChecks(
    std::string_view ns, std::string_view name, WatchSet* ws) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Check>> out;
  const ServiceEntry* e = LookupService(*t_, ns, name, &out.index, ws);
  if (e == nullptr) return out;
  ForEachInstance(*t_, *e, ns, ServiceFilter{},
                  [&](const NodeRow& row, const structs::Service& svc) {
                    for (const auto& [id, c] : row.checks) {
                      if (c.service_id == svc.id && c.ns == svc.ns) {
                        out.value.push_back(c);
                      }
                    }
                  });
  return out;
}

Indexed<std::vector<structs::Check>> CatalogStore::ChecksInState(
    std::optional<structs::HealthStatus> state, WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Check>> out;
  out.index = Clamp(t_->checks_index);
  AddWatch(ws, t_->checks_watch);
  for (const auto& [name, row] : t_->nodes) {
    for (const auto& [id, c] : row.checks) {
      if (!state || c.status == *state) out.value.push_back(c);
    }
  }
  return out;
}

Indexed<std::vector<structs::Check>> CatalogStore::NodeChecks(
    std::string_view node, WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Check>> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) {
    out.index = Clamp(t_->nodes_index);
    AddWatch(ws, t_->nodes_watch);
    return out;
  }
  out.index = Clamp(it->second.index);
  AddWatch(ws, it->second.watch);
  for (const auto& [id, c] : it->second.checks) out.value.push_back(c);
  return out;
}

std::vector<structs::Service> CatalogStore::ServicesOnNode(
    std::string_view node) const {
  ReaderLock lock(&mu_);
  std::vector<structs::Service> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return out;
  for (const auto& [key, svc] : it->second.services) out.push_back(svc);
  return out;
}

std::vector<structs::Check> CatalogStore::ChecksOnNode(
    std::string_view node) const {
  ReaderLock lock(&mu_);
  std::vector<structs::Check> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return out;
  for (const auto& [id, c] : it->second.checks) out.push_back(c);
  return out;
}

std::optional<structs::Service> CatalogStore::GetService(
    std::string_view node, std::string_view ns,
    std::string_view service_id) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return std::nullopt;
  auto s = it->second.services.find(NsView{ns, service_id});
  if (s == it->second.services.end()) return std::nullopt;
  return s->second;
}

std::optional<structs::Check> CatalogStore::GetCheck(
    std::string_view node, std::string_view check_id) const {
  ReaderLock lock(&mu_);
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return std::nullopt;
  auto c = it->second.checks.find(check_id);
  if (c == it->second.checks.end()) return std::nullopt;
  return c->second;
}

std::vector<structs::Check> CatalogStore::CriticalChecksWithDeregisterAfter()
    const {
  ReaderLock lock(&mu_);
  std::vector<structs::Check> out;
  for (const auto& [name, row] : t_->nodes) {
    for (const auto& [id, c] : row.checks) {
      if (c.definition.deregister_critical_after_ns > 0 && !c.service_id.empty() &&
          c.status == structs::HealthStatus::kCritical) {
        out.push_back(c);
      }
    }
  }
  return out;
}

std::vector<structs::Check> CatalogStore::ProbeChecksOnNode(
    std::string_view node, WatchSet* ws) const {
  ReaderLock lock(&mu_);
  std::vector<structs::Check> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) {
    // Registering the node creates its row: watch the nodes table.
    AddWatch(ws, t_->nodes_watch);
    return out;
  }
  AddWatch(ws, it->second.probe_watch);
  for (const std::string& id : it->second.probe_check_ids) {
    auto c = it->second.checks.find(id);
    if (c != it->second.checks.end()) out.push_back(c->second);
  }
  return out;
}

std::vector<std::string> CatalogStore::ServiceCheckIds(
    std::string_view node, std::string_view ns,
    std::string_view service_id) const {
  ns = NsOrDefault(ns);
  ReaderLock lock(&mu_);
  std::vector<std::string> out;
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return out;
  auto ids = it->second.checks_by_service.find(NsView{ns, service_id});
  if (ids == it->second.checks_by_service.end()) return out;
  return {ids->second.begin(), ids->second.end()};
}

bool CatalogStore::HasNode(std::string_view node) const {
  ReaderLock lock(&mu_);
  return t_->nodes.find(node) != t_->nodes.end();
}

std::optional<structs::Node> CatalogStore::GetNode(
    std::string_view node) const {
  ReaderLock lock(&mu_);
  auto it = t_->nodes.find(node);
  if (it == t_->nodes.end()) return std::nullopt;
  return it->second.node;
}

std::vector<structs::Check> CatalogStore::AllChecks() const {
  ReaderLock lock(&mu_);
  std::vector<structs::Check> out;
  for (const auto& [name, row] : t_->nodes) {
    for (const auto& [id, c] : row.checks) out.push_back(c);
  }
  return out;
}

}  // namespace sider::store
