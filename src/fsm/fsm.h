// Fsm: the StateMachine consensus/ applies committed entries to. It decodes
// each entry (fsm/commands.h) and applies it to the stores; it snapshots and
// restores all of them as one framed, checksummed blob.
//
// Threading: Apply, Snapshot and Restore run on the consensus thread only
// (the stores' readers may run concurrently on io threads), except that
// consensus/ runs Snapshot on a worker thread while it holds Apply and
// Restore back (Snapshot only reads, under the stores' reader locks).
// Ownership: the stores are not owned and must outlive the Fsm.
// Determinism: Apply depends only on (raft_index, entry) and store state.
// A catalog write is followed, in the same Apply, by re-validating the
// sessions of the node it touched (KvStore::InvalidateNodeSessions), so a
// check turning critical or a deregistration releases or deletes the
// sessions' keys on every replica at the same raft_index.
// Errors: a command rejected by the store comes back in ApplyResult::status
// (identically on every replica). An entry that cannot be decoded, or of a
// type this build does not know, logs and aborts: skipping it would let
// replicas diverge. Restore returns kDataLoss for a corrupt snapshot, and
// then nothing has changed.
// Whole-state restore (kRestore, PUT /v1/snapshot): the entry carries a
// Snapshot(); Apply decodes every part first (a bad one answers kDataLoss
// and changes nothing, identically everywhere), rebases the decoded
// indexes on the entry's raft_index (store Decoded::Rebase: reads report
// raft_index afterwards, so indexes keep growing and every blocking query
// wakes with a larger index), then installs them, firing every watch.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fsm/commands.h"
#include "fsm/state_machine.h"
#include "store/catalog_store.h"
#include "store/kv_store.h"
#include "structs/kv.h"

namespace sider::fsm {

// The stores the FSM writes; not owned.
struct Stores {
  store::CatalogStore* catalog = nullptr;
  store::KvStore* kv = nullptr;  // KV tree and sessions.
};

// Told, on the consensus thread right after an Apply, which keys that
// entry's session invalidations gave up (never called with an empty list).
// For the leader's lock-delay: it must only record, never block, and it
// cannot affect the replicated state.
using ReleasedLocksObserver = std::function<void(
    uint64_t raft_index, const std::vector<structs::ReleasedLock>& released)>;

// Row counts per table of a snapshot (archive headers, `snapshot inspect`).
struct SnapshotSummary {
  uint64_t nodes = 0, services = 0, checks = 0;
  uint64_t kv_entries = 0, tombstones = 0, sessions = 0;
};

class Fsm final : public StateMachine {
 public:
  Fsm(store::CatalogStore& catalog, store::KvStore& kv);
  explicit Fsm(Stores stores);  // REQUIRES: every pointer is non-null.
  Fsm(const Fsm&) = delete;
  Fsm& operator=(const Fsm&) = delete;

  ApplyResult Apply(uint64_t raft_index, std::string_view command) override;
  // A kBatch entry (fsm/commands.h): its commands are applied inside both
  // stores' batch scope (store/batch_mutex.h).
  std::string PackBatch(const std::vector<std::string>& commands) override;
  std::string Snapshot() override;
  Status Restore(std::string_view bytes) override;

  // Set before the consensus thread starts applying (not synchronised).
  void SetReleasedLocksObserver(ReleasedLocksObserver observer);

  // A 64-bit FNV-1a hash of Snapshot(): equal on replicas that applied the
  // same log. Exact on the consensus thread; from another thread the
  // catalog and KV parts may be read either side of one Apply, so compare
  // hashes only once the replicas' applied indexes are equal and quiet.
  uint64_t StateHash();
  // FNV-1a 64 of `bytes` (StateHash() is StateHashOf(Snapshot())).
  static uint64_t StateHashOf(std::string_view bytes);

  // Decodes and verifies a Snapshot() completely (every part, every
  // reference) without installing it; kDataLoss if it is corrupt. Pure:
  // any thread.
  static Result<SnapshotSummary> Inspect(std::string_view snapshot);

 private:
  // Installs `bytes` (a Snapshot()) as a kRestore entry at raft_index.
  Status RestoreAt(uint64_t raft_index, std::string_view bytes);
  // Each command of a kBatch entry, in both stores' batch scope.
  std::vector<ApplyResult> ApplyBatch(
      uint64_t raft_index, const std::vector<std::string>& commands,
      std::vector<structs::ReleasedLock>* released);
  ApplyResult Dispatch(uint64_t raft_index, const Entry& entry,
                       std::vector<structs::ReleasedLock>* released);
  // Re-validates `node`'s sessions after a catalog write that touched it.
  void AfterCatalogWrite(uint64_t raft_index, std::string_view node,
                         std::vector<structs::ReleasedLock>* released);

  const Stores stores_;
  ReleasedLocksObserver released_observer_;
};

}  // namespace sider::fsm
