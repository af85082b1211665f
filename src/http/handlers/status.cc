// /v1/status/*, /v1/agent/self, /v1/catalog/datacenters, /v1/agent/members.
#include <nlohmann/json.hpp>

#include "http/api.h"
#include "server/cluster_info.h"
#include "server/node_identity.h"

namespace sider::http::handlers {
namespace {

using nlohmann::json;

json MemberJson(const server::NodeIdentity& self) {
  const auto colon = self.raft_address.rfind(':');
  const int port = colon == std::string::npos
                       ? 8300
                       : std::atoi(self.raft_address.c_str() + colon + 1);
  return json{{"Name", self.name},
              {"Addr", self.address},
              {"Port", port},
              {"Tags",
               {{"role", "consul"},
                {"dc", self.datacenter},
                {"id", self.id},
                {"port", std::to_string(port)},
                {"build", self.version},
                {"vsn", "2"}}},
              {"Status", 1},
              {"ProtocolMin", 1},
              {"ProtocolMax", 5},
              {"ProtocolCur", 2},
              {"DelegateMin", 2},
              {"DelegateMax", 5},
              {"DelegateCur", 4}};
}

}  // namespace

void RegisterStatus(Router& router, const ApiDeps& deps) {
  router.Add({Method::kGet}, "/v1/status/leader",
             [&cluster = deps.cluster](Request, Responder respond) {
               respond(JsonResponse(json(cluster.LeaderAddress()).dump()));
             });
  router.Add({Method::kGet}, "/v1/status/peers",
             [&cluster = deps.cluster](Request, Responder respond) {
               respond(JsonResponse(json(cluster.PeerAddresses()).dump()));
             });
  router.Add({Method::kGet}, "/v1/catalog/datacenters",
             [&self = deps.self](Request, Responder respond) {
               respond(JsonResponse(json::array({self.datacenter}).dump()));
             });
  router.Add({Method::kGet}, "/v1/agent/members",
             [&self = deps.self](Request, Responder respond) {
               respond(JsonResponse(json::array({MemberJson(self)}).dump()));
             });
  router.Add(
      {Method::kGet}, "/v1/agent/self",
      [&self = deps.self](Request, Responder respond) {
        json config{{"Datacenter", self.datacenter},
                    {"NodeName", self.name},
                    {"NodeID", self.id},
                    {"Server", true},
                    {"Revision", ""},
                    {"Version", self.version},
                    {"PrimaryDatacenter", self.datacenter}};
        json body{{"Config", config},
                  {"DebugConfig", json::object()},
                  {"Coord", nullptr},
                  {"Member", MemberJson(self)},
                  {"Meta", json::object()},
                  {"Stats", json::object()}};
        respond(JsonResponse(body.dump()));
      });
}

}  // namespace sider::http::handlers
