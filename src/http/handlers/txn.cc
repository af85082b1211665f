// PUT /v1/txn: KV operations only, all or nothing, through
// server::KvService. 200 with {"Results": [...], "Errors": null} on
// success; 409 with {"Results": null, "Errors": [{"OpIndex", "What"}]} when
// the transaction rolled back (a failed check, a lost CAS, a held lock, a
// lock-delay); 413 over 64 operations or for a value over 512 KiB; 400 for
// a malformed body, an unknown verb or a non-KV operation.
#include <utility>

#include "http/api.h"
#include "http/handlers/kv_json.h"
#include "server/kv_service.h"

namespace sider::http::handlers {

void RegisterTxn(Router& router, const ApiDeps& deps) {
  const ApiDeps* d = &deps;
  router.Add({Method::kPut}, "/v1/txn", [d](Request req, Responder respond) {
    auto ops = DecodeTxn(req.body);
    if (!ops.ok()) {
      respond(ErrorResponse(ops.status()));
      return;
    }
    if (ops->size() > structs::kMaxTxnOps) {
      respond(ErrorResponse(server::KvService::TooManyOps(ops->size())));
      return;
    }
    d->kv_service.Txn(
        std::move(ops).value(),
        [respond = std::move(respond)](Result<structs::TxnResult> r) {
          if (!r.ok()) {
            respond(ErrorResponse(r.status()));
            return;
          }
          const unsigned status = r->errors.empty() ? 200 : 409;
          respond(JsonResponse(EncodeTxnResult(*r), status));
        });
  });
}

}  // namespace sider::http::handlers
