// JSON codecs for Consul's wire shapes of the catalog types in
// structs/catalog.h: request decoders for the registration endpoints and
// response encoders for the catalog, health and agent read endpoints.
//
// Contract: pure functions, safe from any thread; no exceptions escape
// (nlohmann-json is used, and caught, only inside catalog_json_decode.cc).
//
// Decoders take the raw request body and return a value or a Status with
// Code::kInvalidArgument (HTTP 400). Two message forms:
//   "Request decode failed: <path>: <problem>"  malformed JSON, or a field of
//       the wrong type ("Request decode failed: Checks[1].Interval: time:
//       unknown unit \"x\" in duration \"5x\"");
//   Consul's own validation wording otherwise ("Missing service name",
//       "Invalid check: TTL must be > 0 for TTL checks", "Invalid Weights:
//       Passing must be greater than 0", "Must provide node and address").
// Key matching follows Consul: keys are matched case-insensitively (Go's
// encoding/json) and underscores are ignored, which covers both the
// snake_case aliases Consul translates ("deregister_critical_service_after",
// "enable_tag_override", "script_args", "tls_skip_verify", "service_id") and
// the squashed lower case python-consul sends ("serviceid",
// "enabletagoverride"). When a key occurs twice the later one wins, as in Go.
// A JSON null is treated as an absent key; unknown keys are ignored.
// Durations are Go duration strings ("10s", "1m30s") or integer/float
// nanoseconds; "" means unset. Negative durations are rejected.
//
// Encoders append compact JSON (see structs/json_writer.h for escaping) with
// Consul's exact field names and order. Shape choices where Consul varies by
// version or by nil-ness (documented at each encoder below):
//   * tag lists are always arrays, [] when empty (Consul turns nil into [] in
//     the catalog and health endpoints; a null would crash naive clients);
//   * Meta, NodeMeta, ServiceMeta and TaggedAddresses are objects, {} when
//     empty;
//   * "Namespace" is written only for a non-default namespace (Consul OSS
//     omits it; Enterprise writes it);
//   * Sider extensions: "ServiceEnabled" on catalog rows, "Enabled" on
//     service objects. Consul clients ignore unknown fields.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "structs/catalog.h"
#include "structs/json_writer.h"

