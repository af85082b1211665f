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

}  // namespace sider::http::handlers
