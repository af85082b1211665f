// The HTTP front end's vocabulary: a parsed Request, a Response, and the
// Handler signature every endpoint implements. Handlers are thin: parse,
// validate, call a server/ service, map its Status with ErrorResponse().
//
// Threading: a Handler is called on an io thread. It must not block; it
// answers by calling the Responder exactly once, from any thread (the
// connection posts the write back to its own strand).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sider::http {

enum class Method { kGet, kPut, kPost, kDelete, kHead, kOther };

struct Request {
  Method method = Method::kGet;
  std::string path;    // Percent-decoded path, without the query string.
  std::string target;  // Raw request target, as received.
  // Percent-decoded query parameters in order; a key given without '='
  // (e.g. "?passing") has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // As received.
  std::string body;

  // True if the parameter is present at all ("?recurse", "?recurse=1").
  bool Has(std::string_view key) const;
  // The first value of `key`, if present.
  std::optional<std::string> Get(std::string_view key) const;
  // Every value of a repeated parameter ("?tag=a&tag=b").
  std::vector<std::string> GetAll(std::string_view key) const;
  // Case-insensitive header lookup.
  std::optional<std::string> Header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request, Responder)>;

// The one Status -> HTTP mapping (http/errors.cc): a plain-text body with
// the message and Consul's status code for the case (400, 404, 409, 413,
// 500; kOutcomeUnknown is 500 with "outcome unknown" in the text).
Response ErrorResponse(const Status& status);
unsigned HttpStatusFor(Code code);

// A JSON reply (200 unless told otherwise).
Response JsonResponse(std::string body, unsigned status = 200);

}  // namespace sider::http
