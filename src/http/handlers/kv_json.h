// Consul's JSON wire shapes for the coordination endpoints: KV entries
// (api.KVPair), sessions (api.SessionEntry), session create bodies,
// transactions (api.TxnOps / TxnResponse) and user events (api.UserEvent).
// structs/kv.h keeps the plain values; this file is the only place that
// knows their JSON.
//
// Decoding matches keys as Go's encoding/json does (ASCII case-insensitive;
// python-consul sends "name", "ttl", "lockdelay"); errors are
// kInvalidArgument with a message fit for a 400.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/event_service.h"
#include "structs/kv.h"

namespace sider::http::handlers {

// Standard base64 with padding (Go's base64.StdEncoding, which is how Go
// encodes a []byte in JSON).
void AppendBase64(std::string& out, std::string_view bytes);
Result<std::string> DecodeBase64(std::string_view text);

// [{"LockIndex":..,"Key":..,"Flags":..,"Value":<base64|null>,
//   "Session":..(omitted if empty),"CreateIndex":..,"ModifyIndex":..}, ...]
std::string EncodeKvEntries(const std::vector<structs::KvEntry>& entries);
// ["a", "b/"]
std::string EncodeStrings(const std::vector<std::string>& strings);

// Consul's session entry; NodeChecks/ServiceChecks are null when empty, and
// the legacy "Checks" (the node checks) is present only when non-empty.
std::string EncodeSessions(const std::vector<structs::Session>& sessions);

// A decoded PUT /v1/session/create body. The session's id, and the
// defaults that depend on the server (node, checks), are filled in later.
struct SessionCreateRequest {
  structs::Session session;
  bool node_checks_given = false;  // Checks / NodeChecks present (even []).
  std::chrono::nanoseconds ttl{0};  // Parsed TTL; 0 for none.
};
// An empty body is a session with every default. LockDelay is a Go
// duration string or a number (as Consul's FixupLockDelay: a number below
// 1000 counts seconds, otherwise nanoseconds). TTL must parse as a Go
// duration ("Session TTL '<x>' invalid: ..."); its range is the server's
// to check.
Result<SessionCreateRequest> DecodeSessionCreate(std::string_view body);

// A /v1/txn body: [{"KV": {"Verb","Key","Value","Flags","Index",
// "Session"}}, ...]. Value is base64. kInvalidArgument for anything
// malformed, for non-KV operations and for unknown verbs.
Result<std::vector<structs::TxnKvOp>> DecodeTxn(std::string_view body);
// {"Results":[{"KV":{...}}]|null,"Errors":[{"OpIndex":n,"What":".."}]|null}
std::string EncodeTxnResult(const structs::TxnResult& result);

// Consul's UserEvent: {"ID","Name","Payload"(base64|null),"NodeFilter",
// "ServiceFilter","TagFilter","Version","LTime"}.
std::string EncodeEvent(const server::UserEvent& event);
std::string EncodeEvents(const std::vector<server::UserEvent>& events);

}  // namespace sider::http::handlers
