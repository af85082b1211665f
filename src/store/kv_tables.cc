// Row mutations and the KV operations of Consul's state store (kvs.go),
// over KvStore::Tables. Callers hold KvStore::mu_ exclusively.
#include "store/kv_tables.h"

#include <utility>

namespace sider::store::internal {
namespace {

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void Record(const KvTables& t, std::string_view key, KvUndo* undo) {
  if (undo == nullptr) return;
  KvUndo::Row row;
  row.key = std::string(key);
  if (auto it = t.kvs.find(key); it != t.kvs.end()) row.entry = it->second;
  if (auto it = t.tombstones.find(key); it != t.tombstones.end()) {
    row.tombstone = it->second;
  }
  undo->rows.push_back(std::move(row));
}

void UnindexHolder(KvTables& t, const structs::KvEntry& e) {
  if (e.session.empty()) return;
  auto it = t.keys_by_session.find(e.session);
  if (it == t.keys_by_session.end()) return;
  it->second.erase(e.key);
  if (it->second.empty()) t.keys_by_session.erase(it);
}

// Installs or removes a row without recording anything.
void SetRowRaw(KvTables& t, const std::string& key,
               std::optional<structs::KvEntry> entry) {
  if (auto it = t.kvs.find(key); it != t.kvs.end()) {
    UnindexHolder(t, it->second);
    t.kvs.erase(it);
  }
  if (!entry) return;
  if (!entry->session.empty()) t.keys_by_session[entry->session].insert(key);
  t.kvs.emplace(key, std::move(*entry));
}

const structs::KvEntry* Find(const KvTables& t, std::string_view key) {
  auto it = t.kvs.find(key);
  return it == t.kvs.end() ? nullptr : &it->second;
}

// Consul's DirEntry.Equal: what a write can change.
bool SameContent(const structs::KvEntry& a, const structs::KvEntry& b) {
  return a.value == b.value && a.flags == b.flags && a.session == b.session &&
         a.lock_index == b.lock_index;
}

}  // namespace

void PutRow(KvTables& t, structs::KvEntry entry, KvChanges* ch, KvUndo* undo) {
  Record(t, entry.key, undo);
  t.tombstones.erase(entry.key);
  ch->keys.insert(entry.key);
  const std::string key = entry.key;
  SetRowRaw(t, key, std::move(entry));
}

void EraseRow(KvTables& t, std::string_view key, uint64_t raft_index,
              KvChanges* ch, KvUndo* undo) {
  Record(t, key, undo);
  const std::string k(key);
  SetRowRaw(t, k, std::nullopt);
  t.tombstones[k] = raft_index;
  ch->keys.insert(k);
}

void Rollback(KvTables& t, KvUndo* undo) {
  for (auto it = undo->rows.rbegin(); it != undo->rows.rend(); ++it) {
    SetRowRaw(t, it->key, std::move(it->entry));
    if (it->tombstone) {
      t.tombstones[it->key] = *it->tombstone;
    } else {
      t.tombstones.erase(it->key);
    }
  }
  undo->rows.clear();
}

bool KvSet(KvTables& t, uint64_t raft_index, structs::KvEntry in,
           bool update_session, KvChanges* ch, KvUndo* undo,
           structs::KvEntry* out) {
  const structs::KvEntry* existing = Find(t, in.key);
  in.create_index = existing ? existing->create_index : raft_index;
  in.lock_index = existing ? existing->lock_index : 0;
  if (!update_session) in.session = existing ? existing->session : "";
  if (existing != nullptr && SameContent(*existing, in)) {
    // Consul skips a write that changes nothing (no index bump, no wake).
    if (out != nullptr) *out = *existing;
    return true;
  }
  in.modify_index = raft_index;
  if (out != nullptr) *out = in;
  PutRow(t, std::move(in), ch, undo);
  return true;
}

bool KvCas(KvTables& t, uint64_t raft_index, structs::KvEntry in,
           KvChanges* ch, KvUndo* undo, structs::KvEntry* out) {
  const structs::KvEntry* existing = Find(t, in.key);
  // Index 0: create only. Otherwise the key must exist at that index.
  if (in.modify_index == 0 && existing != nullptr) return false;
  if (in.modify_index != 0 &&
      (existing == nullptr || existing->modify_index != in.modify_index)) {
    return false;
  }
  in.lock_index = 0;
  return KvSet(t, raft_index, std::move(in), false, ch, undo, out);
}

Result<bool> KvLock(KvTables& t, uint64_t raft_index, structs::KvEntry in,
                    KvChanges* ch, KvUndo* undo, structs::KvEntry* out) {
  if (in.session.empty()) {
    return Status(Code::kInvalidArgument, "Missing session");
  }
  if (!t.sessions.contains(in.session)) {
    // Go's %#v of a string: the ID in double quotes.
    return Status(Code::kInvalidArgument,
                  "Invalid session \"" + in.session + "\"");
  }
  const structs::KvEntry* existing = Find(t, in.key);
  if (existing == nullptr) {
    in.lock_index = 1;
  } else if (existing->session == in.session) {
    in.lock_index = existing->lock_index;  // Already ours: no new acquire.
  } else if (!existing->session.empty()) {
    return false;
  } else {
    in.lock_index = existing->lock_index + 1;
  }
  // KvSet keeps an existing row's LockIndex; hand it the new one.
  in.create_index = existing ? existing->create_index : raft_index;
  in.modify_index = raft_index;
  if (existing != nullptr && SameContent(*existing, in)) {
    if (out != nullptr) *out = *existing;
    return true;
  }
  if (out != nullptr) *out = in;
  PutRow(t, std::move(in), ch, undo);
  return true;
}

Result<bool> KvUnlock(KvTables& t, uint64_t raft_index, structs::KvEntry in,
                      KvChanges* ch, KvUndo* undo, structs::KvEntry* out) {
  if (in.session.empty()) {
    return Status(Code::kInvalidArgument, "Missing session");
  }
  const structs::KvEntry* existing = Find(t, in.key);
  if (existing == nullptr || existing->session != in.session) return false;
  in.session.clear();
  return KvSet(t, raft_index, std::move(in), true, ch, undo, out);
}

void KvDelete(KvTables& t, uint64_t raft_index, std::string_view key,
              KvChanges* ch, KvUndo* undo) {
  if (Find(t, key) == nullptr) return;  // Nothing changes, no index bump.
  EraseRow(t, key, raft_index, ch, undo);
}

bool KvDeleteCas(KvTables& t, uint64_t raft_index, std::string_view key,
                 uint64_t cas_index, KvChanges* ch, KvUndo* undo) {
  const structs::KvEntry* existing = Find(t, key);
  // As in Consul: a missing key "succeeds" (there is nothing to delete).
  if (existing == nullptr) return true;
  if (existing->modify_index != cas_index) return false;
  EraseRow(t, key, raft_index, ch, undo);
  return true;
}

void KvDeleteTree(KvTables& t, uint64_t raft_index, std::string_view prefix,
                  KvChanges* ch, KvUndo* undo) {
  std::vector<std::string> doomed;
  for (auto it = t.kvs.lower_bound(prefix);
       it != t.kvs.end() && HasPrefix(it->first, prefix); ++it) {
    doomed.push_back(it->first);
  }
  for (const std::string& key : doomed) {
    EraseRow(t, key, raft_index, ch, undo);
  }
}

void InvalidateSession(KvTables& t, uint64_t raft_index, const std::string& id,
                       KvChanges* ch,
                       std::vector<structs::ReleasedLock>* released) {
  auto s = t.sessions.find(id);
  const structs::Session session = s->second;
  std::set<std::string> held;
  if (auto k = t.keys_by_session.find(id); k != t.keys_by_session.end()) {
    held = k->second;  // A copy: the rows below edit the index.
  }
  for (const std::string& key : held) {
    if (session.behavior == structs::SessionBehavior::kDelete) {
      EraseRow(t, key, raft_index, ch, nullptr);
    } else {
      // Consul's release on invalidation: session cleared, ModifyIndex
      // bumped, value, flags and LockIndex kept.
      structs::KvEntry e = t.kvs.find(key)->second;
      e.session.clear();
      e.modify_index = raft_index;
      PutRow(t, std::move(e), ch, nullptr);
    }
    released->push_back({.key = key,
                          .session = id,
                          .lock_delay_ns = session.lock_delay_ns});
  }
  if (auto n = t.sessions_by_node.find(session.node);
      n != t.sessions_by_node.end()) {
    n->second.erase(id);
    if (n->second.empty()) t.sessions_by_node.erase(n);
  }
  t.sessions.erase(s);
  ch->sessions = true;
}

void CommitIndexes(KvTables& t, uint64_t raft_index, const KvChanges& ch) {
  if (!ch.keys.empty()) t.kv_index = raft_index;
  if (ch.sessions) t.sessions_index = raft_index;
  if (ch.any()) t.max_index = raft_index;
}

namespace {
void Take(std::map<std::string, WatchPtr, std::less<>>& m,
          std::string_view key, std::vector<WatchPtr>* fired) {
  auto it = m.find(key);
  if (it == m.end()) return;
  fired->push_back(std::move(it->second));
  m.erase(it);
}
}  // namespace

void CollectWatches(KvWatches& w, const KvChanges& ch,
                    std::vector<WatchPtr>* fired) {
  for (const std::string& key : ch.keys) {
    Take(w.keys, key, fired);
    if (w.prefixes.empty()) continue;
    // Every prefix of the key, "" included: O(key length) lookups whatever
    // the number of watchers.
    for (size_t len = 0; len <= key.size(); ++len) {
      Take(w.prefixes, std::string_view(key).substr(0, len), fired);
    }
  }
  if (ch.sessions) {
    fired->push_back(std::exchange(w.sessions, std::make_shared<Watch>()));
  }
}

void CollectAllWatches(KvWatches& w, std::vector<WatchPtr>* fired) {
  for (auto& [k, watch] : w.keys) fired->push_back(std::move(watch));
  for (auto& [k, watch] : w.prefixes) fired->push_back(std::move(watch));
  w.keys.clear();
  w.prefixes.clear();
  fired->push_back(std::exchange(w.sessions, std::make_shared<Watch>()));
}

void RebuildDerived(KvTables& t) {
  t.sessions_by_node.clear();
  t.keys_by_session.clear();
  for (const auto& [id, s] : t.sessions) t.sessions_by_node[s.node].insert(id);
  for (const auto& [key, e] : t.kvs) {
    if (!e.session.empty()) t.keys_by_session[e.session].insert(key);
  }
}

}  // namespace sider::store::internal
