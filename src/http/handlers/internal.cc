// /v1/internal/*: Sider's own server-to-leader calls, routed like any write
// (http/cluster_dispatch.h), so a follower's call reaches the leader.
//
//   PUT /v1/internal/node-heartbeat?node=&id=&address=&http=&raft=
//       A server is alive (server/node_heartbeat.h).
//   PUT /v1/internal/check-update?node=&check=&status=   body: the output
//       A probe result from the node that ran it (HealthManager).
//
// Not part of Consul's API; no client should call them.
#include <string>

#include "http/api.h"
#include "http/handlers/common.h"
#include "server/cluster_info.h"
#include "server/health_manager.h"
#include "server/node_heartbeat.h"

namespace sider::http::handlers {

void RegisterInternal(Router& router, const ApiDeps& deps) {
  if (deps.node_failure != nullptr) {
    router.Add({Method::kPut}, "/v1/internal/node-heartbeat",
               [d = &deps](Request req, Responder respond) {
                 structs::Node node;
                 node.name = req.Get("node").value_or("");
                 node.id = req.Get("id").value_or("");
                 node.address = req.Get("address").value_or("");
                 node.datacenter = d->self.datacenter;
                 if (node.name.empty() || node.address.empty()) {
                   respond(ErrorResponse(Status(Code::kInvalidArgument,
                                                "node and address required")));
                   return;
                 }
                 node.tagged_addresses = {{"lan", node.address},
                                          {"wan", node.address}};
                 if (auto http = req.Get("http"); http && !http->empty()) {
                   node.meta[server::kMetaHttpAddr] = *http;
                 }
                 if (auto raft = req.Get("raft"); raft && !raft->empty()) {
                   node.meta[server::kMetaRole] = "server";
                   node.meta[server::kMetaRaftAddr] = *raft;
                 }
                 d->node_failure->Heartbeat(std::move(node),
                                            WriteReply(std::move(respond)));
               });
  }
  if (deps.health != nullptr) {
    router.Add({Method::kPut}, "/v1/internal/check-update",
               [d = &deps](Request req, Responder respond) {
                 structs::UpdateCheckCommand cmd;
                 cmd.node = req.Get("node").value_or("");
                 cmd.check_id = req.Get("check").value_or("");
                 auto status =
                     structs::ParseHealthStatus(req.Get("status").value_or(""));
                 if (cmd.node.empty() || cmd.check_id.empty() || !status) {
                   respond(ErrorResponse(
                       Status(Code::kInvalidArgument,
                              "node, check and a valid status required")));
                   return;
                 }
                 cmd.status = *status;
                 cmd.output = std::move(req.body);
                 d->health->ApplyProbeUpdate(std::move(cmd),
                                             WriteReply(std::move(respond)));
               });
  }
}

}  // namespace sider::http::handlers
