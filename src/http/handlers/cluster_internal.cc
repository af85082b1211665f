// /v1/internal/cluster/*: how servers find each other and join
// (server/cluster_membership.h, docs/cluster.md). Answered by the node that
// receives them (http/cluster_dispatch.h classifies them local).
//
//   GET /v1/internal/cluster/hello[?from=HTTPADDR]
//       This server: node, raft id and address, HTTP address, whether it
//       has Raft state, bootstrap-expect, the leader it knows, its
//       configuration.
//   PUT /v1/internal/cluster/join   body: {Node, NodeID, RaftID,
//       RaftAddress, HTTPAddress, Address, Datacenter, Voter}
//       On the leader: add the server (standby, then voter unless
//       Voter=false) and register its catalog node. 500 "not leader"
//       elsewhere; idempotent.
//
// Not part of Consul's API.
#include "http/api.h"
#include "http/handlers/common.h"
#include "server/cluster_membership.h"

namespace sider::http::handlers {

void RegisterClusterInternal(Router& router, const ApiDeps& deps) {
  server::ClusterMembership* m = deps.membership;
  if (m == nullptr) return;
  router.Add({Method::kGet}, "/v1/internal/cluster/hello",
             [m](Request req, Responder respond) {
               respond(JsonResponse(server::ClusterMembership::EncodeHello(
                   m->Hello(req.Get("from").value_or("")))));
             });
  router.Add({Method::kPut}, "/v1/internal/cluster/join",
             [m](Request req, Responder respond) {
               auto join = server::ClusterMembership::DecodeJoin(req.body);
               if (!join.ok()) {
                 respond(ErrorResponse(join.status()));
                 return;
               }
               m->HandleJoin(std::move(*join), WriteReply(std::move(respond),
                                                          "true"));
             });
}

}  // namespace sider::http::handlers
