// Request decoders for the registration endpoints. Validation follows
// Consul's (agent/structs CheckType.Validate, ValidateWeights,
// ValidateServiceMetadata, catalog servicePreApply) and keeps its messages
// where clients or operators may match on them.
#include <string>

#include "structs/catalog_json.h"
#include "structs/json_fields.h"

namespace sider::structs {
namespace {

using internal::DecodeError;
using internal::Fields;
using internal::Json;
using internal::ParseObjectBody;

Status Invalid(std::string message) {
  return Status(Code::kInvalidArgument, std::move(message));
}

// Consul's metadata limits (structs.validateMetaPair).
constexpr size_t kMetaMaxPairs = 64;
constexpr size_t kMetaKeyMaxLength = 128;
constexpr size_t kMetaValueMaxLength = 512;

Status ValidateMeta(const Meta& meta, std::string_view what) {
  if (meta.size() > kMetaMaxPairs) {
    return Invalid("Invalid " + std::string(what) +
                   ": metadata cannot contain more than 64 key/value pairs");
  }
  for (const auto& [k, v] : meta) {
    std::string problem;
    if (k.empty()) {
      problem = "Key cannot be blank";
    } else if (k.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
               std::string::npos) {
      problem = "Key contains invalid characters";
    } else if (k.size() > kMetaKeyMaxLength) {
      problem = "Key is too long (limit: 128 characters)";
    } else if (k.rfind("consul-", 0) == 0) {
      problem = "Key prefix 'consul-' is reserved for internal use";
    } else if (v.size() > kMetaValueMaxLength) {
      problem = "Value is too long (limit: 512 characters)";
    }
    if (!problem.empty()) {
      return Invalid("Invalid " + std::string(what) + ": " + problem);
    }
  }
  return Status::Ok();
}

// Consul refuses a wildcard bind address as a service address
// (ipaddr.IsAny): it cannot be dialled by anyone.
bool IsAnyAddress(std::string_view a) {
  return a == "0.0.0.0" || a == "::" || a == "[::]";
}

// "Weights": when present, missing members are 0 (Go zero values) and then
// validated as Consul's ValidateWeights does; absent means {1, 1}.
Status DecodeWeights(const Fields& f, Weights* out) {
  const Json* j = f.Find("Weights");
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) return f.Error("Weights", "expected an object");
  Fields wf(*j, f.path() + "Weights.");
  Weights w{0, 0};
  SIDER_RETURN_IF_ERROR(wf.Int32("Passing", INT32_MIN, INT32_MAX, &w.passing));
  SIDER_RETURN_IF_ERROR(wf.Int32("Warning", INT32_MIN, INT32_MAX, &w.warning));
  if (w.passing < 1)
    return Invalid("Invalid Weights: Passing must be greater than 0");
  if (w.warning < 0) {
    return Invalid("Invalid Weights: Warning must be greater or equal than 0");
  }
  *out = w;
  return Status::Ok();
}

Status DecodeNamespace(const Fields& f, std::string* ns) {
  SIDER_RETURN_IF_ERROR(f.Str("Namespace", ns));
  if (ns->empty()) *ns = kDefaultNamespace;
  return Status::Ok();
}

// Fields shared by the agent's service body and the catalog's "Service".
// `name_key` is "Name" (agent) or "Service" (catalog).
Status DecodeServiceFields(const Fields& f, std::string_view name_key,
                           Service* s) {
  SIDER_RETURN_IF_ERROR(f.Str("ID", &s->id));
  SIDER_RETURN_IF_ERROR(f.Str(name_key, &s->name));
  SIDER_RETURN_IF_ERROR(f.StrList("Tags", &s->tags));
  SIDER_RETURN_IF_ERROR(f.Str("Address", &s->address));
  SIDER_RETURN_IF_ERROR(f.Int32("Port", 0, 65535, &s->port));
  SIDER_RETURN_IF_ERROR(f.StrMap("Meta", &s->meta));
  SIDER_RETURN_IF_ERROR(DecodeWeights(f, &s->weights));
  SIDER_RETURN_IF_ERROR(f.Bool("EnableTagOverride", &s->enable_tag_override));
  SIDER_RETURN_IF_ERROR(f.Str("Kind", &s->kind));
  SIDER_RETURN_IF_ERROR(f.Bool("Enabled", &s->enabled));  // Sider extension.
  SIDER_RETURN_IF_ERROR(DecodeNamespace(f, &s->ns));
  if (s->id.empty()) s->id = s->name;
  if (IsAnyAddress(s->address)) return Invalid("Invalid service address");
  return Status::Ok();
}

Status DecodeStatus(const Fields& f, bool allow_maintenance,
                    HealthStatus* out) {
  std::string text;
  SIDER_RETURN_IF_ERROR(f.Str("Status", &text));
  if (text.empty()) return Status::Ok();
  auto s = ParseHealthStatus(text);
  if (!s || (*s == HealthStatus::kMaintenance && !allow_maintenance)) {
    return Invalid("Status for checks must 'passing', 'warning', 'critical'");
  }
  *out = *s;
  return Status::Ok();
}

// An agent check body (Consul's CheckType, plus CheckDefinition's ID, Name,
// Notes, ServiceID): everything but the defaults that depend on context.
// `check_id` is "CheckID" or, failing that, "ID".
Status DecodeAgentCheckFields(const Fields& f, Check* c) {
  for (std::string_view unsupported :
       {"Script", "DockerContainerID", "Shell", "H2PING", "UDP", "AliasNode",
        "OSService"}) {
    const Json* j = f.Find(unsupported);
    if (j != nullptr &&
        !(j->is_string() && j->get_ref<const std::string&>().empty())) {
      return Invalid("Invalid check: " + std::string(unsupported) +
                     " checks are not supported" +
                     (unsupported == "Script" ? "; use Args" : ""));
    }
  }
  SIDER_RETURN_IF_ERROR(f.Str("ID", &c->check_id));
  std::string check_id;
  SIDER_RETURN_IF_ERROR(f.Str("CheckID", &check_id));
  if (!check_id.empty()) c->check_id = std::move(check_id);
  SIDER_RETURN_IF_ERROR(f.Str("Name", &c->name));
  SIDER_RETURN_IF_ERROR(f.Str("Notes", &c->notes));
  SIDER_RETURN_IF_ERROR(
      DecodeStatus(f, /*allow_maintenance=*/false, &c->status));

  CheckDefinition& d = c->definition;
  SIDER_RETURN_IF_ERROR(f.Str("HTTP", &d.http));
  SIDER_RETURN_IF_ERROR(f.Str("Method", &d.method));
  SIDER_RETURN_IF_ERROR(f.Header("Header", &d.header));
  SIDER_RETURN_IF_ERROR(f.Str("Body", &d.body));
  SIDER_RETURN_IF_ERROR(f.Bool("TLSSkipVerify", &d.tls_skip_verify));
  SIDER_RETURN_IF_ERROR(f.Str("TCP", &d.tcp));
  SIDER_RETURN_IF_ERROR(f.StrList("ScriptArgs", &d.args));
  SIDER_RETURN_IF_ERROR(
      f.StrList("Args", &d.args));  // Args wins, as in Consul.
  SIDER_RETURN_IF_ERROR(f.Str("GRPC", &d.grpc));
  SIDER_RETURN_IF_ERROR(f.Str("AliasService", &d.alias_service));
  SIDER_RETURN_IF_ERROR(f.Duration("Interval", &d.interval_ns));
  SIDER_RETURN_IF_ERROR(f.Duration("Timeout", &d.timeout_ns));
  SIDER_RETURN_IF_ERROR(f.Duration("TTL", &d.ttl_ns));
  SIDER_RETURN_IF_ERROR(f.Duration("DeregisterCriticalServiceAfter",
                                   &d.deregister_critical_after_ns));
  SIDER_RETURN_IF_ERROR(
      f.Int32("SuccessBeforePassing", 0, INT32_MAX, &d.success_before_passing));
  SIDER_RETURN_IF_ERROR(f.Int32("FailuresBeforeCritical", 0, INT32_MAX,
                                &d.failures_before_critical));
  return Status::Ok();
}

// Consul's CheckType.Validate, plus one rule Consul leaves implicit (it
// silently picks one kind by priority): at most one of HTTP, TCP, Args,
// GRPC, AliasService. Sets c->type.
Status ValidateAgentCheck(Check* c) {
  const CheckDefinition& d = c->definition;
  int kinds = 0;
  CheckType type = CheckType::kTtl;
  if (!d.http.empty()) ++kinds, type = CheckType::kHttp;
  if (!d.tcp.empty()) ++kinds, type = CheckType::kTcp;
  if (!d.args.empty()) ++kinds, type = CheckType::kCmd;
  if (!d.grpc.empty()) ++kinds, type = CheckType::kGrpc;
  if (!d.alias_service.empty()) ++kinds, type = CheckType::kAlias;
  if (kinds > 1) {
    return Invalid(
        "Invalid check: only one of HTTP, TCP, Args, GRPC or AliasService "
        "may be set");
  }
  const bool alias = type == CheckType::kAlias;
  const bool interval_check = kinds == 1 && !alias;
  if (d.interval_ns > 0 && d.ttl_ns > 0) {
    return Invalid("Invalid check: Interval and TTL cannot both be specified");
  }
  if (interval_check && d.interval_ns <= 0) {
    return Invalid(
        "Invalid check: Interval must be > 0 for Script, HTTP, TCP or GRPC "
        "checks");
  }
  if (alias && d.ttl_ns > 0) {
    return Invalid("Invalid check: TTL must not be set for Alias checks");
  }
  if (kinds == 0 && d.ttl_ns <= 0) {
    return Invalid("Invalid check: TTL must be > 0 for TTL checks");
  }
  c->type = type;
  return Status::Ok();
}

// One element of a service's "Check"/"Checks". Returns false in *present
// for an empty "Check" object, which Consul ignores.
Status DecodeServiceCheck(const Json& j, const std::string& path, Check* c,
                          bool* present) {
  if (!j.is_object()) {
    return DecodeError(path + ": expected an object, got " +
                       std::string(internal::JsonTypeName(j)));
  }
  Fields f(j, path + ".");
  *present = !f.Empty();
  if (!*present) return Status::Ok();
  SIDER_RETURN_IF_ERROR(DecodeAgentCheckFields(f, c));
  return ValidateAgentCheck(c);
}

}  // namespace

