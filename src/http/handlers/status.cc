// /v1/status/*, /v1/agent/self, /v1/catalog/datacenters, /v1/agent/members.
#include <nlohmann/json.hpp>

#include "http/api.h"
#include "server/cluster_info.h"
#include "server/node_identity.h"

namespace sider::http::handlers {
namespace {

using nlohmann::json;

int PortOf(const std::string& host_port, int fallback) {
  const auto colon = host_port.rfind(':');
  return colon == std::string::npos ? fallback
                                    : std::atoi(host_port.c_str() + colon + 1);
}

std::string HostOf(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  return colon == std::string::npos ? host_port : host_port.substr(0, colon);
}

// Consul's serf member statuses.
constexpr int kMemberAlive = 1;
constexpr int kMemberFailed = 4;

// A server as a Consul member. Addr/Port are its Raft transport's (Sider has
// no gossip port); Status is alive if this node heard from it within
// ClusterInfo::kAliveWindow (server/cluster_info.h), failed otherwise.
json MemberJson(const server::NodeIdentity& self, const server::ServerInfo& s) {
  const int port = PortOf(s.raft_address, 8300);
  json tags{{"role", "consul"},
            {"dc", self.datacenter},
            {"port", std::to_string(port)},
            {"raft_vsn", "3"},
            {"build", self.version},
            {"vsn", "2"}};
  if (s.self) tags["id"] = self.id;
  if (!s.voter) tags["nonvoter"] = "1";
  if (!s.http_address.empty()) tags["http_addr"] = s.http_address;
  return json{{"Name", s.node.empty() ? s.raft_address : s.node},
              {"Addr", s.self ? self.address : HostOf(s.raft_address)},
              {"Port", port},
              {"Tags", tags},
              {"Status", s.alive ? kMemberAlive : kMemberFailed},
              {"ProtocolMin", 1},
              {"ProtocolMax", 5},
              {"ProtocolCur", 2},
              {"DelegateMin", 2},
              {"DelegateMax", 5},
              {"DelegateCur", 4}};
}

json MemberJson(const server::NodeIdentity& self) {
  server::ServerInfo s;
  s.node = self.name;
  s.raft_address = self.raft_address;
  s.self = true;
  s.alive = true;
  return MemberJson(self, s);
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
  // Every server of the Raft configuration (this node alone until it has
  // one); Consul's ?wan and ?segment are accepted and ignored.
  router.Add({Method::kGet}, "/v1/agent/members",
             [&self = deps.self, &cluster = deps.cluster](Request,
                                                          Responder respond) {
               json out = json::array();
               for (const server::ServerInfo& s : cluster.Servers()) {
                 out.push_back(MemberJson(self, s));
               }
               if (out.empty()) out.push_back(MemberJson(self));
               respond(JsonResponse(out.dump()));
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
