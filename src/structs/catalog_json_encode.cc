// Response encoders for Consul's read shapes. Field order follows the Go
// struct declarations (encoding/json writes fields in declaration order), so
// our bodies diff cleanly against Consul's.
#include <chrono>

#include "base/duration.h"
#include "structs/catalog_json.h"

namespace sider::structs {
namespace {

// Typical row sizes, to size the output string once.
constexpr size_t kNodeBytes = 256;
constexpr size_t kServiceBytes = 320;
constexpr size_t kCheckBytes = 384;

void StringArray(JsonWriter& w, const std::vector<std::string>& list) {
  w.BeginArray();
  for (const auto& s : list) w.String(s);
  w.EndArray();
}

void StringList(JsonWriter& w, JsonKey key,
                const std::vector<std::string>& list) {
  w.Key(key);
  StringArray(w, list);
}

void StringMap(JsonWriter& w, JsonKey key, const Meta& m) {
  w.Key(key);
  w.BeginObject();
  for (const auto& [k, v] : m) {
    w.StringKey(k);
    w.String(v);
  }
  w.EndObject();
}

void WeightsJson(JsonWriter& w, JsonKey key, const Weights& wt) {
  w.Key(key);
  w.BeginObject();
  w.Field("Passing", wt.passing);
  w.Field("Warning", wt.warning);
  w.EndObject();
}

void NamespaceIfNotDefault(JsonWriter& w, const std::string& ns) {
  if (!ns.empty() && ns != kDefaultNamespace) w.Field("Namespace", ns);
}

// A Go duration string, "" for zero: Consul's HealthCheck.Interval/Timeout
// are strings that stay empty for checks without them (TTL checks).
void DurationString(JsonWriter& w, JsonKey key, int64_t ns) {
  w.Key(key);
  if (ns == 0) {
    w.String("");
    return;
  }
  std::string text;
  AppendGoDuration(text, std::chrono::nanoseconds(ns));
  w.String(text);
}

void DurationIfSet(JsonWriter& w, JsonKey key, int64_t ns) {
  if (ns != 0) DurationString(w, key, ns);
}

// Consul's HealthCheckDefinition: every field omitempty, durations as Go
// strings.
void DefinitionJson(JsonWriter& w, const CheckDefinition& d) {
  w.Key("Definition");
  w.BeginObject();
  if (!d.http.empty()) w.Field("HTTP", d.http);
  if (d.tls_skip_verify) w.Field("TLSSkipVerify", true);
  if (!d.header.empty()) {
    w.Key("Header");
    w.BeginObject();
    for (const auto& [name, values] : d.header) {
      w.StringKey(name);
      StringArray(w, values);
    }
    w.EndObject();
  }
  if (!d.method.empty()) w.Field("Method", d.method);
  if (!d.body.empty()) w.Field("Body", d.body);
  if (!d.tcp.empty()) w.Field("TCP", d.tcp);
  DurationIfSet(w, "Interval", d.interval_ns);
  DurationIfSet(w, "Timeout", d.timeout_ns);
  DurationIfSet(w, "DeregisterCriticalServiceAfter",
                d.deregister_critical_after_ns);
  if (!d.args.empty()) StringList(w, "ScriptArgs", d.args);
  if (!d.grpc.empty()) w.Field("GRPC", d.grpc);
  if (!d.alias_service.empty()) w.Field("AliasService", d.alias_service);
  DurationIfSet(w, "TTL", d.ttl_ns);
  w.EndObject();
}

}  // namespace

void AppendNodeJson(JsonWriter& w, const Node& node) {
  w.BeginObject();
  w.Field("ID", node.id);
  w.Field("Node", node.name);
  w.Field("Address", node.address);
  w.Field("Datacenter", node.datacenter);
  StringMap(w, "TaggedAddresses", node.tagged_addresses);
  StringMap(w, "Meta", node.meta);
  w.Field("CreateIndex", node.create_index);
  w.Field("ModifyIndex", node.modify_index);
  w.EndObject();
}

void AppendServiceNodeJson(JsonWriter& w, const Node& node, const Service& s) {
  w.BeginObject();
  w.Field("ID", node.id);
  w.Field("Node", node.name);
  w.Field("Address", node.address);
  w.Field("Datacenter", node.datacenter);
  StringMap(w, "TaggedAddresses", node.tagged_addresses);
  StringMap(w, "NodeMeta", node.meta);
  w.Field("ServiceKind", s.kind);
  w.Field("ServiceID", s.id);
  w.Field("ServiceName", s.name);
  StringList(w, "ServiceTags", s.tags);
  w.Field("ServiceAddress", s.address);
  WeightsJson(w, "ServiceWeights", s.weights);
  StringMap(w, "ServiceMeta", s.meta);
  w.Field("ServicePort", s.port);
  w.Field("ServiceEnableTagOverride", s.enable_tag_override);
  // Consul writes these (non-pointer structs) even without Connect.
  w.Key("ServiceProxy");
  w.Raw("{}");
  w.Key("ServiceConnect");
  w.Raw("{}");
  NamespaceIfNotDefault(w, s.ns);
  w.Field("ServiceEnabled", s.enabled);
  w.Field("CreateIndex", s.create_index);
  w.Field("ModifyIndex", s.modify_index);
  w.EndObject();
}

void AppendNodeServiceJson(JsonWriter& w, const Service& s) {
  w.BeginObject();
  if (!s.kind.empty()) w.Field("Kind", s.kind);
  w.Field("ID", s.id);
  w.Field("Service", s.name);
  StringList(w, "Tags", s.tags);
  w.Field("Address", s.address);
  StringMap(w, "Meta", s.meta);
  w.Field("Port", s.port);
  WeightsJson(w, "Weights", s.weights);
  w.Field("EnableTagOverride", s.enable_tag_override);
  NamespaceIfNotDefault(w, s.ns);
  w.Field("Enabled", s.enabled);
  w.Field("CreateIndex", s.create_index);
  w.Field("ModifyIndex", s.modify_index);
  w.EndObject();
}

void AppendHealthCheckJson(JsonWriter& w, const Check& c) {
  w.BeginObject();
  w.Field("Node", c.node);
  w.Field("CheckID", c.check_id);
  w.Field("Name", c.name);
  w.Field("Status", HealthStatusName(c.status));
  w.Field("Notes", c.notes);
  w.Field("Output", c.output);
  w.Field("ServiceID", c.service_id);
  w.Field("ServiceName", c.service_name);
  StringList(w, "ServiceTags", c.service_tags);
  w.Field("Type", CheckTypeName(c.type));
  DurationString(w, "Interval", c.definition.interval_ns);
  DurationString(w, "Timeout", c.definition.timeout_ns);
  w.Field("ExposedPort", int64_t{0});
  DefinitionJson(w, c.definition);
  NamespaceIfNotDefault(w, c.ns);
  w.Field("CreateIndex", c.create_index);
  w.Field("ModifyIndex", c.modify_index);
  w.EndObject();
}

void AppendCheckServiceNodeJson(JsonWriter& w, const CheckServiceNode& row) {
  w.BeginObject();
  w.Key("Node");
  AppendNodeJson(w, row.node);
  w.Key("Service");
  AppendNodeServiceJson(w, row.service);
  w.Key("Checks");
  w.BeginArray();
  for (const auto& c : row.checks) AppendHealthCheckJson(w, c);
  w.EndArray();
  w.EndObject();
}

void AppendAgentServiceJson(JsonWriter& w, const Service& s,
                            std::string_view datacenter,
                            std::string_view content_hash) {
  w.BeginObject();
  if (!s.kind.empty()) w.Field("Kind", s.kind);
  w.Field("ID", s.id);
  w.Field("Service", s.name);
  StringList(w, "Tags", s.tags);
  StringMap(w, "Meta", s.meta);
  w.Field("Port", s.port);
  w.Field("Address", s.address);
  WeightsJson(w, "Weights", s.weights);
  w.Field("EnableTagOverride", s.enable_tag_override);
  if (!content_hash.empty()) w.Field("ContentHash", content_hash);
  NamespaceIfNotDefault(w, s.ns);
  w.Field("Datacenter", datacenter);
  w.Field("Enabled", s.enabled);
  w.EndObject();
}

std::string EncodeNodes(const std::vector<Node>& nodes) {
  std::string out;
  out.reserve(2 + nodes.size() * kNodeBytes);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& n : nodes) AppendNodeJson(w, n);
  w.EndArray();
  return out;
}

