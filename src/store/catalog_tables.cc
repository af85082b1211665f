#include "store/catalog_tables.h"

#include <algorithm>
#include <memory>

namespace sider::store::internal {
namespace {

void TouchAllServicesOn(const NodeRow& row, Changes* ch) {
  for (const auto& [key, svc] : row.services) {
    ch->services_touched.insert(NsKey{svc.ns, svc.name});
  }
}

void Bump(uint64_t raft_index, uint64_t* index, WatchPtr* watch,
          std::vector<WatchPtr>* fired) {
  *index = std::max(*index, raft_index);
  if (*watch) fired->push_back(std::move(*watch));
  *watch = std::make_shared<Watch>();
}

// A check carries its service's name and tags (Consul's ServiceName and
// ServiceTags) so that /v1/health/state rows are self-describing; keep them
// in step when the service is re-registered with a new name or tags.
void RefreshServiceChecks(NodeRow& row, uint64_t raft_index,
                          const structs::Service& svc, Changes* ch) {
  auto ids = row.checks_by_service.find(NsView{svc.ns, svc.id});
  if (ids == row.checks_by_service.end()) return;
  for (const std::string& id : ids->second) {
    auto c = row.checks.find(id);
    if (c == row.checks.end()) continue;  // Unreachable: kept in step.
    structs::Check& check = c->second;
    if (check.service_name == svc.name && check.service_tags == svc.tags) {
      continue;
    }
    check.service_name = svc.name;
    check.service_tags = svc.tags;
    check.modify_index = raft_index;
    ch->checks = true;
  }
}

}  // namespace

bool IsProbeType(structs::CheckType t) {
  return t == structs::CheckType::kHttp || t == structs::CheckType::kTcp ||
         t == structs::CheckType::kCmd;
}

void IndexCheck(NodeRow& row, const structs::Check& c) {
  if (c.service_id.empty()) {
    row.node_check_ids.insert(c.check_id);
  } else {
    row.checks_by_service[NsKey{c.ns, c.service_id}].insert(c.check_id);
  }
  if (IsProbeType(c.type)) row.probe_check_ids.insert(c.check_id);
}

void UnindexCheck(NodeRow& row, const structs::Check& c) {
  if (c.service_id.empty()) {
    row.node_check_ids.erase(c.check_id);
  } else {
    auto it = row.checks_by_service.find(NsView{c.ns, c.service_id});
    if (it != row.checks_by_service.end()) {
      it->second.erase(c.check_id);
      if (it->second.empty()) row.checks_by_service.erase(it);
    }
  }
  row.probe_check_ids.erase(c.check_id);
}

void TouchForCheck(const NodeRow& row, const structs::Check& check,
                   Changes* ch) {
  if (check.service_id.empty()) {
    TouchAllServicesOn(row, ch);  // A node check counts for every instance.
  } else {
    ch->services_touched.insert(NsKey{check.ns, check.service_name});
  }
}

void UpsertNode(Tables& t, uint64_t raft_index, const structs::Node& node,
                bool skip_node_update, Changes* ch) {
  auto it = t.nodes.find(node.name);
  if (it == t.nodes.end()) {
    NodeRow row;
    row.node = node;
    row.node.create_index = raft_index;
    row.node.modify_index = raft_index;
    row.watch = std::make_shared<Watch>();
    t.nodes.emplace(node.name, std::move(row));
    ch->nodes = true;
    ch->nodes_touched.insert(node.name);
    return;
  }
  if (skip_node_update) return;
  NodeRow& row = it->second;
  structs::Node next = node;
  next.create_index = row.node.create_index;
  next.modify_index = row.node.modify_index;
  if (next == row.node) return;  // Consul skips no-op updates.
  next.modify_index = raft_index;
  row.node = std::move(next);
  ch->nodes = true;
  ch->nodes_touched.insert(node.name);
  // Service reads return the node row (address, meta) with each instance.
  TouchAllServicesOn(row, ch);
}

void UpsertService(Tables& t, NodeRow& row, uint64_t raft_index,
                   structs::Service svc, Changes* ch) {
  const NsKey name_key{svc.ns, svc.name};
  auto it = row.services.find(NsView{svc.ns, svc.id});
  if (it == row.services.end()) {
    svc.create_index = raft_index;
    svc.modify_index = raft_index;
    t.by_name[name_key].instances.emplace(svc.node, svc.id);
    row.services.emplace(NsKey{svc.ns, svc.id}, svc);
    ch->services = true;
    ch->services_touched.insert(name_key);
    ch->nodes_touched.insert(svc.node);
    return;
  }
  structs::Service& old = it->second;
  svc.create_index = old.create_index;
  svc.modify_index = old.modify_index;
  if (svc == old) return;
  svc.modify_index = raft_index;
  const bool name_changed = old.name != svc.name;
  const bool tags_changed = old.tags != svc.tags;
  if (name_changed) {
    const NsKey old_key{old.ns, old.name};
    t.by_name[old_key].instances.erase(InstanceRef{svc.node, svc.id});
    t.by_name[name_key].instances.emplace(svc.node, svc.id);
    ch->services_touched.insert(old_key);
  }
  ch->services = ch->services || name_changed || tags_changed;
  ch->services_touched.insert(name_key);
  ch->nodes_touched.insert(svc.node);
  old = std::move(svc);
  if (name_changed || tags_changed) RefreshServiceChecks(row, raft_index, old, ch);
}

void UpsertCheck(NodeRow& row, uint64_t raft_index, structs::Check check,
                 Changes* ch) {
  auto it = row.checks.find(check.check_id);
  if (it == row.checks.end()) {
    check.create_index = raft_index;
    check.modify_index = raft_index;
    TouchForCheck(row, check, ch);
    ch->nodes_touched.insert(check.node);
    if (IsProbeType(check.type)) ch->probe_nodes_touched.insert(check.node);
    ch->checks = true;
    IndexCheck(row, check);
    std::string id = check.check_id;
    row.checks.emplace(std::move(id), std::move(check));
    return;
  }
  structs::Check& old = it->second;
  check.create_index = old.create_index;
  check.modify_index = old.modify_index;
  if (check == old) return;
  check.modify_index = raft_index;
  TouchForCheck(row, old, ch);  // It may have moved to another service.
  TouchForCheck(row, check, ch);
  ch->nodes_touched.insert(check.node);
  if (IsProbeType(old.type) || IsProbeType(check.type)) {
    ch->probe_nodes_touched.insert(check.node);
  }
  ch->checks = true;
  UnindexCheck(row, old);
  IndexCheck(row, check);
  old = std::move(check);
}

void DeleteCheck(NodeRow& row, std::string_view check_id, Changes* ch) {
  auto it = row.checks.find(check_id);
  if (it == row.checks.end()) return;
  TouchForCheck(row, it->second, ch);
  ch->nodes_touched.insert(row.node.name);
  if (IsProbeType(it->second.type)) {
    ch->probe_nodes_touched.insert(row.node.name);
  }
  ch->checks = true;
  UnindexCheck(row, it->second);
  row.checks.erase(it);
}

void DeleteService(Tables& t, NodeRow& row, std::string_view ns,
                   std::string_view id, Changes* ch) {
  auto it = row.services.find(NsView{ns, id});
  if (it == row.services.end()) return;
  const structs::Service& svc = it->second;
  if (auto ids = row.checks_by_service.find(NsView{svc.ns, svc.id});
      ids != row.checks_by_service.end()) {
    const std::set<std::string> owned = ids->second;  // DeleteCheck edits it.
    for (const std::string& id : owned) DeleteCheck(row, id, ch);
  }
  const NsKey name_key{svc.ns, svc.name};
  t.by_name[name_key].instances.erase(InstanceRef{svc.node, svc.id});
  ch->services = true;
  ch->services_touched.insert(name_key);
  ch->nodes_touched.insert(row.node.name);
  row.services.erase(it);
}

void DeleteNode(Tables& t, std::string_view node, Changes* ch) {
  auto it = t.nodes.find(node);
  if (it == t.nodes.end()) return;
  NodeRow& row = it->second;
  for (const auto& [key, svc] : row.services) {
    const NsKey name_key{svc.ns, svc.name};
    t.by_name[name_key].instances.erase(InstanceRef{svc.node, svc.id});
    ch->services_touched.insert(name_key);
    ch->services = true;
  }
  if (!row.checks.empty()) ch->checks = true;
  ch->nodes = true;
  ch->nodes_touched.erase(row.node.name);
  ch->probe_nodes_touched.erase(row.node.name);
  ch->dropped.push_back(std::move(row.watch));
  ch->dropped.push_back(std::move(row.probe_watch));
  t.nodes.erase(it);
}

void CommitChanges(Tables& t, uint64_t raft_index, Changes* ch,
                   std::vector<WatchPtr>* fired) {
  if (!ch->any()) return;
  t.max_index = std::max(t.max_index, raft_index);
  if (ch->nodes) Bump(raft_index, &t.nodes_index, &t.nodes_watch, fired);
  if (ch->services) {
    Bump(raft_index, &t.services_index, &t.services_watch, fired);
  }
  if (ch->checks) Bump(raft_index, &t.checks_index, &t.checks_watch, fired);
  for (const std::string& name : ch->nodes_touched) {
    auto it = t.nodes.find(name);
    if (it == t.nodes.end()) continue;
    Bump(raft_index, &it->second.index, &it->second.watch, fired);
  }
  for (const NsKey& key : ch->services_touched) {
    ServiceEntry& e = t.by_name[key];
    Bump(raft_index, &e.index, &e.watch, fired);
  }
  for (const std::string& name : ch->probe_nodes_touched) {
    auto it = t.nodes.find(name);
    if (it == t.nodes.end()) continue;
    fired->push_back(std::move(it->second.probe_watch));
    it->second.probe_watch = std::make_shared<Watch>();
  }
  for (WatchPtr& w : ch->dropped) {
    if (w) fired->push_back(std::move(w));
  }
  ch->dropped.clear();
}

void CollectAllWatches(const Tables& t, std::vector<WatchPtr>* out) {
  out->push_back(t.nodes_watch);
  out->push_back(t.services_watch);
  out->push_back(t.checks_watch);
  for (const auto& [name, row] : t.nodes) {
    out->push_back(row.watch);
    out->push_back(row.probe_watch);
  }
  for (const auto& [key, e] : t.by_name) {
    if (e.watch) out->push_back(e.watch);
  }
}

}  // namespace sider::store::internal
