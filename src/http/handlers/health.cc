// /v1/health/*: reads with blocking. An instance's health is the worst of
// its checks and its node's checks (structs::AggregateHealth); ?passing
// keeps only instances whose every check passes (Consul excludes warning
// too), and a disabled instance never passes.
#include <string>

#include "http/api.h"
#include "http/handlers/filters.h"
#include "http/read.h"
#include "store/catalog_store.h"
#include "structs/catalog_json.h"

namespace sider::http::handlers {
namespace {

using structs::HealthStatus;

std::vector<structs::CheckServiceNode> OnlyPassing(
    const std::vector<structs::CheckServiceNode>& rows) {
  std::vector<structs::CheckServiceNode> kept;
  for (const auto& row : rows) {
    if (structs::AggregateHealth(row.service, row.checks) ==
        HealthStatus::kPassing) {
      kept.push_back(row);
    }
  }
  return kept;
}

}  // namespace

void RegisterHealth(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;

  router.Add({Method::kGet}, "/v1/health/service/*",
             [d](Request req, Responder respond) {
               auto filter = ParseServiceFilter(req);
               if (!filter.ok()) {
                 respond(ErrorResponse(filter.status()));
                 return;
               }
               const bool passing = req.Has("passing") &&
                                    req.Get("passing").value_or("") != "false" &&
                                    req.Get("passing").value_or("") != "0";
               std::string name(req.Param());
               std::string ns = RequestNamespace(req);
               using Rows = std::vector<structs::CheckServiceNode>;
               ServeRead<Rows>(
                   *d, req, std::move(respond),
                   [d, name, ns, f = *filter](store::WatchSet* ws) {
                     return d->catalog.CheckServiceNodes(ns, name, f, ws);
                   },
                   [passing](const Rows& rows) {
                     return JsonResponse(structs::EncodeCheckServiceNodes(
                         passing ? OnlyPassing(rows) : rows));
                   });
             });
  router.Add({Method::kGet}, "/v1/health/checks/*",
             [d](Request req, Responder respond) {
               std::string name(req.Param());
               std::string ns = RequestNamespace(req);
               using Rows = std::vector<structs::Check>;
               ServeRead<Rows>(
                   *d, req, std::move(respond),
                   [d, name, ns](store::WatchSet* ws) {
                     return d->catalog.ServiceChecks(ns, name, ws);
                   },
                   [](const Rows& rows) {
                     return JsonResponse(structs::EncodeChecks(rows));
                   });
             });
  router.Add({Method::kGet}, "/v1/health/node/*",
             [d](Request req, Responder respond) {
               std::string node(req.Param());
               using Rows = std::vector<structs::Check>;
               ServeRead<Rows>(
                   *d, req, std::move(respond),
                   [d, node](store::WatchSet* ws) {
                     return d->catalog.NodeChecks(node, ws);
                   },
                   [](const Rows& rows) {
                     return JsonResponse(structs::EncodeChecks(rows));
                   });
             });
  router.Add({Method::kGet}, "/v1/health/state/*",
             [d](Request req, Responder respond) {
               const std::string state(req.Param());
               std::optional<HealthStatus> want;
               if (state != "any") {
                 want = structs::ParseHealthStatus(state);
                 if (!want || *want == HealthStatus::kMaintenance) {
                   respond(ErrorResponse(
                       Status(Code::kInvalidArgument, "Bad check state")));
                   return;
                 }
               }
               using Rows = std::vector<structs::Check>;
               ServeRead<Rows>(
                   *d, req, std::move(respond),
                   [d, want](store::WatchSet* ws) {
                     return d->catalog.ChecksInState(want, ws);
                   },
                   [](const Rows& rows) {
                     return JsonResponse(structs::EncodeChecks(rows));
                   });
             });
}

}  // namespace sider::http::handlers