Result<AgentServiceRegistration> DecodeAgentServiceRegistration(
    std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseObjectBody(body));
  Fields f(j, "");
  AgentServiceRegistration reg;
  Service& s = reg.service;
  SIDER_RETURN_IF_ERROR(DecodeServiceFields(f, "Name", &s));
  if (s.name.empty()) return Invalid("Missing service name");
  SIDER_RETURN_IF_ERROR(ValidateMeta(s.meta, "Service Meta"));

  // Consul's ServiceDefinition.CheckTypes(): "Check" first, then "Checks".
  if (const Json* one = f.Find("Check")) {
    Check c;
    bool present = false;
    SIDER_RETURN_IF_ERROR(DecodeServiceCheck(*one, "Check", &c, &present));
    if (present) reg.checks.push_back(std::move(c));
  }
  if (const Json* list = f.Find("Checks")) {
    if (!list->is_array()) return f.Error("Checks", "expected an array");
    for (size_t i = 0; i < list->size(); ++i) {
      Check c;
      bool present = true;
      std::string path = "Checks[" + std::to_string(i) + "]";
      SIDER_RETURN_IF_ERROR(DecodeServiceCheck((*list)[i], path, &c, &present));
      // An empty element is not skipped: Consul validates it and fails.
      if (!present) SIDER_RETURN_IF_ERROR(ValidateAgentCheck(&c));
      reg.checks.push_back(std::move(c));
    }
  }
  // Consul's agent.addServiceInternal defaults.
  const bool several = reg.checks.size() > 1;
  for (size_t i = 0; i < reg.checks.size(); ++i) {
    Check& c = reg.checks[i];
    if (c.check_id.empty()) {
      c.check_id = "service:" + s.id;
      if (several) c.check_id += ":" + std::to_string(i + 1);
    }
    if (c.name.empty()) c.name = "Service '" + s.name + "' check";
    c.service_id = s.id;
    c.service_name = s.name;
    c.service_tags = s.tags;
    c.ns = s.ns;
  }
  return reg;
}

