// Backup, restore and the state hash (docs/backup.md).
//
//   GET /v1/snapshot[?stale]   the whole state as one archive
//          (application/octet-stream; fsm/archive.h), X-Consul-Index: the
//          Raft index it was taken at. Without ?stale it is the leader's
//          state after a read barrier (the dispatcher forwards there).
//   PUT /v1/snapshot           body: an archive. Verified completely, then
//          installed on every server through one Raft entry; 200 with an
//          empty body (as Consul). 400 for a corrupt or truncated archive
//          (nothing changed), 413 for one over the restore limit.
//   GET /v1/operator/state-hash[?stale]
//          {"Index": <last applied Raft index>, "Hash": "<16 hex digits>"}:
//          a hash of the whole state at exactly that index. With ?stale the
//          node asked answers for itself, so comparing nodes at one index
//          shows whether they converged.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "http/api.h"
#include "http/read.h"
#include "server/snapshot_service.h"

namespace sider::http::handlers {

void RegisterSnapshot(Router& router, const ApiDeps& deps) {
  server::SnapshotService* s = deps.snapshots;
  if (s == nullptr) return;
  router.Add({Method::kGet}, "/v1/snapshot", [s](Request, Responder respond) {
    s->Save([respond = std::move(respond)](
                Result<server::SnapshotService::Saved> saved) {
      if (!saved.ok()) return respond(ErrorResponse(saved.status()));
      Response r;
      r.content_type = "application/octet-stream";
      r.body = std::move(saved.value().archive);
      SetIndexHeader(r, saved->raft_index);
      respond(std::move(r));
    });
  });
  router.Add({Method::kPut, Method::kPost}, "/v1/snapshot",
             [s](Request req, Responder respond) {
               s->Restore(std::move(req.body),
                          [respond = std::move(respond)](Status st) {
                            if (!st.ok()) return respond(ErrorResponse(st));
                            respond(JsonResponse(""));
                          });
             });
  router.Add({Method::kGet}, "/v1/operator/state-hash",
             [s](Request, Responder respond) {
               s->Hash([respond = std::move(respond)](
                           Result<server::SnapshotService::StateHash> h) {
                 if (!h.ok()) return respond(ErrorResponse(h.status()));
                 char hex[17];
                 std::snprintf(hex, sizeof hex, "%016llx",
                               static_cast<unsigned long long>(h->hash));
                 Response r = JsonResponse(
                     nlohmann::json{{"Index", h->index}, {"Hash", hex}}.dump());
                 SetIndexHeader(r, h->index);
                 respond(std::move(r));
               });
             });
}

}  // namespace sider::http::handlers
