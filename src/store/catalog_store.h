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
// error (validation happens before the first mutation). Deregistering, or
// updating a check, that is already gone is OK and a no-op (as in Consul,
// where agents retry these); SetServiceEnabled on an unknown instance is
// kNotFound.
//
// What bumps which index (and fires the matching Watch): a write whose rows
// end up equal to what was there changes nothing at all (Consul skips no-op
// updates). Otherwise, at the write's raft_index:
//  * nodes table: a node row added, changed or removed;
//  * services table: the service list changed (an instance added or
//    removed, or an instance's name or tags changed);
//  * checks table: a check row added, changed or removed;
//  * per node: the node row or any service/check on it changed;
//  * per service (ns, name): an instance of it, a check on one, a node
//    check on a node hosting one, or such a node's row (service reads carry
//    the node's address and meta) changed.
// A read watches exactly one of these, so a write wakes only the blocking
// queries whose result could have changed.
//
// Invariants: every index (table, per-service, per-node, row Create/Modify)
// only grows, deletes included: a delete bumps the table index and the
// service's index to the deleting raft_index. Restore() installs the
// snapshot's indexes exactly (no clamping against local state, so every
// replica restoring one snapshot stays identical).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "store/batch_mutex.h"
#include "base/status.h"
#include "store/indexed.h"
#include "store/watch.h"
#include "structs/catalog.h"

namespace sider::store {

// Filters shared by the service queries.
struct ServiceFilter {
  // All must be present; compared ignoring case, as Consul does.
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> node_meta;    // all must match
  // CheckServiceNodes only (Consul's ?passing): keep instances whose
  // AggregateHealth is passing.
  bool passing_only = false;
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

  // ---- Batch scope (consensus thread, see store/batch_mutex.h): the
  // writes between BeginBatch() and EndBatch() become visible to readers
  // all at once, and fire their watches at EndBatch(). Never nested. ----
  void BeginBatch() { mu_.BeginBatch(); }
  void EndBatch() { mu_.EndBatch(); }

  // ---- Reads: any thread. `ws` may be null; otherwise the watches whose
  // firing means the result may have changed are added to it. An empty
  // `ns` means the default namespace. ----

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
  // /v1/health/node/:node. Index: the node's, or the nodes table's when
  // missing.
  Indexed<std::vector<structs::Check>> NodeChecks(std::string_view node,
                                                  WatchSet* ws) const;
  // For the agent endpoints: every service / check on one node.
  std::vector<structs::Service> ServicesOnNode(std::string_view node) const;
  std::vector<structs::Check> ChecksOnNode(std::string_view node) const;
  // The ids of one service instance's own checks on a node.
  std::vector<std::string> ServiceCheckIds(std::string_view node,
                                           std::string_view ns,
                                           std::string_view service_id) const;
  std::optional<structs::Service> GetService(std::string_view node,
                                             std::string_view ns,
                                             std::string_view service_id) const;
  std::optional<structs::Check> GetCheck(std::string_view node,
                                         std::string_view check_id) const;
  bool HasNode(std::string_view node) const;
  // One node's row alone (no copy of its services or checks: the write
  // paths look a node up once per registration).
  std::optional<structs::Node> GetNode(std::string_view node) const;
  // Every check (for rebuilding leader-side TTL and runner state).
  std::vector<structs::Check> AllChecks() const;
  // The checks (of any node) that have DeregisterCriticalServiceAfter set
  // and are critical: what the leader's reaper looks at, filtered under the
  // lock so that a large catalog is not copied every scan.
  std::vector<structs::Check> CriticalChecksWithDeregisterAfter() const;
  // This node's HTTP/TCP/script checks; `ws` gets a watch that fires only
  // when one of them is added, changed or removed.
  std::vector<structs::Check> ProbeChecksOnNode(std::string_view node,
                                                WatchSet* ws) const;

  // The highest raft_index any write has applied to the catalog.
  uint64_t MaxIndex() const;

  // ---- Snapshot: a deterministic, self-contained encoding of every row
  // and every index. Restore replaces the whole state and fires every
  // watch. ----
  std::string Snapshot() const;
  // Snapshot()'s bytes appended to `out`: for a caller assembling a larger
  // snapshot in one buffer (the FSM), without a copy of this part.
  void AppendSnapshot(std::string* out) const;
  // The size of the last snapshot taken (0 before the first): a capacity
  // hint for a caller assembling snapshots, since the state seldom changes
  // much between two.
  size_t LastSnapshotSize() const;
  Status Restore(std::string_view bytes);

  // Restore in two phases, for an owner of several stores (the FSM): decode
  // and verify every store's part first, then install them all, so that a
  // corrupt part changes nothing anywhere.
  class Decoded;
  static Result<Decoded> DecodeSnapshot(std::string_view bytes);
  void InstallSnapshot(Decoded decoded);

  struct Tables;  // Defined in store/catalog_tables.h (internal).

 private:
  mutable BatchMutex mu_;
  std::unique_ptr<Tables> t_ SIDER_GUARDED_BY(mu_);
  mutable std::atomic<size_t> last_snapshot_size_{0};
};

// A verified, decoded snapshot waiting to be installed. Move-only.
class CatalogStore::Decoded {
 public:
  Decoded(Decoded&&) noexcept;
  Decoded& operator=(Decoded&&) noexcept;
  ~Decoded();

  // For a whole-state restore applied at `raft_index` (fsm kRestore):
  // every row Create/ModifyIndex above raft_index is lowered to it (an
  // archive from a cluster further ahead), then every index a read reports
  // (tables, per node, per service, max) is set to raft_index. So reads
  // after the restore report raft_index, above anything seen before it,
  // and later writes keep every index growing. Deterministic.
  void Rebase(uint64_t raft_index);
  // Row counts, for archive headers.
  size_t nodes() const;
  size_t services() const;
  size_t checks() const;

 private:
  friend class CatalogStore;
  explicit Decoded(std::unique_ptr<Tables> tables);
  std::unique_ptr<Tables> tables_;
};

}  // namespace sider::store
