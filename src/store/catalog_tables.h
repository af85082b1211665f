// CatalogStore's tables and the row-level mutations under its public
// methods. Internal to store/: include only from catalog_*.cc.
//
// Layout: nodes own their services and checks (a node's rows are one map
// lookup away, which is what every health read needs); a by-name index maps
// (ns, service name) to its instances plus that service's Raft index and
// Watch. By-name entries outlive their last instance so that the service's
// index never goes back (Consul keeps its "service.<name>" index rows too).
//
// Threading: every function here requires CatalogStore::mu_ (exclusive for
// the mutations) — the callers hold it; these free functions cannot say so
// to the analysis, which is why they take Tables& and stay internal.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/catalog_store.h"
#include "store/watch.h"
#include "structs/catalog.h"

namespace sider::store::internal {

// (ns, name) or (ns, id): compares against string_view pairs without
// allocating, so reads look up by what the caller passed.
struct NsKey {
  std::string ns;
  std::string name;
  auto operator<=>(const NsKey&) const = default;
};
using NsView = std::pair<std::string_view, std::string_view>;

struct NsKeyLess {
  using is_transparent = void;
  static NsView View(const NsKey& k) { return {k.ns, k.name}; }
  static NsView View(const NsView& k) { return k; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return View(a) < View(b);
  }
};

struct NodeRow {
  structs::Node node;
  std::map<NsKey, structs::Service, NsKeyLess> services;      // (ns, id)
  std::map<std::string, structs::Check, std::less<>> checks;  // check_id
  uint64_t index = 0;  // Last change to the node or any of its rows.
  WatchPtr watch;      // Fires on that change.

  // Secondary indexes over `checks`, kept in step by IndexCheck and
  // UnindexCheck, so that per-instance reads and per-service deletes cost
  // O(the instance's checks), not O(every check on the node).
  std::map<NsKey, std::set<std::string>, NsKeyLess> checks_by_service;
  std::set<std::string, std::less<>> node_check_ids;   // No service id.
  std::set<std::string, std::less<>> probe_check_ids;  // http, tcp, script.
  // Fires when a probe check on this node is added, changed or removed
  // (the node's own agent restarts its runners then; other writes to the
  // node do not wake it).
  WatchPtr probe_watch = std::make_shared<Watch>();
};

bool IsProbeType(structs::CheckType t);
void IndexCheck(NodeRow& row, const structs::Check& c);
void UnindexCheck(NodeRow& row, const structs::Check& c);

// An instance of a service, as (node, id); sorts as results must.
using InstanceRef = std::pair<std::string, std::string>;

struct ServiceEntry {
  std::set<InstanceRef> instances;
  uint64_t index = 0;
  WatchPtr watch;
};

// What one write touched; CommitChanges turns it into index bumps and
// fired Watches.
struct Changes {
  bool nodes = false;     // A node row was added, changed or removed.
  bool services = false;  // The service list (names, tags) may differ.
  bool checks = false;    // A check row was added, changed or removed.
  std::set<std::string> nodes_touched;
  std::set<NsKey> services_touched;
  std::set<std::string> probe_nodes_touched;  // Their probe_watch fires.
  std::vector<WatchPtr> dropped;  // Watches of removed node rows.

  bool any() const {
    return nodes || services || checks || !nodes_touched.empty() ||
           !services_touched.empty() || !probe_nodes_touched.empty() ||
           !dropped.empty();
  }
};

}  // namespace sider::store::internal

namespace sider::store {

struct CatalogStore::Tables {
  std::map<std::string, internal::NodeRow, std::less<>> nodes;
  std::map<internal::NsKey, internal::ServiceEntry, internal::NsKeyLess>
      by_name;
  uint64_t max_index = 0;
  uint64_t nodes_index = 0;
  uint64_t services_index = 0;
  uint64_t checks_index = 0;
  WatchPtr nodes_watch = std::make_shared<Watch>();
  WatchPtr services_watch = std::make_shared<Watch>();
  WatchPtr checks_watch = std::make_shared<Watch>();
};

}  // namespace sider::store

namespace sider::store::internal {

using Tables = CatalogStore::Tables;

// Row mutations. Each records what it touched in `ch`; none bumps an index
// or fires a Watch (CommitChanges does, once per write). Upserts that
// change nothing record nothing.
void UpsertNode(Tables& t, uint64_t raft_index, const structs::Node& node,
                bool skip_node_update, Changes* ch);
void UpsertService(Tables& t, NodeRow& row, uint64_t raft_index,
                   structs::Service svc, Changes* ch);
void UpsertCheck(NodeRow& row, uint64_t raft_index, structs::Check check,
                 Changes* ch);
void DeleteCheck(NodeRow& row, std::string_view check_id, Changes* ch);
void DeleteService(Tables& t, NodeRow& row, std::string_view ns,
                   std::string_view id, Changes* ch);
void DeleteNode(Tables& t, std::string_view node, Changes* ch);

// Marks the services whose results depend on `check` (its own service, or
// every service on the node for a node check).
void TouchForCheck(const NodeRow& row, const structs::Check& check,
                   Changes* ch);

// Bumps the touched indexes to raft_index and swaps in fresh Watches,
// appending the old ones to `fired` (to fire after unlocking).
void CommitChanges(Tables& t, uint64_t raft_index, Changes* ch,
                   std::vector<WatchPtr>* fired);

// Every Watch in `t` (for Restore, which invalidates all of them).
void CollectAllWatches(const Tables& t, std::vector<WatchPtr>* out);

}  // namespace sider::store::internal
