#include "http/handlers/common.h"

namespace sider::http::handlers {

std::optional<bool> ParseBoolParam(const Request& req, std::string_view key) {
  auto v = req.Get(key);
  if (!v) return std::nullopt;
  if (*v == "1" || *v == "t" || *v == "T" || *v == "TRUE" || *v == "true" ||
      *v == "True") {
    return true;
  }
  if (*v == "0" || *v == "f" || *v == "F" || *v == "FALSE" || *v == "false" ||
      *v == "False") {
    return false;
  }
  return std::nullopt;
}

Result<bool> RequireEnableParam(const Request& req) {
  auto enable = ParseBoolParam(req, "enable");
  if (!enable) {
    return Status(Code::kInvalidArgument,
                  "Missing or invalid value for the 'enable' parameter");
  }
  return *enable;
}

}  // namespace sider::http::handlers