Result<Check> DecodeAgentCheckRegistration(std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseObjectBody(body));
  Fields f(j, "");
  Check c;
  SIDER_RETURN_IF_ERROR(DecodeAgentCheckFields(f, &c));
  SIDER_RETURN_IF_ERROR(f.Str("ServiceID", &c.service_id));
  SIDER_RETURN_IF_ERROR(DecodeNamespace(f, &c.ns));
  if (c.name.empty()) return Invalid("Missing check name");
  SIDER_RETURN_IF_ERROR(ValidateAgentCheck(&c));
  if (c.check_id.empty()) c.check_id = c.name;
  return c;
}

namespace {

// The check type a catalog-registered check reports: from its definition,
// else from an explicit "Type" matching one of ours, else none.
CheckType CatalogCheckType(const CheckDefinition& d, std::string_view type) {
  if (!d.http.empty()) return CheckType::kHttp;
  if (!d.tcp.empty()) return CheckType::kTcp;
  if (!d.grpc.empty()) return CheckType::kGrpc;
  if (!d.args.empty()) return CheckType::kCmd;
  if (!d.alias_service.empty()) return CheckType::kAlias;
  if (d.ttl_ns > 0) return CheckType::kTtl;
  for (CheckType t : {CheckType::kTtl, CheckType::kHttp, CheckType::kTcp,
                      CheckType::kCmd, CheckType::kGrpc, CheckType::kAlias}) {
    if (!type.empty() && CheckTypeName(t) == type) return t;
  }
  return CheckType::kNone;
}

// Consul's HealthCheckDefinition: durations under either "Interval" or
// "IntervalDuration" (and likewise), as its UnmarshalJSON accepts.
Status DecodeCatalogDefinition(const Fields& f, CheckDefinition* d) {
  const Json* j = f.Find("Definition");
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) return f.Error("Definition", "expected an object");
  Fields df(*j, f.path() + "Definition.");
  SIDER_RETURN_IF_ERROR(df.Str("HTTP", &d->http));
  SIDER_RETURN_IF_ERROR(df.Str("Method", &d->method));
  SIDER_RETURN_IF_ERROR(df.Header("Header", &d->header));
  SIDER_RETURN_IF_ERROR(df.Str("Body", &d->body));
  SIDER_RETURN_IF_ERROR(df.Bool("TLSSkipVerify", &d->tls_skip_verify));
  SIDER_RETURN_IF_ERROR(df.Str("TCP", &d->tcp));
  SIDER_RETURN_IF_ERROR(df.StrList("ScriptArgs", &d->args));
  SIDER_RETURN_IF_ERROR(df.Str("GRPC", &d->grpc));
  SIDER_RETURN_IF_ERROR(df.Str("AliasService", &d->alias_service));
  for (auto [name, field] :
       {std::pair<std::string_view, int64_t*>{"Interval", &d->interval_ns},
        {"Timeout", &d->timeout_ns},
        {"TTL", &d->ttl_ns},
        {"DeregisterCriticalServiceAfter", &d->deregister_critical_after_ns}}) {
    SIDER_RETURN_IF_ERROR(df.Duration(name, field));
    SIDER_RETURN_IF_ERROR(df.Duration(std::string(name) + "Duration", field));
  }
  return Status::Ok();
}

