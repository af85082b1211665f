// KvStore: the KV tree and the sessions that lock its keys (Consul's kvs,
// tombstones and sessions tables). Sessions live here, not in a store of
// their own, because invalidating one must release or delete its keys in
// the same write. It knows nothing of HTTP or Raft: every mutation takes
// the raft_index that produced it.
//
// Threading: one writer (the consensus thread, through the FSM), many
// readers (io threads). A reader-writer lock guards the tables; writers
// fire the Watches they invalidated only after releasing it. Reads copy
// out. Methods that take a `const CatalogStore&` read the catalog before
// taking this store's lock (the two locks are never nested), which is
// consistent because only the consensus thread writes either store.
//
// Errors: writes validate everything before the first mutation and change
// nothing on error: kInvalidArgument for a bad key, a missing or unknown
// session, a bad session create (Consul's texts: "Missing node
// registration", "Missing check 'x' registration", "Check 'x' is in
// critical state"); kTooLarge for a value over 512 KiB or a transaction
// over 64 operations. A CAS that loses, or a lock held by another session,
// is not an error: the write returns false and changes nothing.
//
// Consul semantics matched (state/kvs.go, session.go, txn.go):
//  * set keeps the current lock holder and LockIndex; a write that leaves
//    the entry equal to what is there (value, flags, session) changes
//    nothing and bumps no index, but still answers true;
//  * cas with index 0 creates only if absent; otherwise the key must exist
//    with that ModifyIndex;
//  * lock by the holder updates value/flags without bumping LockIndex; by
//    another session while held answers false; else LockIndex+1 and the
//    session is set. Unlock only by the holder; it clears the session.
//    Both replace value and flags with the request's;
//  * delete of a missing key changes nothing; delete-cas of a missing key
//    answers true; delete-tree deletes every key with the prefix;
//  * a session is invalidated (destroy, or the catalog losing its node or
//    one of its checks, or a check turning critical or maintenance) by
//    releasing (behavior release: session cleared, ModifyIndex bumped,
//    LockIndex kept) or deleting (behavior delete) exactly the keys it
//    holds, in the same write.
//
// Indexes and watches (what a blocking query sees):
//  * Get(key): the key's ModifyIndex; the KV table index when missing.
//    Watches that one key (fires on its creation, change or deletion).
//  * List / Keys (prefix): the max ModifyIndex over the prefix's keys and
//    its tombstones (deleted keys remember their deleting index), and at
//    least the reaped-tombstone floor; the KV table index when the prefix
//    is empty or nothing matches. Watches the prefix: any write to a key
//    starting with it fires, deletes included; other writes do not. Cost
//    per write is O(key length) map lookups, not O(watchers).
//  * Session reads: the sessions table index; they watch the sessions
//    table.
//
// Invariants: every index only grows, deletes and restores included
// (tombstones keep a deleted key's index; reaping tombstones raises a
// floor instead of letting a prefix index fall back). Every live session's
// node exists and its checks exist and are not critical (session create
// checks it; InvalidateNodeSessions restores it after catalog writes).
// Every key's session, when set, names a live session. Restore() installs
// the snapshot's indexes exactly.
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
#include "structs/kv.h"

namespace sider::store {

class CatalogStore;

class KvStore {
 public:
  KvStore();
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // ---- Writes: consensus thread only, raft_index strictly increasing. ----

  // A /v1/kv PUT or DELETE: true/false as Consul answers it.
  Result<bool> Apply(uint64_t raft_index, const structs::KvCommand& cmd);

  // /v1/txn: all or nothing. A non-OK Status means the transaction was
  // malformed (too many ops, a bad key, an oversized value) and nothing was
  // looked at. Otherwise the TxnResult holds either the results or the
  // errors (every failing op, with Consul's What texts, as Consul collects
  // them all); with errors, nothing changed.
  Result<structs::TxnResult> Txn(uint64_t raft_index,
                                 const std::vector<structs::TxnKvOp>& ops);

  // Creates `session` (its id chosen by the proposer; kInvalidArgument if
  // taken or empty). The node and every check must exist in `catalog` and
  // no check may be critical.
  Status SessionCreate(uint64_t raft_index, const structs::Session& session,
                       const CatalogStore& catalog);
  // Invalidates the session: releases or deletes its keys. Unknown id: a
  // no-op (as in Consul). Returns the keys given up.
  std::vector<structs::ReleasedLock> SessionDestroy(uint64_t raft_index,
                                                    std::string_view id);
  // Called after every catalog write touching `node`: invalidates each of
  // the node's sessions whose node or checks are gone or whose checks are
  // critical now. Returns the keys given up (empty almost always).
  std::vector<structs::ReleasedLock> InvalidateNodeSessions(
      uint64_t raft_index, std::string_view node, const CatalogStore& catalog);

