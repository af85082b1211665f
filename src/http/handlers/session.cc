// /v1/session/*: create, destroy and renew through server::SessionManager;
// info, list and node read store::KvStore through the blocking read path.
//
// Shapes (Consul's): create answers {"ID": "..."}; destroy answers `true`;
// renew answers a one-element array (404 "Session id '...' not found" when
// the session is gone, which is how a client learns it lost its locks);
// info answers an array, empty (200) for an unknown session.
#include <string>
#include <utility>

#include "http/api.h"
#include "http/handlers/common.h"
#include "http/handlers/kv_json.h"
#include "http/read.h"
#include "server/session_manager.h"
#include "store/kv_store.h"
#include "structs/json_writer.h"

namespace sider::http::handlers {
namespace {

using Sessions = std::vector<structs::Session>;

Response MissingSession() {
  return ErrorResponse(Status(Code::kInvalidArgument, "Missing session"));
}

}  // namespace

void RegisterSession(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;

  router.Add({Method::kPut}, "/v1/session/create",
             [d](Request req, Responder respond) {
               auto decoded = DecodeSessionCreate(req.body);
               if (!decoded.ok()) {
                 respond(ErrorResponse(decoded.status()));
                 return;
               }
               d->sessions.Create(
                   std::move(decoded.value().session),
                   decoded.value().node_checks_given,
                   [respond = std::move(respond)](Result<std::string> id) {
                     if (!id.ok()) {
                       respond(ErrorResponse(id.status()));
                       return;
                     }
                     std::string body;
                     structs::JsonWriter w(body);
                     w.BeginObject();
                     w.Field("ID", *id);
                     w.EndObject();
                     respond(JsonResponse(std::move(body)));
                   });
             });
  router.Add({Method::kPut}, "/v1/session/destroy/*",
             [d](Request req, Responder respond) {
               std::string id(req.Param());
               if (id.empty()) {
                 respond(MissingSession());
                 return;
               }
               d->sessions.Destroy(id, WriteReply(std::move(respond), "true"));
             });
  router.Add({Method::kPut}, "/v1/session/renew/*",
             [d](Request req, Responder respond) {
               std::string id(req.Param());
               if (id.empty()) {
                 respond(MissingSession());
                 return;
               }
               auto s = d->sessions.Renew(id);
               if (!s.ok()) {
                 respond(ErrorResponse(s.status()));
                 return;
               }
               Response r = JsonResponse(EncodeSessions({*s}));
               SetIndexHeader(r, s->modify_index);
               respond(std::move(r));
             });
  router.Add({Method::kGet}, "/v1/session/info/*",
             [d](Request req, Responder respond) {
               std::string id(req.Param());
               if (id.empty()) {
                 respond(MissingSession());
                 return;
               }
               ServeRead<std::optional<structs::Session>>(
                   *d, req, std::move(respond),
                   [d, id](store::WatchSet* ws) {
                     return d->kv.SessionGet(id, ws);
                   },
                   [](const std::optional<structs::Session>& s) {
                     return JsonResponse(
                         EncodeSessions(s ? Sessions{*s} : Sessions{}));
                   });
             });
  router.Add({Method::kGet}, "/v1/session/list",
             [d](Request req, Responder respond) {
               ServeRead<Sessions>(
                   *d, req, std::move(respond),
                   [d](store::WatchSet* ws) { return d->kv.SessionList(ws); },
                   [](const Sessions& s) {
                     return JsonResponse(EncodeSessions(s));
                   });
             });
  router.Add({Method::kGet}, "/v1/session/node/*",
             [d](Request req, Responder respond) {
               std::string node(req.Param());
               if (node.empty()) {
                 respond(ErrorResponse(
                     Status(Code::kInvalidArgument, "Missing node name")));
                 return;
               }
               ServeRead<Sessions>(
                   *d, req, std::move(respond),
                   [d, node](store::WatchSet* ws) {
                     return d->kv.NodeSessions(node, ws);
                   },
                   [](const Sessions& s) {
                     return JsonResponse(EncodeSessions(s));
                   });
             });
}

}  // namespace sider::http::handlers
