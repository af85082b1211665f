// Helpers shared by the handler files: answering a write, reading
// presence-style flags ("?enable=true").
//
// Thread safety: free functions over values.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "base/status.h"
#include "http/http.h"

namespace sider::http::handlers {

// A write's answer: 200 with `ok_body` (Consul answers agent writes with an
// empty body and catalog writes with `true`), or the mapped error.
inline std::function<void(Status)> WriteReply(Responder respond,
                                              std::string ok_body = "") {
  return [respond = std::move(respond),
          ok_body = std::move(ok_body)](Status s) {
    if (!s.ok()) {
      respond(ErrorResponse(s));
      return;
    }
    Response r = JsonResponse(ok_body);
    respond(std::move(r));
  };
}

// Parses a boolean query parameter the way Go's strconv.ParseBool does
// ("1", "t", "T", "TRUE", "true", "True", "0", "f", ...). nullopt if absent
// or unparsable.
std::optional<bool> ParseBoolParam(const Request& req, std::string_view key);

// The `?enable=` flag that maintenance and enable endpoints require:
// kInvalidArgument with Consul's text when it is missing or not a bool.
Result<bool> RequireEnableParam(const Request& req);

}  // namespace sider::http::handlers
