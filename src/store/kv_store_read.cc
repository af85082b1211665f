// KvStore reads: copies out under the reader lock, registering the key or
// prefix Watch in the same critical section, so a write after the read
// always fires a Watch the reader holds.
#include <algorithm>

#include "store/kv_store.h"
#include "store/kv_tables.h"

namespace sider::store {
namespace {

uint64_t AtLeastOne(uint64_t index) { return index == 0 ? 1 : index; }

// A read's index: never below the last whole-state restore's raft_index.
uint64_t Reported(const KvStore::Tables& t, uint64_t index) {
  return AtLeastOne(std::max(index, t.restore_floor));
}

WatchPtr WatchFor(std::map<std::string, WatchPtr, std::less<>>& m,
                  std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) {
    it = m.emplace(std::string(key), std::make_shared<Watch>()).first;
  }
  return it->second;
}

// Consul's kvsListTxn index: the prefix's rows and tombstones, else the
// table's.
uint64_t PrefixIndex(const KvStore::Tables& t, std::string_view prefix,
                     uint64_t rows_max) {
  if (prefix.empty()) return t.kv_index;
  uint64_t idx = rows_max;
  for (auto it = t.tombstones.lower_bound(prefix);
       it != t.tombstones.end() && it->first.starts_with(prefix); ++it) {
    idx = std::max(idx, it->second);
  }
  if (idx == 0) return t.kv_index;
  return std::max(idx, t.reaped_floor);
}

}  // namespace

Indexed<std::optional<structs::KvEntry>> KvStore::Get(std::string_view key,
                                                      WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::optional<structs::KvEntry>> out;
  if (auto it = t_->kvs.find(key); it != t_->kvs.end()) {
    out.value = it->second;
    out.index = it->second.modify_index;
  } else {
    out.index = t_->kv_index;
  }
  out.index = Reported(*t_, out.index);
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(WatchFor(w_->keys, key));
  }
  return out;
}

Indexed<std::vector<structs::KvEntry>> KvStore::List(std::string_view prefix,
                                                     WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::KvEntry>> out;
  uint64_t rows_max = 0;
  for (auto it = t_->kvs.lower_bound(prefix);
       it != t_->kvs.end() && it->first.starts_with(prefix); ++it) {
    out.value.push_back(it->second);
    rows_max = std::max(rows_max, it->second.modify_index);
  }
  out.index = Reported(*t_, PrefixIndex(*t_, prefix, rows_max));
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(WatchFor(w_->prefixes, prefix));
  }
  return out;
}

Indexed<std::vector<std::string>> KvStore::Keys(std::string_view prefix,
                                                std::string_view separator,
                                                WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<std::string>> out;
  uint64_t rows_max = 0;
  for (auto it = t_->kvs.lower_bound(prefix);
       it != t_->kvs.end() && it->first.starts_with(prefix); ++it) {
    const std::string& key = it->first;
    rows_max = std::max(rows_max, it->second.modify_index);
    size_t cut = std::string::npos;
    if (!separator.empty()) cut = key.find(separator, prefix.size());
    if (cut == std::string::npos) {
      out.value.push_back(key);
      continue;
    }
    // Keys sharing a "folder" are adjacent in key order.
    std::string folder = key.substr(0, cut + separator.size());
    if (out.value.empty() || out.value.back() != folder) {
      out.value.push_back(std::move(folder));
    }
  }
  out.index = Reported(*t_, PrefixIndex(*t_, prefix, rows_max));
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(WatchFor(w_->prefixes, prefix));
  }
  return out;
}

Indexed<std::optional<structs::Session>> KvStore::SessionGet(
    std::string_view id, WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::optional<structs::Session>> out;
  if (auto it = t_->sessions.find(id); it != t_->sessions.end()) {
    out.value = it->second;
  }
  out.index = Reported(*t_, t_->sessions_index);
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(w_->sessions);
  }
  return out;
}

Indexed<std::vector<structs::Session>> KvStore::SessionList(
    WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Session>> out;
  for (const auto& [id, s] : t_->sessions) out.value.push_back(s);
  out.index = Reported(*t_, t_->sessions_index);
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(w_->sessions);
  }
  return out;
}

Indexed<std::vector<structs::Session>> KvStore::NodeSessions(
    std::string_view node, WatchSet* ws) const {
  ReaderLock lock(&mu_);
  Indexed<std::vector<structs::Session>> out;
  if (auto n = t_->sessions_by_node.find(node);
      n != t_->sessions_by_node.end()) {
    for (const std::string& id : n->second) {
      out.value.push_back(t_->sessions.find(id)->second);
    }
  }
  out.index = Reported(*t_, t_->sessions_index);
  if (ws != nullptr) {
    WriterLock wlock(&watch_mu_);
    ws->Add(w_->sessions);
  }
  return out;
}

uint64_t KvStore::KvIndex() const {
  ReaderLock lock(&mu_);
  return t_->kv_index;
}

uint64_t KvStore::SessionsIndex() const {
  ReaderLock lock(&mu_);
  return t_->sessions_index;
}

uint64_t KvStore::MaxIndex() const {
  ReaderLock lock(&mu_);
  return t_->max_index;
}

size_t KvStore::TombstoneCount() const {
  ReaderLock lock(&mu_);
  return t_->tombstones.size();
}

}  // namespace sider::store
