#include "structs/catalog.h"

#include <algorithm>

namespace sider::structs {

std::string_view HealthStatusName(HealthStatus s) {
  switch (s) {
    case HealthStatus::kPassing:
      return "passing";
    case HealthStatus::kWarning:
      return "warning";
    case HealthStatus::kCritical:
      return "critical";
    case HealthStatus::kMaintenance:
      return "maintenance";
  }
  return "critical";  // An out-of-range value read from a corrupt source.
}

std::optional<HealthStatus> ParseHealthStatus(std::string_view name) {
  if (name == "passing") return HealthStatus::kPassing;
  if (name == "warning") return HealthStatus::kWarning;
  if (name == "critical") return HealthStatus::kCritical;
  if (name == "maintenance") return HealthStatus::kMaintenance;
  return std::nullopt;
}

std::string_view CheckTypeName(CheckType t) {
  switch (t) {
    case CheckType::kNone:
      return "";
    case CheckType::kTtl:
      return "ttl";
    case CheckType::kHttp:
      return "http";
    case CheckType::kTcp:
      return "tcp";
    case CheckType::kCmd:
      return "script";  // Consul reports Args checks as "script".
    case CheckType::kGrpc:
      return "grpc";
    case CheckType::kAlias:
      return "alias";
  }
  return "";
}

HealthStatus AggregateHealth(const Service& service,
                             const std::vector<Check>& checks) {
  HealthStatus worst = HealthStatus::kPassing;
  for (const Check& c : checks) {
    // Only the instance's own checks and its node's checks count; callers
    // may pass a node's whole check list.
    if (!c.service_id.empty() && c.service_id != service.id) continue;
    if (!c.node.empty() && !service.node.empty() && c.node != service.node) {
      continue;
    }
    // Consul's maintenance checks are critical checks; aggregate them so.
    const HealthStatus s = c.status == HealthStatus::kMaintenance
                               ? HealthStatus::kCritical
                               : c.status;
    worst = std::max(worst, s);
  }
  if (!service.enabled) worst = HealthStatus::kCritical;
  return worst;
}

}  // namespace sider::structs
