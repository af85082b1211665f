// Catalog types: nodes, service instances and health checks, as the store
// keeps them and as commands carry them. Plain values, no behaviour beyond
// small helpers; JSON codecs for Consul's wire shapes live in
// structs/catalog_json.h, protobuf encodings in fsm/.
//
// Field names follow Consul's (structs.Node, structs.NodeService,
// structs.HealthCheck) so the mapping to JSON is obvious. Durations are
// nanoseconds, like Go's time.Duration, so JSON round-trips exactly.
//
// Thread safety: values; const access from many threads is fine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sider::structs {

using Meta = std::map<std::string, std::string>;

inline constexpr std::string_view kDefaultNamespace = "default";
inline constexpr std::string_view kDefaultDatacenter = "dc1";

// Persisted (in snapshots and log entries): append only, never renumber.
// Ordered from best to worst so that aggregation is std::max.
enum class HealthStatus : uint8_t {
  kPassing = 0,
  kWarning = 1,
  kCritical = 2,
  kMaintenance = 3,  // Reported as "maintenance" on the wire.
};

std::string_view HealthStatusName(HealthStatus s);  // "passing", ...
// Accepts Consul's four names; nullopt for anything else.
std::optional<HealthStatus> ParseHealthStatus(std::string_view name);

// Persisted: append only.
enum class CheckType : uint8_t {
  kNone = 0,  // Status set only by the API (e.g. maintenance checks).
  kTtl = 1,
  kHttp = 2,
  kTcp = 3,
  kCmd = 4,  // "Args": a command run on the agent host.
  kGrpc = 5,
  kAlias = 6,
};

std::string_view CheckTypeName(CheckType t);  // "ttl", "http", ... "" for kNone.

struct Node {
  std::string name;          // Consul "Node"; unique key.
  std::string id;            // Consul "ID" (a UUID, may be empty).
  std::string address;
  std::string datacenter;
  Meta meta;                 // "Meta"
  Meta tagged_addresses;     // "TaggedAddresses"
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool operator==(const Node&) const = default;
};

struct Weights {
  int32_t passing = 1;
  int32_t warning = 1;
  bool operator==(const Weights&) const = default;
};

// One instance of a service on a node: Consul's NodeService. The key is
// (node, ns, id).
struct Service {
  std::string node;
  std::string ns{kDefaultNamespace};  // Namespace.
  std::string id;       // "ID": defaults to the name when registered.
  std::string name;     // "Service"
  std::vector<std::string> tags;
  std::string address;
  int32_t port = 0;
  Meta meta;
  Weights weights;
  bool enable_tag_override = false;
  // Sider extension: false takes the instance out of rotation without
  // deregistering it. A disabled instance is never "passing".
  bool enabled = true;
  std::string kind;     // "Kind": "" for a typical service.
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool operator==(const Service&) const = default;
};

// How the agent runs a check; kept with the check so that it survives a
// restart and shows in /v1/agent/checks.
struct CheckDefinition {
  std::string http;                 // URL, for kHttp.
  std::string method;               // default GET
  std::map<std::string, std::vector<std::string>> header;
  std::string body;
  std::string tcp;                  // host:port, for kTcp.
  std::vector<std::string> args;    // for kCmd.
  std::string grpc;
  std::string alias_service;
  bool tls_skip_verify = false;
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t ttl_ns = 0;
  int64_t deregister_critical_after_ns = 0;
  int32_t success_before_passing = 0;
  int32_t failures_before_critical = 0;

  bool operator==(const CheckDefinition&) const = default;
};

// Consul's HealthCheck. The key is (node, check_id). A check with an empty
// service_id is a node check and applies to every service on the node.
struct Check {
  std::string node;
  std::string check_id;   // "CheckID"
  std::string name;
  HealthStatus status = HealthStatus::kCritical;
  std::string notes;
  std::string output;
  std::string service_id;
  std::string service_name;
  std::vector<std::string> service_tags;
  std::string ns{kDefaultNamespace};
  CheckType type = CheckType::kNone;
  CheckDefinition definition;
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool operator==(const Check&) const = default;
};

// The instance's health: the worst of its own checks and its node's checks;
// a disabled instance counts as critical. "maintenance" aggregates as
// critical, as in Consul (maintenance checks are critical checks there).
HealthStatus AggregateHealth(const Service& service,
                             const std::vector<Check>& checks);

// Consul's maintenance-mode check IDs; matched so clients that look for
// them (and the UI) behave as they do against Consul.
inline constexpr std::string_view kNodeMaintenanceCheckId = "_node_maintenance";
inline constexpr std::string_view kServiceMaintenancePrefix =
    "_service_maintenance:";

// ---- Results of reads (what the HTTP layer serialises) ----

// Consul's ServiceNode: one row of /v1/catalog/service/:name.
struct ServiceNode {
  Node node;
  Service service;
};

// Consul's CheckServiceNode: one row of /v1/health/service/:name.
struct CheckServiceNode {
  Node node;
  Service service;
  std::vector<Check> checks;  // Node checks first, then service checks.
};

// /v1/catalog/node/:node
struct NodeServices {
  Node node;
  std::vector<Service> services;
};

// ---- Commands: what the API proposes and the FSM applies ----

// Consul's RegisterRequest: upserts the node, then optionally one service,
// then the checks, atomically. A check naming a service_id that is neither
// in this request nor already on the node is an error (nothing changes).
struct RegisterCommand {
  Node node;
  std::optional<Service> service;
  std::vector<Check> checks;
  // When true, the node row is only created if missing; an existing node's
  // fields (address, meta) are left alone. Agent-path registrations use this.
  bool skip_node_update = false;
};

// Consul's DeregisterRequest: removes a check, or a service (and its
// checks), or — when both ids are empty — the whole node.
struct DeregisterCommand {
  std::string node;
  std::string ns{kDefaultNamespace};
  std::string service_id;
  std::string check_id;
};

// A check's status transition (TTL expiry, a runner's result, a pass after
// expiry). A no-op if the check is gone.
struct UpdateCheckCommand {
  std::string node;
  std::string check_id;
  HealthStatus status = HealthStatus::kCritical;
  std::string output;
};

// Sider extension: enable/disable an instance without deregistering it.
struct SetServiceEnabledCommand {
  std::string node;
  std::string ns{kDefaultNamespace};
  std::string service_id;
  bool enabled = true;
};

}  // namespace sider::structs
