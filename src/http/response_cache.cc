#include "http/response_cache.h"

#include <functional>

namespace sider::http {

std::string ResponseCache::KeyFor(const Request& req) {
  std::string key = req.path;
  for (const auto& [k, v] : req.query) {
    if (k == "index" || k == "wait") continue;
    key.push_back('\0');
    key.append(k);
    key.push_back('=');
    key.append(v);
  }
  return key;
}

ResponseCache::Shard& ResponseCache::ShardFor(const std::string& key) const {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::shared_ptr<const ResponseCache::Entry> ResponseCache::Lookup(
    const std::string& key) const {
  std::shared_ptr<const Entry> entry;
  {
    Shard& shard = ShardFor(key);
    ReaderLock lock(&shard.mu);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) return nullptr;
    entry = it->second;
  }
  if (entry->watches.AnyFired()) return nullptr;
  return entry;
}

void ResponseCache::Store(const std::string& key,
                          std::shared_ptr<const Entry> entry) {
  Shard& shard = ShardFor(key);
  WriterLock lock(&shard.mu);
  if (shard.entries.size() >= max_entries_ && !shard.entries.count(key)) {
    shard.entries.clear();
  }
  shard.entries[key] = std::move(entry);
}

}  // namespace sider::http
