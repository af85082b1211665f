// The read path shared by every query endpoint: Consul's query parameters
// (?index, ?wait, ?stale, ?consistent, ?ns), the blocking-query loop, and
// X-Consul-Index on every reply.
//
// Consul's contract, matched: a request blocks only when index > 0; it is
// answered as soon as the result's index is greater than the client's, or
// when wait (default 5m, at most 10m, plus a random jitter of up to
// wait/16 so that many clients do not return at once) runs out. The index
// reported is never 0.
//
// Threading: ServeRead may be called on any io thread; `query` runs on io
// threads (possibly several times) and must only read the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "http/api.h"
#include "http/http.h"
#include "http/response_cache.h"
#include "server/blocking_query.h"
#include "store/indexed.h"
#include "store/watch.h"

namespace sider::http {

struct ReadParams {
  uint64_t index = 0;
  std::chrono::nanoseconds wait{};  // Already clamped, jitter added.
  bool stale = false;
  bool consistent = false;
  std::string ns{"default"};
};

Result<ReadParams> ParseReadParams(const Request& req);

// The namespace a request names (?ns=, default "default").
std::string RequestNamespace(const Request& req);

void SetIndexHeader(Response& r, uint64_t index);
// Sets X-Consul-Index to `index` unless the reply already has one: every
// reply, 404s from the router included, carries an index.
void EnsureIndexHeader(Response& r, uint64_t index);
// As above, computing the index only when the header is missing (most
// replies already carry it, and `index` may take store locks).
void EnsureIndexHeader(Response& r, const std::function<uint64_t()>& index);

// A cache entry's watches, sharing the entry's lifetime.
inline std::shared_ptr<const store::WatchSet> WatchesOf(
    std::shared_ptr<const ResponseCache::Entry> entry) {
  const store::WatchSet* watches = &entry->watches;
  return {std::move(entry), watches};
}

// Runs `query`, blocking per `req`'s parameters, and answers with
// encode(result) plus X-Consul-Index.
template <typename T>
void ServeRead(const ApiDeps& deps, const Request& req, Responder respond,
               std::function<store::Indexed<T>(store::WatchSet*)> query,
               std::function<Response(const T&)> encode) {
  auto params = ParseReadParams(req);
  if (!params.ok()) {
    respond(ErrorResponse(params.status()));
    return;
  }
  // Every run — the first, and each re-run of a woken blocking query —
  // goes through the ResponseCache: while none of the watches under a
  // cached reply has fired, the data is unchanged and the serialized reply
  // is reused. So one change that wakes 10,000 parked queries costs one
  // query and one encoding, not 10,000.
  using EntryPtr = std::shared_ptr<const ResponseCache::Entry>;
  ResponseCache* cache = deps.response_cache;
  std::string key = cache != nullptr ? ResponseCache::KeyFor(req) : "";
  auto produce = [cache, key = std::move(key), query = std::move(query),
                  encode = std::move(encode)](
                     store::WatchSet* ws) -> store::Indexed<EntryPtr> {
    if (cache != nullptr) {
      if (EntryPtr hit = cache->Lookup(key)) {
        if (ws != nullptr) ws->AddShared(WatchesOf(hit));
        return {hit->index, hit};
      }
    }
    auto entry = std::make_shared<ResponseCache::Entry>();
    store::Indexed<T> result = query(&entry->watches);
    entry->index = result.index == 0 ? 1 : result.index;
    Response response = encode(result.value);
    SetIndexHeader(response, entry->index);
    entry->reply = std::make_shared<const SharedReply>(std::move(response));
    if (ws != nullptr) ws->AddShared(WatchesOf(entry));
    // A read that registered no watch could never be invalidated.
    if (cache != nullptr && !entry->watches.empty()) cache->Store(key, entry);
    return {entry->index, std::move(entry)};
  };
  // The entry's reply as is: its index is the one delivered (the engine
  // clamps only 0, which the entry already has).
  auto finish = [respond = std::move(respond)](store::Indexed<EntryPtr> r) {
    Response reply;
    reply.shared = r.value->reply;
    respond(std::move(reply));
  };
  if (params->index == 0) {
    finish(produce(nullptr));
    return;
  }
  server::BlockingQuery<EntryPtr>::Start(
      deps.executor, deps.clock, params->index, deps.clock.Now() + params->wait,
      std::move(produce), std::move(finish), req.strand);
}

}  // namespace sider::http
