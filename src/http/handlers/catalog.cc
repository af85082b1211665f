// /v1/catalog/*: reads straight from the store (with blocking), writes
// through server::CatalogWriter. Consul answers catalog writes with `true`.
#include <string>

#include "http/api.h"
#include "http/handlers/common.h"
#include "http/handlers/filters.h"
#include "http/read.h"
#include "server/catalog_writer.h"
#include "server/node_identity.h"
#include "store/catalog_store.h"
#include "structs/catalog_json.h"

namespace sider::http::handlers {

void RegisterCatalog(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;

  router.Add({Method::kPut}, "/v1/catalog/register",
             [d](Request req, Responder respond) {
               auto cmd = structs::DecodeCatalogRegister(req.body);
               if (!cmd.ok()) {
                 respond(ErrorResponse(cmd.status()));
                 return;
               }
               d->catalog_writer.Register(*cmd,
                                          WriteReply(std::move(respond), "true"));
             });
  router.Add({Method::kPut}, "/v1/catalog/deregister",
             [d](Request req, Responder respond) {
               auto cmd = structs::DecodeCatalogDeregister(req.body);
               if (!cmd.ok()) {
                 respond(ErrorResponse(cmd.status()));
                 return;
               }
               d->catalog_writer.Deregister(
                   *cmd, WriteReply(std::move(respond), "true"));
             });

  router.Add({Method::kGet}, "/v1/catalog/nodes",
             [d](Request req, Responder respond) {
               auto node_meta = ParseNodeMeta(req);
               ServeRead<std::vector<structs::Node>>(
                   *d, req, std::move(respond),
                   [d](store::WatchSet* ws) { return d->catalog.Nodes(ws); },
                   [node_meta](const std::vector<structs::Node>& nodes) {
                     std::vector<structs::Node> kept;
                     for (const auto& n : nodes) {
                       if (NodeMetaMatches(n, node_meta)) kept.push_back(n);
                     }
                     return JsonResponse(structs::EncodeNodes(kept));
                   });
             });
  router.Add({Method::kGet}, "/v1/catalog/node/*",
             [d](Request req, Responder respond) {
               std::string node(req.Param());
               std::string ns = RequestNamespace(req);
               ServeRead<std::optional<structs::NodeServices>>(
                   *d, req, std::move(respond),
                   [d, node, ns](store::WatchSet* ws) {
                     return d->catalog.NodeServices(node, ns, ws);
                   },
                   [d](const std::optional<structs::NodeServices>& ns) {
                     return JsonResponse(
                         structs::EncodeNodeServices(ns, d->self.datacenter));
                   });
             });
  router.Add({Method::kGet}, "/v1/catalog/services",
             [d](Request req, Responder respond) {
               std::string ns = RequestNamespace(req);
               using Rows =
                   std::vector<std::pair<std::string, std::vector<std::string>>>;
               ServeRead<Rows>(
                   *d, req, std::move(respond),
                   [d, ns](store::WatchSet* ws) {
                     return d->catalog.Services(ns, ws);
                   },
                   [](const Rows& rows) {
                     return JsonResponse(structs::EncodeCatalogServices(rows));
                   });
             });
  router.Add({Method::kGet}, "/v1/catalog/service/*",
             [d](Request req, Responder respond) {
               auto filter = ParseServiceFilter(req);
               if (!filter.ok()) {
                 respond(ErrorResponse(filter.status()));
                 return;
               }
               std::string name(req.Param());
               std::string ns = RequestNamespace(req);
               ServeRead<std::vector<structs::ServiceNode>>(
                   *d, req, std::move(respond),
                   [d, name, ns, f = *filter](store::WatchSet* ws) {
                     return d->catalog.ServiceNodes(ns, name, f, ws);
                   },
                   [](const std::vector<structs::ServiceNode>& rows) {
                     return JsonResponse(structs::EncodeServiceNodes(rows));
                   });
             });
}

}  // namespace sider::http::handlers
