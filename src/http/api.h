// RegisterApi: installs every /v1 endpoint on a Router. Each resource has
// its own handler file under http/handlers/ (status, agent, catalog,
// health); they share ApiDeps and the read path in http/read.h.
//
// Threading: RegisterApi runs once before the server starts; handlers run
// on io threads. ApiDeps' references must outlive the server.
#pragma once

#include "base/asio.h"
#include "base/clock.h"
#include "http/http.h"
#include "http/router.h"

namespace sider::server {
class AgentService;
class CatalogWriter;
class ClusterInfo;
class ClusterMembership;
class EventService;
class HealthManager;
class NodeFailureDetector;
class KvService;
class SessionManager;
class SnapshotService;
struct NodeIdentity;
}  // namespace sider::server
namespace sider::store {
class CatalogStore;
class KvStore;
}

namespace sider::http {

class ResponseCache;

struct ApiDeps {
  server::AgentService& agent;
  server::CatalogWriter& catalog_writer;
  store::CatalogStore& catalog;
  server::ClusterInfo& cluster;
  Clock& clock;
  asio::any_io_executor executor;
  const server::NodeIdentity& self;
  // Coordination: KV reads and session reads (store), KV/txn writes,
  // session create/destroy/renew, user events.
  store::KvStore& kv;
  server::KvService& kv_service;
  server::SessionManager& sessions;
  server::EventService& events;
  // Leader-side receivers of /v1/internal/* (handlers/internal.cc); those
  // endpoints exist only when set.
  server::NodeFailureDetector* node_failure = nullptr;
  server::HealthManager* health = nullptr;
  // Cluster formation and the operator API (handlers/cluster_internal.cc,
  // handlers/operator.cc); those endpoints exist only when set.
  server::ClusterMembership* membership = nullptr;
  // Backup / restore and the state hash (handlers/snapshot.cc); those
  // endpoints exist only when set.
  server::SnapshotService* snapshots = nullptr;
  // Serialized replies of non-blocking reads, reused while the data under
  // them is unchanged (http/response_cache.h); no caching when null.
  ResponseCache* response_cache = nullptr;
};

void RegisterApi(Router& router, const ApiDeps& deps);

// Adds X-Consul-KnownLeader and X-Consul-LastContact (every reply carries
// them; Consul sets them on query replies, and extra headers on the rest
// harm no client).
void AddClusterHeaders(const server::ClusterInfo& cluster, Response& r);

namespace handlers {
void RegisterStatus(Router& router, const ApiDeps& deps);
void RegisterAgent(Router& router, const ApiDeps& deps);
void RegisterCatalog(Router& router, const ApiDeps& deps);
void RegisterHealth(Router& router, const ApiDeps& deps);
void RegisterKv(Router& router, const ApiDeps& deps);
void RegisterSession(Router& router, const ApiDeps& deps);
void RegisterTxn(Router& router, const ApiDeps& deps);
void RegisterEvent(Router& router, const ApiDeps& deps);
void RegisterInternal(Router& router, const ApiDeps& deps);
void RegisterClusterInternal(Router& router, const ApiDeps& deps);
void RegisterOperator(Router& router, const ApiDeps& deps);
void RegisterSnapshot(Router& router, const ApiDeps& deps);
}  // namespace handlers

}  // namespace sider::http
