// RegisterApi: one line per resource's handler file.
#include "http/api.h"

namespace sider::http {

void RegisterApi(Router& router, const ApiDeps& deps) {
  handlers::RegisterStatus(router, deps);
  handlers::RegisterAgent(router, deps);
  handlers::RegisterCatalog(router, deps);
  handlers::RegisterHealth(router, deps);
  handlers::RegisterInternal(router, deps);
  handlers::RegisterKv(router, deps);
  handlers::RegisterSession(router, deps);
  handlers::RegisterTxn(router, deps);
  handlers::RegisterEvent(router, deps);
  handlers::RegisterClusterInternal(router, deps);
  handlers::RegisterOperator(router, deps);
  handlers::RegisterSnapshot(router, deps);
}

}  // namespace sider::http
