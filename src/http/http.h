// The HTTP front end's vocabulary: a parsed Request, a Response, and the
// Handler signature every endpoint implements. Handlers are thin: parse,
// validate, call a server/ service, map its Status with ErrorResponse().
//
// Threading: a Handler is called on an io thread. It must not block; it
// answers by calling the Responder exactly once, from any thread (the
// connection posts the write back to its own strand).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/asio.h"
#include "base/mutex.h"
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
  // Set by the Router for a prefix pattern ("/v1/kv/*"): where, in `path`,
  // the part matched by '*' starts. npos for an exact pattern.
  size_t param_pos = std::string::npos;
  // The strand of the connection the request came on (set by the Server;
  // empty for requests built in-process). A handler that answers later may
  // run its continuation there, so that the Responder writes the answer
  // inline instead of queueing one more handler (blocking queries do).
  asio::any_io_executor strand;

  // The part of `path` matched by a prefix pattern's '*' ("/v1/kv/*" and
  // path "/v1/kv/a/b" give "a/b"); empty for an exact pattern. A view into
  // `path`, so it is valid while this Request is unchanged.
  std::string_view Param() const {
    if (param_pos == std::string::npos || param_pos > path.size()) return {};
    return std::string_view(path).substr(param_pos);
  }

  // True if the parameter is present at all ("?recurse", "?recurse=1").
  bool Has(std::string_view key) const;
  // The first value of `key`, if present.
  std::optional<std::string> Get(std::string_view key) const;
  // Every value of a repeated parameter ("?tag=a&tag=b").
  std::vector<std::string> GetAll(std::string_view key) const;
  // Case-insensitive header lookup.
  std::optional<std::string> Header(std::string_view name) const;
};

struct SharedReply;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the reply is `shared->response` and the fields above are
  // ignored: one reply written to many requests without a copy each.
  std::shared_ptr<const SharedReply> shared;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// A reply that many requests receive unchanged: a cached read answering
// every blocking query that one change woke. The Server writes the body
// from here (no copy per request) and serializes the status line and
// headers once per distinct set that its `decorate` callback yields, then
// writes those bytes as they are (server.cc keeps them in `wire`).
//
// Thread safety: `response` is immutable; `wire` is the Server's, under mu.
struct SharedReply {
  struct Wire;  // Defined in server.cc.
  explicit SharedReply(Response r) : response(std::move(r)) {}
  const Response response;  // Its own `shared` is null.
  mutable Mutex mu;
  mutable std::shared_ptr<const Wire> wire SIDER_GUARDED_BY(mu);
};

using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request, Responder)>;

// "GET", "PUT", ...; "OTHER" for kOther.
std::string_view MethodName(Method method);

// The one Status -> HTTP mapping (http/errors.cc): a plain-text body with
// the message and Consul's status code for the case (400, 404, 409, 413,
// 500; kOutcomeUnknown is 500 with "outcome unknown" in the text).
Response ErrorResponse(const Status& status);
unsigned HttpStatusFor(Code code);

// A JSON reply (200 unless told otherwise).
Response JsonResponse(std::string body, unsigned status = 200);

// A plain-text reply ("text/plain; charset=utf-8").
Response TextResponse(unsigned status, std::string body);

// Decodes %XX escapes (http/request.cc). With `plus_is_space` a '+' becomes
// ' ', as in a query string (Go's url.QueryUnescape); in a path it stays '+'
// (url.PathUnescape). A '%' not followed by two hex digits is
// kInvalidArgument, which the server answers with 400.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Splits a raw query string ("a=1&b&tag=x&tag=y", without the '?') into
// decoded (key, value) pairs, in order, appending to `out`. Empty segments
// ("a=1&&b") are skipped, as Go's url.ParseQuery does.
Status ParseQuery(std::string_view raw,
                  std::vector<std::pair<std::string, std::string>>* out);

// Fills req->path and req->query from req->target (origin-form
// "/path?query"; an absolute-form "http://host/path?q" target is reduced to
// its path as Go does). kInvalidArgument for bad escapes or a target that is
// neither.
Status ParseTarget(Request* req);

}  // namespace sider::http
