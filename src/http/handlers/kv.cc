// /v1/kv/<key>: reads straight from store::KvStore through the blocking
// read path; writes through server::KvService.
//
// Consul's behaviour, matched:
//  * ?recurse, ?keys and ?raw are presence flags: "?recurse",
//    "?recurse=1", even "?recurse=false" all recurse (Consul tests only
//    that the parameter exists; python-consul sends "recurse=1" and
//    "keys=True").
//  * A missing key, or a ?recurse / non-root ?keys that matches nothing,
//    is a 404 with an empty body and X-Consul-Index (clients block on it).
//  * PUT and DELETE answer `true` / `false` (a lost CAS or a held lock is
//    false, not an error). With several of ?cas, ?acquire, ?release the
//    last one in Consul's order (cas, acquire, release) wins.
//  * ?raw answers the bytes themselves (Content-Type text/plain, with
//    nosniff, as Consul does since it stopped echoing arbitrary types).
#include <charconv>
#include <string>
#include <utility>

#include "http/api.h"
#include "http/handlers/common.h"
#include "http/handlers/kv_json.h"
#include "http/read.h"
#include "server/kv_service.h"
#include "store/kv_store.h"
#include "structs/kv.h"

namespace sider::http::handlers {
namespace {

using structs::KvEntry;
using structs::KvOp;

Result<uint64_t> ParseUintParam(const Request& req, std::string_view name,
                                std::string_view what) {
  const std::string v = req.Get(name).value_or("");
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
    return Status(Code::kInvalidArgument,
                  "Invalid " + std::string(what) + ": \"" + v + "\"");
  }
  return out;
}

Response MissingKey() {
  return ErrorResponse(Status(Code::kInvalidArgument, "Missing key name"));
}

Response NotFound() {
  Response r = JsonResponse("", 404);
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

void Get(const ApiDeps& deps, Request req, Responder respond) {
  std::string key(req.Param());
  const ApiDeps* d = &deps;
  if (req.Has("keys")) {
    if (Status s = structs::ValidateKvPrefix(key); !s.ok()) {
      respond(ErrorResponse(s));
      return;
    }
    std::string sep = req.Get("separator").value_or("");
    const bool root = key.empty();
    ServeRead<std::vector<std::string>>(
        deps, req, std::move(respond),
        [d, key, sep](store::WatchSet* ws) { return d->kv.Keys(key, sep, ws); },
        [root](const std::vector<std::string>& keys) {
          // Consul: no 404 for the root, which always "exists".
          if (keys.empty() && !root) return NotFound();
          return JsonResponse(EncodeStrings(keys));
        });
    return;
  }
  if (req.Has("recurse")) {
    if (Status s = structs::ValidateKvPrefix(key); !s.ok()) {
      respond(ErrorResponse(s));
      return;
    }
    ServeRead<std::vector<KvEntry>>(
        deps, req, std::move(respond),
        [d, key](store::WatchSet* ws) { return d->kv.List(key, ws); },
        [](const std::vector<KvEntry>& entries) {
          if (entries.empty()) return NotFound();
          return JsonResponse(EncodeKvEntries(entries));
        });
    return;
  }
  if (key.empty()) {
    respond(MissingKey());
    return;
  }
  if (Status s = structs::ValidateKvKey(key); !s.ok()) {
    respond(ErrorResponse(s));
    return;
  }
  const bool raw = req.Has("raw");
  ServeRead<std::optional<KvEntry>>(
      deps, req, std::move(respond),
      [d, key](store::WatchSet* ws) { return d->kv.Get(key, ws); },
      [raw](const std::optional<KvEntry>& e) {
        if (!e) return NotFound();
        if (raw) {
          Response r = TextResponse(200, e->value);
          r.SetHeader("X-Content-Type-Options", "nosniff");
          return r;
        }
        return JsonResponse(EncodeKvEntries({*e}));
      });
}

void Put(const ApiDeps& deps, Request req, Responder respond) {
  structs::KvCommand cmd;
  cmd.op = KvOp::kSet;
  cmd.entry.key = std::string(req.Param());
  if (cmd.entry.key.empty()) {
    respond(MissingKey());
    return;
  }
  if (req.Has("flags")) {
    auto flags = ParseUintParam(req, "flags", "flags");
    if (!flags.ok()) {
      respond(ErrorResponse(flags.status()));
      return;
    }
    cmd.entry.flags = *flags;
  }
  if (req.Has("cas")) {
    auto cas = ParseUintParam(req, "cas", "cas index");
    if (!cas.ok()) {
      respond(ErrorResponse(cas.status()));
      return;
    }
    cmd.op = KvOp::kCas;
    cmd.entry.modify_index = *cas;
  }
  if (auto s = req.Get("acquire")) {
    cmd.op = KvOp::kLock;
    cmd.entry.session = *s;
  }
  if (auto s = req.Get("release")) {
    cmd.op = KvOp::kUnlock;
    cmd.entry.session = *s;
  }
  cmd.entry.value = std::move(req.body);
  deps.kv_service.Apply(std::move(cmd),
                        [respond = std::move(respond)](Result<bool> r) {
                          if (!r.ok()) {
                            respond(ErrorResponse(r.status()));
                            return;
                          }
                          respond(JsonResponse(*r ? "true" : "false"));
                        });
}

void Delete(const ApiDeps& deps, Request req, Responder respond) {
  structs::KvCommand cmd;
  cmd.entry.key = std::string(req.Param());
  if (req.Has("recurse")) {
    cmd.op = KvOp::kDeleteTree;  // An empty prefix deletes every key.
  } else {
    if (cmd.entry.key.empty()) {
      respond(MissingKey());
      return;
    }
    cmd.op = KvOp::kDelete;
    if (req.Has("cas")) {
      auto cas = ParseUintParam(req, "cas", "cas index");
      if (!cas.ok()) {
        respond(ErrorResponse(cas.status()));
        return;
      }
      cmd.op = KvOp::kDeleteCas;
      cmd.entry.modify_index = *cas;
    }
  }
  deps.kv_service.Apply(std::move(cmd),
                        [respond = std::move(respond)](Result<bool> r) {
                          if (!r.ok()) {
                            respond(ErrorResponse(r.status()));
                            return;
                          }
                          respond(JsonResponse(*r ? "true" : "false"));
                        });
}

}  // namespace

void RegisterKv(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;
  router.Add({Method::kGet}, "/v1/kv/*", [d](Request req, Responder respond) {
    Get(*d, std::move(req), std::move(respond));
  });
  router.Add({Method::kPut}, "/v1/kv/*", [d](Request req, Responder respond) {
    Put(*d, std::move(req), std::move(respond));
  });
  router.Add({Method::kDelete}, "/v1/kv/*",
             [d](Request req, Responder respond) {
               Delete(*d, std::move(req), std::move(respond));
             });
}

}  // namespace sider::http::handlers
