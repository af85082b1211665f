// /v1/agent/service/*, /v1/agent/check/*, /v1/agent/maintenance: writes go
// through server::AgentService; reads come from the store for this node.
//
// Node scope: on a follower these writes are forwarded to the leader
// (http/cluster_dispatch.h), which acts for the node named in
// X-Sider-Forwarded; so a service registered through n2 lands on n2.
//
// Methods: Consul 1.x wants PUT for every agent write, but python-consul
// (Debian's 0.7.1) sends deregister and the TTL updates as GET, so those
// endpoints take both.
#include <string>

#include "http/api.h"
#include "http/cluster_dispatch.h"
#include "http/handlers/common.h"
#include "http/read.h"
#include "server/agent_service.h"
#include "server/node_identity.h"
#include "store/catalog_store.h"
#include "structs/catalog_json.h"

namespace sider::http::handlers {
namespace {

using structs::HealthStatus;

// The node the request came through: the forwarding follower's, or ours.
std::string Origin(const ApiDeps& deps, const Request& req) {
  auto from = req.Header(kForwardedHeader);
  return from && !from->empty() ? *from : deps.self.name;
}

void Ttl(const ApiDeps& deps, HealthStatus status, Request req,
         Responder respond) {
  std::string id(req.Param());
  std::string note = req.Get("note").value_or("");
  deps.agent.UpdateTtl(Origin(deps, req), id, status, std::move(note),
                       WriteReply(std::move(respond)));
}

}  // namespace

void RegisterAgent(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;
  auto& agent = deps.agent;

  router.Add({Method::kPut}, "/v1/agent/service/register",
             [d, &agent](Request req, Responder respond) {
               auto reg = structs::DecodeAgentServiceRegistration(req.body);
               if (!reg.ok()) {
                 respond(ErrorResponse(reg.status()));
                 return;
               }
               if (auto ns = req.Get("ns"); ns && !ns->empty()) {
                 reg.value().service.ns = *ns;
               }
               agent.RegisterService(Origin(*d, req),
                                     std::move(reg.value().service),
                                     std::move(reg.value().checks),
                                     WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut, Method::kGet}, "/v1/agent/service/deregister/*",
             [d, &agent](Request req, Responder respond) {
               agent.DeregisterService(Origin(*d, req), RequestNamespace(req),
                                       std::string(req.Param()),
                                       WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut}, "/v1/agent/service/maintenance/*",
             [d, &agent](Request req, Responder respond) {
               auto enable = RequireEnableParam(req);
               if (!enable.ok()) {
                 respond(ErrorResponse(enable.status()));
                 return;
               }
               agent.ServiceMaintenance(
                   Origin(*d, req), RequestNamespace(req),
                   std::string(req.Param()), *enable,
                   req.Get("reason").value_or(""),
                   WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut}, "/v1/agent/service/enable/*",
             [d, &agent](Request req, Responder respond) {
               auto enable = RequireEnableParam(req);
               if (!enable.ok()) {
                 respond(ErrorResponse(enable.status()));
                 return;
               }
               agent.SetServiceEnabled(Origin(*d, req), RequestNamespace(req),
                                       std::string(req.Param()), *enable,
                                       WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut}, "/v1/agent/maintenance",
             [d, &agent](Request req, Responder respond) {
               auto enable = RequireEnableParam(req);
               if (!enable.ok()) {
                 respond(ErrorResponse(enable.status()));
                 return;
               }
               agent.NodeMaintenance(Origin(*d, req), *enable,
                                     req.Get("reason").value_or(""),
                                     WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut}, "/v1/agent/check/register",
             [d, &agent](Request req, Responder respond) {
               auto check = structs::DecodeAgentCheckRegistration(req.body);
               if (!check.ok()) {
                 respond(ErrorResponse(check.status()));
                 return;
               }
               agent.RegisterCheck(Origin(*d, req), std::move(check).value(),
                                   WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut, Method::kGet}, "/v1/agent/check/deregister/*",
             [d, &agent](Request req, Responder respond) {
               agent.DeregisterCheck(Origin(*d, req), std::string(req.Param()),
                                     WriteReply(std::move(respond)));
             });
  router.Add({Method::kPut, Method::kGet}, "/v1/agent/check/pass/*",
             [d](Request req, Responder respond) {
               Ttl(*d, HealthStatus::kPassing, std::move(req),
                   std::move(respond));
             });
  router.Add({Method::kPut, Method::kGet}, "/v1/agent/check/warn/*",
             [d](Request req, Responder respond) {
               Ttl(*d, HealthStatus::kWarning, std::move(req),
                   std::move(respond));
             });
  router.Add({Method::kPut, Method::kGet}, "/v1/agent/check/fail/*",
             [d](Request req, Responder respond) {
               Ttl(*d, HealthStatus::kCritical, std::move(req),
                   std::move(respond));
             });
  router.Add({Method::kPut}, "/v1/agent/check/update/*",
             [d, &agent](Request req, Responder respond) {
               auto update = structs::DecodeCheckUpdate(req.body);
               if (!update.ok()) {
                 respond(ErrorResponse(update.status()));
                 return;
               }
               agent.UpdateTtl(Origin(*d, req), std::string(req.Param()),
                               update->status,
                               update->output, WriteReply(std::move(respond)));
             });

  // ---- Reads: this node's view. ----
  router.Add({Method::kGet}, "/v1/agent/services",
             [d](Request req, Responder respond) {
               auto services = d->catalog.ServicesOnNode(d->self.name);
               const std::string ns = RequestNamespace(req);
               std::erase_if(services, [&](const structs::Service& s) {
                 return s.ns != ns;
               });
               respond(JsonResponse(
                   structs::EncodeAgentServices(services, d->self.datacenter)));
             });
  router.Add({Method::kGet}, "/v1/agent/service/*",
             [d](Request req, Responder respond) {
               auto svc = d->catalog.GetService(
                   d->self.name, RequestNamespace(req), req.Param());
               if (!svc) {
                 respond(TextResponse(
                     404, "unknown service ID: " + std::string(req.Param())));
                 return;
               }
               respond(JsonResponse(
                   structs::EncodeAgentService(*svc, d->self.datacenter)));
             });
  router.Add({Method::kGet}, "/v1/agent/checks",
             [d](Request, Responder respond) {
               respond(JsonResponse(structs::EncodeAgentChecks(
                   d->catalog.ChecksOnNode(d->self.name))));
             });
}

}  // namespace sider::http::handlers
