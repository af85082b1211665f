// /v1/operator/raft/*: Consul's Raft operator API.
//
//   GET    /v1/operator/raft/configuration
//          {"Servers": [{ID, Node, Address, Leader, Voter, ProtocolVersion}],
//           "Index": N}. ID is the server's Raft id (decimal); Address its
//          Raft address. Sider adds HTTPAddress.
//   DELETE /v1/operator/raft/peer?id=ID|address=RAFTADDR
//          Removes a server from the configuration (the leader refuses to
//          remove itself: transfer leadership first).
//   POST   /v1/operator/raft/transfer-leader[?id=ID]   {"Success": true}
//
// The writes run on the leader; a follower's dispatcher forwards them
// (http/cluster_dispatch.h). `id` may also be a node name.
#include <nlohmann/json.hpp>

#include "http/api.h"
#include "http/handlers/common.h"
#include "server/cluster_info.h"
#include "server/cluster_membership.h"

namespace sider::http::handlers {
namespace {

using nlohmann::json;

// The server named by ?id= or ?address=, or the error to answer.
Result<server::ServerInfo> Target(const server::ClusterInfo& cluster,
                                  const Request& req) {
  if (auto id = req.Get("id"); id && !id->empty()) {
    if (auto s = cluster.FindServer(*id)) return *s;
    return Status(Code::kNotFound,
                  "id \"" + *id + "\" was not found in the Raft configuration");
  }
  if (auto addr = req.Get("address"); addr && !addr->empty()) {
    if (auto s = cluster.ServerByRaftAddress(*addr)) return *s;
    return Status(Code::kNotFound, "address \"" + *addr +
                                       "\" was not found in the Raft "
                                       "configuration");
  }
  return Status(Code::kInvalidArgument,
                "Must specify either ?id with the server's ID or ?address "
                "with IP:port of peer to remove");
}

}  // namespace

void RegisterOperator(Router& router, const ApiDeps& deps) {
  server::ClusterMembership* m = deps.membership;
  if (m == nullptr) return;
  router.Add(
      {Method::kGet}, "/v1/operator/raft/configuration",
      [&cluster = deps.cluster](Request, Responder respond) {
        json servers = json::array();
        for (const server::ServerInfo& s : cluster.Servers()) {
          servers.push_back({{"ID", std::to_string(s.raft_id)},
                             {"Node", s.node.empty() ? s.raft_address : s.node},
                             {"Address", s.raft_address},
                             {"HTTPAddress", s.http_address},
                             {"Leader", s.leader},
                             {"Voter", s.voter},
                             {"ProtocolVersion", "3"}});
        }
        respond(JsonResponse(
            json{{"Servers", servers}, {"Index", cluster.AppliedIndex()}}
                .dump()));
      });
  router.Add({Method::kDelete}, "/v1/operator/raft/peer",
             [m, &cluster = deps.cluster](Request req, Responder respond) {
               auto target = Target(cluster, req);
               if (!target.ok()) {
                 respond(ErrorResponse(target.status()));
                 return;
               }
               m->RemoveServer(target->raft_id, WriteReply(std::move(respond)));
             });
  router.Add(
      {Method::kPost, Method::kPut}, "/v1/operator/raft/transfer-leader",
      [m, &cluster = deps.cluster](Request req, Responder respond) {
        uint64_t id = 0;
        if (auto key = req.Get("id"); key && !key->empty()) {
          auto s = cluster.FindServer(*key);
          if (!s) {
            respond(ErrorResponse(Status(
                Code::kNotFound,
                "id \"" + *key + "\" was not found in the Raft configuration")));
            return;
          }
          id = s->raft_id;
        }
        m->TransferLeadership(id, WriteReply(std::move(respond),
                                             R"({"Success":true})"));
      });
}

}  // namespace sider::http::handlers