  // Forgets tombstones with index <= up_to_index (leader-driven GC, like
  // Consul's tombstone reaping). Prefix indexes never fall back: they stay
  // at least the highest reaped index.
  void ReapTombstones(uint64_t raft_index, uint64_t up_to_index);

  // ---- Batch scope (consensus thread, see store/batch_mutex.h): the
  // writes between BeginBatch() and EndBatch() become visible to readers
  // all at once, and fire their watches at EndBatch(). Never nested. ----
  void BeginBatch() { mu_.BeginBatch(); }
  void EndBatch() { mu_.EndBatch(); }

  // ---- Reads: any thread. `ws` may be null. ----
  Indexed<std::optional<structs::KvEntry>> Get(std::string_view key,
                                               WatchSet* ws) const;
  // ?recurse: every key starting with `prefix`, sorted.
  Indexed<std::vector<structs::KvEntry>> List(std::string_view prefix,
                                              WatchSet* ws) const;
  // ?keys: key names starting with `prefix`; with a non-empty separator a
  // key is cut after the first separator following the prefix, and
  // duplicates are merged (Consul's "folders"). Sorted.
  Indexed<std::vector<std::string>> Keys(std::string_view prefix,
                                         std::string_view separator,
                                         WatchSet* ws) const;

  Indexed<std::optional<structs::Session>> SessionGet(std::string_view id,
                                                      WatchSet* ws) const;
  Indexed<std::vector<structs::Session>> SessionList(WatchSet* ws) const;
  Indexed<std::vector<structs::Session>> NodeSessions(std::string_view node,
                                                      WatchSet* ws) const;

  uint64_t KvIndex() const;        // KV table (writes and deletes).
  uint64_t SessionsIndex() const;  // Sessions table.
  uint64_t MaxIndex() const;       // Highest raft_index applied here.
  size_t TombstoneCount() const;   // For tests and metrics.

  // ---- Snapshot: deterministic bytes for every key, tombstone, session
  // and index. Restore replaces the whole state and fires every watch. ----
  std::string Snapshot() const;
  // Snapshot()'s bytes appended to `out`: for a caller assembling a larger
  // snapshot in one buffer (the FSM), without a copy of this part.
  void AppendSnapshot(std::string* out) const;
  // The size of the last snapshot taken (0 before the first): a capacity
  // hint for a caller assembling snapshots, since the state seldom changes
  // much between two.
  size_t LastSnapshotSize() const;
  Status Restore(std::string_view bytes);

  // Two-phase restore for the FSM (see CatalogStore::DecodeSnapshot).
  class Decoded;
  static Result<Decoded> DecodeSnapshot(std::string_view bytes);
  void InstallSnapshot(Decoded decoded);

  struct Tables;   // Defined in store/kv_tables.h (internal).
  struct Watches;  // Likewise.

 private:
  mutable BatchMutex mu_;
  std::unique_ptr<Tables> t_ SIDER_GUARDED_BY(mu_);
  mutable std::atomic<size_t> last_snapshot_size_{0};
  // Readers register key and prefix watches while holding mu_ shared, so
  // the registry has its own lock, always taken after mu_. A writer
  // collects (and removes) the watches it fires under both.
  mutable Mutex watch_mu_;
  std::unique_ptr<Watches> w_ SIDER_GUARDED_BY(watch_mu_);
};

class KvStore::Decoded {
 public:
  Decoded(Decoded&&) noexcept;
  Decoded& operator=(Decoded&&) noexcept;
  ~Decoded();

  // For a whole-state restore applied at `raft_index` (see
  // CatalogStore::Decoded::Rebase): row, session and tombstone indexes
  // above raft_index are lowered to it; the table indexes become
  // raft_index, and every read reports at least raft_index from then on
  // (a floor kept in the snapshot). ModifyIndex values of restored keys
  // are otherwise kept, so CAS with them still works.
  void Rebase(uint64_t raft_index);
  // Row counts, for archive headers.
  size_t entries() const;
  size_t tombstones() const;
  size_t sessions() const;

 private:
  friend class KvStore;
  explicit Decoded(std::unique_ptr<Tables> tables);
  std::unique_ptr<Tables> tables_;
};

}  // namespace sider::store
