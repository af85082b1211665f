// CatalogStore: the in-memory catalog — nodes, service instances, checks —
// with secondary indexes, per-table and per-service Raft indexes, and
// watches for blocking queries. It knows nothing of HTTP or Raft: every
// mutation takes the raft_index that produced it, so the store's indexes
// are Raft indexes.
//
// Threading: one writer (the consensus thread, through the FSM), many
// readers (io threads). A reader-writer lock guards the tables; writers fire
// the watches they invalidated only after releasing it. Reads copy out.
//
// Errors: writes return kInvalidArgument / kNotFound and change nothing on
// error (validation happens before the first mutation).
//
// Invariants: every index (table, per-service, per-node, row Create/Modify)
// only grows, deletes included: a delete bumps the table index and the
// service's index to the deleting raft_index. Restore() keeps them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "store/indexed.h"
#include "store/watch.h"
#include "structs/catalog.h"

namespace sider::store {

// Filters shared by the service queries.
struct ServiceFilter {
  std::vector<std::string> tags;                                 // all must match
  std::vector<std::pair<std::string, std::string>> node_meta;    // all must match
};

class CatalogStore {
 public:
  CatalogStore();
  ~CatalogStore();
  CatalogStore(const CatalogStore&) = delete;
  CatalogStore& operator=(const CatalogStore&) = delete;

  // ---- Writes: consensus thread only, raft_index strictly increasing. ----
  Status Register(uint64_t raft_index, const structs::RegisterCommand& cmd);
  Status Deregister(uint64_t raft_index, const structs::DeregisterCommand& cmd);
  Status UpdateCheck(uint64_t raft_index,
                     const structs::UpdateCheckCommand& cmd);
  Status SetServiceEnabled(uint64_t raft_index,
                           const structs::SetServiceEnabledCommand& cmd);

  // ---- Reads: any thread. `ws` may be null; otherwise the watches whose
  // firing means the result may have changed are added to it. ----

  // /v1/catalog/nodes — sorted by name. Index: nodes table.
  Indexed<std::vector<structs::Node>> Nodes(WatchSet* ws) const;
  // /v1/catalog/node/:node — nullopt if unknown. Index: max of the node's
  // rows, or the nodes table index when missing.
  Indexed<std::optional<structs::NodeServices>> NodeServices(
      std::string_view node, std::string_view ns, WatchSet* ws) const;
  // /v1/catalog/services — name -> union of tags (sorted, unique).
  Indexed<std::vector<std::pair<std::string, std::vector<std::string>>>>
  Services(std::string_view ns, WatchSet* ws) const;
  // /v1/catalog/service/:name — instances in a stable order (node, id).
  // Index: that service's index (bumped by any change to its instances or
  // their checks, deletes included); the services table index if the
  // service never existed.
  Indexed<std::vector<structs::ServiceNode>> ServiceNodes(
      std::string_view ns, std::string_view name, const ServiceFilter& filter,
      WatchSet* ws) const;
  // /v1/health/service/:name — same order as ServiceNodes, with checks.
  Indexed<std::vector<structs::CheckServiceNode>> CheckServiceNodes(
      std::string_view ns, std::string_view name, const ServiceFilter& filter,
      WatchSet* ws) const;
  // /v1/health/checks/:service
  Indexed<std::vector<structs::Check>> ServiceChecks(
      std::string_view ns, std::string_view name, WatchSet* ws) const;
  // /v1/health/state/:state — nullopt state means "any".
  Indexed<std::vector<structs::Check>> ChecksInState(
      std::optional<structs::HealthStatus> state, WatchSet* ws) const;
  // /v1/health/node/:node
  Indexed<std::vector<structs::Check>> NodeChecks(std::string_view node,
                                                  WatchSet* ws) const;
  // For the agent endpoints: every service / check on one node.
  std::vector<structs::Service> ServicesOnNode(std::string_view node) const;
  std::vector<structs::Check> ChecksOnNode(std::string_view node) const;
  std::optional<structs::Service> GetService(std::string_view node,
                                             std::string_view ns,
                                             std::string_view service_id) const;
  std::optional<structs::Check> GetCheck(std::string_view node,
                                         std::string_view check_id) const;
  // Every check (for rebuilding leader-side TTL and runner state).
  std::vector<structs::Check> AllChecks() const;

  // The highest raft_index any write has applied to the catalog.
  uint64_t MaxIndex() const;

  // ---- Snapshot: a deterministic, self-contained encoding of every row
  // and every index. Restore replaces the whole state and fires every
  // watch. ----
  std::string Snapshot() const;
  Status Restore(std::string_view bytes);

 private:
  struct Tables;  // Defined in catalog_store.cc.
  mutable Mutex mu_;
  std::unique_ptr<Tables> t_ SIDER_GUARDED_BY(mu_);
};

}  // namespace sider::store