Status DecodeCatalogCheck(const Json& j, const std::string& path,
                          const RegisterCommand& cmd, Check* c) {
  if (!j.is_object()) {
    return DecodeError(path + ": expected an object, got " +
                       std::string(internal::JsonTypeName(j)));
  }
  Fields f(j, path + ".");
  SIDER_RETURN_IF_ERROR(f.Str("Node", &c->node));
  SIDER_RETURN_IF_ERROR(f.Str("CheckID", &c->check_id));
  SIDER_RETURN_IF_ERROR(f.Str("Name", &c->name));
  SIDER_RETURN_IF_ERROR(
      DecodeStatus(f, /*allow_maintenance=*/true, &c->status));
  SIDER_RETURN_IF_ERROR(f.Str("Notes", &c->notes));
  SIDER_RETURN_IF_ERROR(f.Str("Output", &c->output));
  SIDER_RETURN_IF_ERROR(f.Str("ServiceID", &c->service_id));
  SIDER_RETURN_IF_ERROR(DecodeNamespace(f, &c->ns));
  std::string type;
  SIDER_RETURN_IF_ERROR(f.Str("Type", &type));
  SIDER_RETURN_IF_ERROR(DecodeCatalogDefinition(f, &c->definition));
  c->type = CatalogCheckType(c->definition, type);
  // Consul's Catalog.Register defaults, then the state store's checks.
  if (c->node.empty()) c->node = cmd.node.name;
  if (c->check_id.empty()) c->check_id = c->name;
  if (c->check_id.empty()) return Invalid("Missing check ID");
  if (c->node != cmd.node.name) {
    return Invalid("Node '" + c->node + "' for check '" + c->check_id +
                   "' doesn't match register request node '" + cmd.node.name +
                   "'");
  }
  return Status::Ok();
}

