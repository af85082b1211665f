// The one Status -> HTTP mapping. Consul's agent/http.go turns an RPC error
// into a status code by kind and defaults everything else to 500; clients
// (consul-template, python-consul, the Go api package) retry on 5xx and give
// up on 4xx, so the split below is what decides whether they retry.
//
//   kInvalidArgument    400  Consul's BadRequestError ("Bad request: ...").
//   kNotFound           404  NotFoundError.
//   kFailedPrecondition 400  The request cannot succeed in the current state
//                            and retrying it unchanged will not help (e.g.
//                            registering a service on an unknown node). CAS
//                            and lock misses never get here: Consul answers
//                            those 200 "false" and so do our KV handlers.
//   kPermissionDenied   403  ACL "Permission denied".
//   kUnavailable        500  Consul answers "No cluster leader" with 500, and
//                            clients rely on that to retry; we match it.
//   kDeadlineExceeded   500  Consul has no 504: a timed-out forwarded RPC is
//                            "rpc error making call: ... timeout", a 500.
//   kInternal           500
//   kDataLoss           500
//   kOutcomeUnknown     500  Leadership was lost mid-write; the body says
//                            "outcome unknown" so an operator (or a careful
//                            client) knows a retry may apply twice.
//   kTooLarge           413  Consul's "Request body too large" / value over
//                            the KV limit.
//   kConflict           409  Consul's /v1/txn rollback answers 409.
#include <string>
#include <utility>

#include "http/http.h"

namespace sider::http {

unsigned HttpStatusFor(Code code) {
  // No default: a new Code must be mapped here before it compiles cleanly.
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kFailedPrecondition: return 400;
    case Code::kPermissionDenied: return 403;
    case Code::kUnavailable: return 500;
    case Code::kDeadlineExceeded: return 500;
    case Code::kInternal: return 500;
    case Code::kDataLoss: return 500;
    case Code::kOutcomeUnknown: return 500;
    case Code::kTooLarge: return 413;
    case Code::kConflict: return 409;
  }
  return 500;  // A value outside the enum: treat as a bug.
}

Response ErrorResponse(const Status& status) {
  std::string body;
  if (status.code() == Code::kOutcomeUnknown) {
    body = "outcome unknown: ";
  }
  body += status.message().empty() ? std::string("error") : status.message();
  body += '\n';
  return TextResponse(HttpStatusFor(status.code()), std::move(body));
}

Response JsonResponse(std::string body, unsigned status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response TextResponse(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace sider::http