namespace sider::structs {

// ---- Decoders ----

// PUT /v1/agent/service/register. `service.node` is left empty (the agent
// fills it); `service.id` defaults to the name. `checks` holds the "Check"
// field (ignored when it is an empty object, as Consul does) followed by the
// "Checks" list; each has its type and definition filled, CheckID defaulted
// to "service:<id>" (or "service:<id>:<n>", 1-based, when there are several),
// Name to "Service '<name>' check", status to critical, and service_id,
// service_name, service_tags and ns copied from the service.
struct AgentServiceRegistration {
  Service service;
  std::vector<Check> checks;
};
Result<AgentServiceRegistration> DecodeAgentServiceRegistration(
    std::string_view body);

// PUT /v1/agent/check/register. Name is required; the id ("CheckID" or
// "ID") defaults to the name. "ServiceID" is optional; service_name and tags
// are left for the agent to fill.
Result<Check> DecodeAgentCheckRegistration(std::string_view body);

// PUT /v1/catalog/register. Node and Address are required; Service.ID
// defaults to Service.Service; checks ("Checks" then "Check", Consul's
// order) get node = Node when omitted and CheckID = Name when omitted.
// Datacenter is left empty when absent (the handler fills in its own).
Result<RegisterCommand> DecodeCatalogRegister(std::string_view body);

// PUT /v1/catalog/deregister. Node is required.
Result<DeregisterCommand> DecodeCatalogDeregister(std::string_view body);

// PUT /v1/agent/check/update/:id body.
struct CheckUpdate {
  HealthStatus status = HealthStatus::kCritical;
  std::string output;
};
// Status must be "passing", "warning" or "critical".
Result<CheckUpdate> DecodeCheckUpdate(std::string_view body);

// ---- Encoders: one value, appended through a JsonWriter ----

// structs.Node: {ID, Node, Address, Datacenter, TaggedAddresses, Meta,
// CreateIndex, ModifyIndex}.
void AppendNodeJson(JsonWriter& w, const Node& node);

// One /v1/catalog/service/:name row (structs.ServiceNode): the node's
// ID/Node/Address/Datacenter/TaggedAddresses/NodeMeta, then ServiceKind,
// ServiceID, ServiceName, ServiceTags, ServiceAddress, ServiceWeights,
// ServiceMeta, ServicePort, ServiceEnableTagOverride, ServiceProxy {},
// ServiceConnect {}, [Namespace], ServiceEnabled, CreateIndex, ModifyIndex
// (the service's indexes, as in Consul).
void AppendServiceNodeJson(JsonWriter& w, const Node& node,
                           const Service& service);

// structs.NodeService, the "Service" of a /v1/health/service row and the
// values of /v1/catalog/node/:node "Services": {[Kind], ID, Service, Tags,
// Address, Meta, Port, Weights, EnableTagOverride, [Namespace], Enabled,
// CreateIndex, ModifyIndex}. Kind is omitted when empty (omitempty in Go);
// Connect/Proxy are omitted (Sider has no Connect).
void AppendNodeServiceJson(JsonWriter& w, const Service& service);

// structs.HealthCheck, as in /v1/health/* and /v1/agent/checks: {Node,
// CheckID, Name, Status, Notes, Output, ServiceID, ServiceName, ServiceTags,
// Type, Interval, Timeout, ExposedPort, Definition, [Namespace],
// CreateIndex, ModifyIndex}. Interval/Timeout are Go duration strings, ""
// when unset. Definition holds the non-empty fields of the check definition
// (Consul's HealthCheckDefinition is all omitempty), {} for none.
void AppendHealthCheckJson(JsonWriter& w, const Check& check);

// {"Node": {...}, "Service": {...}, "Checks": [...]}.
void AppendCheckServiceNodeJson(JsonWriter& w, const CheckServiceNode& row);

// api.AgentService for /v1/agent/services and /v1/agent/service/:id:
// {[Kind], ID, Service, Tags, Meta, Port, Address, Weights,
// EnableTagOverride, [ContentHash], [Namespace], Datacenter, Enabled}.
// No Create/ModifyIndex (omitempty zeros in Consul's agent output).
// `content_hash` is written only when non-empty (/v1/agent/service/:id).
void AppendAgentServiceJson(JsonWriter& w, const Service& service,
                            std::string_view datacenter,
                            std::string_view content_hash = {});

// ---- Encoders: whole response bodies ----

// /v1/catalog/nodes: [Node...]
std::string EncodeNodes(const std::vector<Node>& nodes);
// /v1/catalog/service/:name: [ServiceNode...]
std::string EncodeServiceNodes(const std::vector<ServiceNode>& rows);
// /v1/health/service/:name: [CheckServiceNode...]
std::string EncodeCheckServiceNodes(const std::vector<CheckServiceNode>& rows);
// /v1/health/checks/:service, /v1/health/node/:node, /v1/health/state/:s:
// [HealthCheck...]
std::string EncodeChecks(const std::vector<Check>& checks);
inline std::string EncodeHealthChecks(const std::vector<Check>& checks) {
  return EncodeChecks(checks);
}
// /v1/catalog/node/:node: {"Node": {...}, "Services": {id: NodeService}}.
std::string EncodeNodeServices(const NodeServices& ns);
// As above; `null` for an unknown node (nullopt), as Consul answers. A node
// row without a datacenter gets `datacenter` (the serving node's).
std::string EncodeNodeServices(const std::optional<NodeServices>& ns,
                               std::string_view datacenter);
// /v1/catalog/services: {"name": ["tag", ...], ...}. Rows are written in the
// order given (the store's, sorted by name as Go sorts map keys).
std::string EncodeCatalogServices(
    const std::vector<std::pair<std::string, std::vector<std::string>>>&
        services);
std::string EncodeCatalogServices(
    const std::map<std::string, std::vector<std::string>>& services);
// /v1/agent/services: {id: AgentService}.
std::string EncodeAgentServices(const std::vector<Service>& services,
                                std::string_view datacenter);
// /v1/agent/service/:id
std::string EncodeAgentService(const Service& service,
                               std::string_view datacenter,
                               std::string_view content_hash = {});
// /v1/agent/checks: {check_id: HealthCheck}.
std::string EncodeAgentChecks(const std::vector<Check>& checks);

}  // namespace sider::structs
