// /v1/event/fire/:name and /v1/event/list over server::EventService.
//
// The list's X-Consul-Index is Consul's: derived from the last listed
// event's ID, not monotonic (docs/kv.md, "Events"). So a blocking list
// waits while the index EQUALS the client's ?index= — not while it is
// lower — and a new matching event wakes it. This reuses the generic
// BlockingQuery loop by reporting to it an index that is "newer" exactly
// when the real one differs from the client's, and writes the real one in
// the header.
#include <string>
#include <utility>

#include "http/api.h"
#include "http/handlers/kv_json.h"
#include "http/read.h"
#include "server/blocking_query.h"
#include "server/event_service.h"

namespace sider::http::handlers {
namespace {

struct EventList {
  uint64_t real_index = 1;
  std::vector<server::UserEvent> events;
};

}  // namespace

void RegisterEvent(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;

  router.Add({Method::kPut}, "/v1/event/fire/*",
             [d](Request req, Responder respond) {
               server::UserEvent e;
               e.name = std::string(req.Param());
               e.payload = std::move(req.body);
               e.node_filter = req.Get("node").value_or("");
               e.service_filter = req.Get("service").value_or("");
               e.tag_filter = req.Get("tag").value_or("");
               auto fired = d->events.Fire(std::move(e));
               if (!fired.ok()) {
                 respond(ErrorResponse(fired.status()));
                 return;
               }
               respond(JsonResponse(EncodeEvent(*fired)));
             });

  router.Add({Method::kGet}, "/v1/event/list",
             [d](Request req, Responder respond) {
               auto params = ParseReadParams(req);
               if (!params.ok()) {
                 respond(ErrorResponse(params.status()));
                 return;
               }
               const std::string name = req.Get("name").value_or("");
               const uint64_t min = params->index;
               auto query = [d, name, min](store::WatchSet* ws) {
                 auto listed = d->events.List(name, ws);
                 store::Indexed<EventList> out;
                 out.value.real_index = listed.index;
                 out.value.events = std::move(listed.value);
                 // "Newer" for the engine iff different for Consul.
                 out.index = (listed.index != min && min != UINT64_MAX)
                                 ? min + 1
                                 : min;
                 return out;
               };
               auto finish = [respond = std::move(respond)](
                                 store::Indexed<EventList> r) {
                 Response resp = JsonResponse(EncodeEvents(r.value.events));
                 SetIndexHeader(resp, r.value.real_index);
                 respond(std::move(resp));
               };
               if (min == 0) {
                 finish(query(nullptr));
                 return;
               }
               server::BlockingQuery<EventList>::Start(
                   d->executor, d->clock, min, d->clock.Now() + params->wait,
                   std::move(query), std::move(finish));
             });
}

}  // namespace sider::http::handlers