std::string EncodeServiceNodes(const std::vector<ServiceNode>& rows) {
  std::string out;
  out.reserve(2 + rows.size() * (kNodeBytes + kServiceBytes));
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& r : rows) AppendServiceNodeJson(w, r.node, r.service);
  w.EndArray();
  return out;
}

std::string EncodeCheckServiceNodes(const std::vector<CheckServiceNode>& rows) {
  size_t checks = 0;
  for (const auto& r : rows) checks += r.checks.size();
  std::string out;
  out.reserve(2 + rows.size() * (kNodeBytes + kServiceBytes + 32) +
              checks * kCheckBytes);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& r : rows) AppendCheckServiceNodeJson(w, r);
  w.EndArray();
  return out;
}

std::string EncodeChecks(const std::vector<Check>& checks) {
  std::string out;
  out.reserve(2 + checks.size() * kCheckBytes);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& c : checks) AppendHealthCheckJson(w, c);
  w.EndArray();
  return out;
}

std::string EncodeNodeServices(const NodeServices& ns) {
  std::string out;
  out.reserve(32 + kNodeBytes + ns.services.size() * kServiceBytes);
  JsonWriter w(out);
  w.BeginObject();
  w.Key("Node");
  AppendNodeJson(w, ns.node);
  w.Key("Services");
  w.BeginObject();
  for (const auto& s : ns.services) {
    w.StringKey(s.id);
    AppendNodeServiceJson(w, s);
  }
  w.EndObject();
  w.EndObject();
  return out;
}