// 8-4-4-4-12 hex digits, as Consul's uuid.ParseUUID requires.
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                 (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<RegisterCommand> DecodeCatalogRegister(std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseObjectBody(body));
  Fields f(j, "");
  RegisterCommand cmd;
  Node& n = cmd.node;
  SIDER_RETURN_IF_ERROR(f.Str("ID", &n.id));
  SIDER_RETURN_IF_ERROR(f.Str("Node", &n.name));
  SIDER_RETURN_IF_ERROR(f.Str("Address", &n.address));
  SIDER_RETURN_IF_ERROR(f.Str("Datacenter", &n.datacenter));
  SIDER_RETURN_IF_ERROR(f.StrMap("TaggedAddresses", &n.tagged_addresses));
  SIDER_RETURN_IF_ERROR(f.StrMap("NodeMeta", &n.meta));
  SIDER_RETURN_IF_ERROR(f.Bool("SkipNodeUpdate", &cmd.skip_node_update));
  if (n.name.empty() || n.address.empty()) {
    return Invalid("Must provide node and address");
  }
  if (!n.id.empty() && !IsUuid(n.id)) {
    return Invalid("Bad node ID: must be a 36-character UUID");
  }
  SIDER_RETURN_IF_ERROR(ValidateMeta(n.meta, "node metadata"));

  if (const Json* sj = f.Find("Service")) {
    if (!sj->is_object()) return f.Error("Service", "expected an object");
    Fields sf(*sj, "Service.");
    Service s;
    SIDER_RETURN_IF_ERROR(DecodeServiceFields(sf, "Service", &s));
    if (s.name.empty()) return Invalid("Must provide service name with ID");
    s.node = n.name;
    cmd.service = std::move(s);
  }
  // Consul appends the single "Check" after "Checks".
  if (const Json* list = f.Find("Checks")) {
    if (!list->is_array()) return f.Error("Checks", "expected an array");
    for (size_t i = 0; i < list->size(); ++i) {
      Check c;
      SIDER_RETURN_IF_ERROR(DecodeCatalogCheck(
          (*list)[i], "Checks[" + std::to_string(i) + "]", cmd, &c));
      cmd.checks.push_back(std::move(c));
    }
  }
  if (const Json* one = f.Find("Check")) {
    Check c;
    SIDER_RETURN_IF_ERROR(DecodeCatalogCheck(*one, "Check", cmd, &c));
    cmd.checks.push_back(std::move(c));
  }
  return cmd;
}

Result<DeregisterCommand> DecodeCatalogDeregister(std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseObjectBody(body));
  Fields f(j, "");
  DeregisterCommand cmd;
  SIDER_RETURN_IF_ERROR(f.Str("Node", &cmd.node));
  SIDER_RETURN_IF_ERROR(f.Str("ServiceID", &cmd.service_id));
  SIDER_RETURN_IF_ERROR(f.Str("CheckID", &cmd.check_id));
  SIDER_RETURN_IF_ERROR(DecodeNamespace(f, &cmd.ns));
  if (cmd.node.empty()) return Invalid("Must provide node");
  return cmd;
}

Result<CheckUpdate> DecodeCheckUpdate(std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseObjectBody(body));
  Fields f(j, "");
  std::string status;
  CheckUpdate u;
  SIDER_RETURN_IF_ERROR(f.Str("Status", &status));
  SIDER_RETURN_IF_ERROR(f.Str("Output", &u.output));
  auto s = ParseHealthStatus(status);
  if (!s || *s == HealthStatus::kMaintenance) {
    return Invalid("Invalid check status: '" + status + "'");
  }
  u.status = *s;
  return u;
}

}  // namespace sider::structs
