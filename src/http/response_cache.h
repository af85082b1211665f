// ResponseCache: already-serialized replies of hot reads, kept for as long
// as the data under them is unchanged.
//
// An entry holds the reply (X-Consul-Index included), its index and the
// WatchSet its query filled. The entry is valid exactly while none of
// those watches has fired: the store fires a watch after any write that
// can change the query's result, so a valid entry is byte-identical to
// what the query would produce now. No index probe and no TTL are needed,
// and a write never has to know which cache keys it invalidates.
//
// Keys are the request path plus its query parameters other than the
// blocking ones (index, wait), so `?passing&tag=a` and `?tag=a&passing`
// are different keys (harmless: two entries).
//
// Threading: every method is thread-safe. Lookup takes a shared lock on one
// of kShards shards; entries are immutable and shared.
// Memory: at most max_entries per shard; a full shard is cleared.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/mutex.h"
#include "http/http.h"
#include "store/watch.h"

namespace sider::http {

class ResponseCache {
 public:
  struct Entry {
    uint64_t index = 0;
    // The reply, X-Consul-Index included; every request it answers shares
    // it (http.h), so waking 10,000 parked queries copies no body.
    std::shared_ptr<const SharedReply> reply;
    store::WatchSet watches;
  };

  explicit ResponseCache(size_t max_entries_per_shard = 1024)
      : max_entries_(max_entries_per_shard) {}

  static std::string KeyFor(const Request& req);

  // The entry for `key` if none of its watches has fired, else null.
  std::shared_ptr<const Entry> Lookup(const std::string& key) const;
  void Store(const std::string& key, std::shared_ptr<const Entry> entry);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable Mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const Entry>> entries
        SIDER_GUARDED_BY(mu);
  };
  Shard& ShardFor(const std::string& key) const;

  const size_t max_entries_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace sider::http