std::string EncodeNodeServices(const std::optional<NodeServices>& ns,
                               std::string_view datacenter) {
  if (!ns) return "null";
  if (!ns->node.datacenter.empty()) return EncodeNodeServices(*ns);
  NodeServices copy = *ns;
  copy.node.datacenter = datacenter;
  return EncodeNodeServices(copy);
}

namespace {

template <typename Rows>
std::string CatalogServices(const Rows& services) {
  std::string out;
  out.reserve(2 + services.size() * 48);
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& [name, tags] : services) {
    w.StringKey(name);
    StringArray(w, tags);
  }
  w.EndObject();
  return out;
}

}  // namespace

std::string EncodeCatalogServices(
    const std::vector<std::pair<std::string, std::vector<std::string>>>&
        services) {
  return CatalogServices(services);
}

std::string EncodeCatalogServices(
    const std::map<std::string, std::vector<std::string>>& services) {
  return CatalogServices(services);
}

std::string EncodeAgentServices(const std::vector<Service>& services,
                                std::string_view datacenter) {
  std::string out;
  out.reserve(2 + services.size() * kServiceBytes);
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& s : services) {
    w.StringKey(s.id);
    AppendAgentServiceJson(w, s, datacenter);
  }
  w.EndObject();
  return out;
}

std::string EncodeAgentService(const Service& service,
                               std::string_view datacenter,
                               std::string_view content_hash) {
  std::string out;
  out.reserve(kServiceBytes);
  JsonWriter w(out);
  AppendAgentServiceJson(w, service, datacenter, content_hash);
  return out;
}

std::string EncodeAgentChecks(const std::vector<Check>& checks) {
  std::string out;
  out.reserve(2 + checks.size() * kCheckBytes);
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& c : checks) {
    w.StringKey(c.check_id);
    AppendHealthCheckJson(w, c);
  }
  w.EndObject();
  return out;
}

}  // namespace sider::structs
