// KvStore's tables, watch registry and the row-level mutations under its
// public writes. Internal to store/: include only from kv_*.cc.
//
// Every mutation goes through PutRow / EraseRow, which keep the derived
// keys-by-session index right, record what they touched (for index bumps
// and watches) and, when given an undo log, what was there before (so a
// failed transaction can be rolled back exactly).
//
// Threading: the functions on Tables require KvStore::mu_ held
// exclusively; those on Watches require KvStore::watch_mu_. The callers
// hold them; these free functions cannot say so to the analysis, which is
// why they stay internal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/kv_store.h"
#include "store/watch.h"
#include "structs/kv.h"

namespace sider::store {

struct KvStore::Tables {
  std::map<std::string, structs::KvEntry, std::less<>> kvs;
  // Deleted keys -> the raft_index that deleted them (Consul's graveyard),
  // so a prefix's index counts its deletes. Dropped when the key is
  // written again (its new ModifyIndex is higher) or reaped.
  std::map<std::string, uint64_t, std::less<>> tombstones;
  uint64_t reaped_floor = 0;  // Highest index of a reaped tombstone.
  std::map<std::string, structs::Session, std::less<>> sessions;
  // Derived (rebuilt on restore, not snapshotted).
  std::map<std::string, std::set<std::string>, std::less<>> sessions_by_node;
  std::map<std::string, std::set<std::string>, std::less<>> keys_by_session;
  uint64_t kv_index = 0;
  uint64_t sessions_index = 0;
  uint64_t max_index = 0;
  // Raft index of the last whole-state restore (Decoded::Rebase); every
  // read reports at least this.
  uint64_t restore_floor = 0;
};

struct KvStore::Watches {
  // Created on demand by readers; removed when fired (the next reader
  // installs a fresh one).
  std::map<std::string, WatchPtr, std::less<>> keys;
  std::map<std::string, WatchPtr, std::less<>> prefixes;
  WatchPtr sessions = std::make_shared<Watch>();
};

}  // namespace sider::store

namespace sider::store::internal {

using KvTables = KvStore::Tables;
using KvWatches = KvStore::Watches;

// What one write touched.
struct KvChanges {
  std::set<std::string> keys;  // Written or deleted.
  bool sessions = false;       // A session was created or removed.
  bool any() const { return !keys.empty() || sessions; }
};

// Prior states, for rolling a failed transaction back.
struct KvUndo {
  struct Row {
    std::string key;
    std::optional<structs::KvEntry> entry;
    std::optional<uint64_t> tombstone;
  };
  std::vector<Row> rows;
};

// Installs `entry` (its indexes already set) under entry.key.
void PutRow(KvTables& t, structs::KvEntry entry, KvChanges* ch, KvUndo* undo);
// Deletes `key` (which must exist), leaving a tombstone at raft_index.
void EraseRow(KvTables& t, std::string_view key, uint64_t raft_index,
              KvChanges* ch, KvUndo* undo);
// Puts every recorded row back as it was, newest first.
void Rollback(KvTables& t, KvUndo* undo);

// The operations Consul's state store runs for /v1/kv and /v1/txn. Each
// returns whether it took effect (false: a CAS or lock that lost), or an
// error (as a TxnError's What text). `out`, when non-null, receives the
// resulting entry (Consul returns it from txn writes).
bool KvSet(KvTables& t, uint64_t raft_index, structs::KvEntry in,
           bool update_session, KvChanges* ch, KvUndo* undo,
           structs::KvEntry* out);
bool KvCas(KvTables& t, uint64_t raft_index, structs::KvEntry in,
           KvChanges* ch, KvUndo* undo, structs::KvEntry* out);
Result<bool> KvLock(KvTables& t, uint64_t raft_index, structs::KvEntry in,
                    KvChanges* ch, KvUndo* undo, structs::KvEntry* out);
Result<bool> KvUnlock(KvTables& t, uint64_t raft_index, structs::KvEntry in,
                      KvChanges* ch, KvUndo* undo, structs::KvEntry* out);
void KvDelete(KvTables& t, uint64_t raft_index, std::string_view key,
              KvChanges* ch, KvUndo* undo);
bool KvDeleteCas(KvTables& t, uint64_t raft_index, std::string_view key,
                 uint64_t cas_index, KvChanges* ch, KvUndo* undo);
void KvDeleteTree(KvTables& t, uint64_t raft_index, std::string_view prefix,
                  KvChanges* ch, KvUndo* undo);

// Removes session `id` (which must exist), releasing or deleting its keys.
void InvalidateSession(KvTables& t, uint64_t raft_index, const std::string& id,
                       KvChanges* ch,
                       std::vector<structs::ReleasedLock>* released);

// Bumps the touched table indexes to raft_index.
void CommitIndexes(KvTables& t, uint64_t raft_index, const KvChanges& ch);
// Removes the watches `ch` fires from the registry into `fired`: each
// touched key's own watch and the watch of every prefix of it.
void CollectWatches(KvWatches& w, const KvChanges& ch,
                    std::vector<WatchPtr>* fired);
// Every watch in the registry (for restore).
void CollectAllWatches(KvWatches& w, std::vector<WatchPtr>* fired);

// Rebuilds the derived indexes from kvs and sessions.
void RebuildDerived(KvTables& t);

}  // namespace sider::store::internal
