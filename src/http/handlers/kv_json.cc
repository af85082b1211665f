#include "http/handlers/kv_json.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/duration.h"
#include "structs/json_writer.h"

namespace sider::http::handlers {
namespace {

using Json = nlohmann::json;
using structs::JsonWriter;

constexpr char kB64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool KeyIs(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    if (Lower(key[i]) != Lower(name[i])) return false;
  }
  return true;
}

Status DecodeError(std::string_view what) {
  return Status(Code::kInvalidArgument,
                "Request decode failed: " + std::string(what));
}

// The member of `obj` named `name` (Go's case-insensitive match; the last
// match wins, as in Go), or nullptr. A null value counts as absent.
const Json* Find(const Json& obj, std::string_view name) {
  const Json* found = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (KeyIs(it.key(), name)) found = &it.value();
  }
  return found && !found->is_null() ? found : nullptr;
}

Status GetString(const Json& obj, std::string_view name, std::string* out) {
  const Json* v = Find(obj, name);
  if (!v) return Status::Ok();
  if (!v->is_string()) {
    return DecodeError(std::string(name) + ": expected a string");
  }
  *out = v->get<std::string>();
  return Status::Ok();
}

Status GetUint(const Json& obj, std::string_view name, uint64_t* out) {
  const Json* v = Find(obj, name);
  if (!v) return Status::Ok();
  if (v->is_number_unsigned()) {
    *out = v->get<uint64_t>();
  } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v->get<int64_t>());
  } else {
    return DecodeError(std::string(name) + ": expected an unsigned integer");
  }
  return Status::Ok();
}

// Returns whether the member was present.
Result<bool> GetStrings(const Json& obj, std::string_view name,
                        std::vector<std::string>* out) {
  const Json* v = Find(obj, name);
  if (!v) return false;
  if (!v->is_array()) {
    return DecodeError(std::string(name) + ": expected an array of strings");
  }
  for (const Json& e : *v) {
    if (!e.is_string()) {
      return DecodeError(std::string(name) + ": expected an array of strings");
    }
    out->push_back(e.get<std::string>());
  }
  return true;
}

Result<Json> ParseBody(std::string_view body) {
  try {
    return Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    return DecodeError(e.what());
  }
}

// Consul's FixupLockDelay: a string is a Go duration; a number below 1000
// is seconds (so "LockDelay": 15 means 15s), otherwise nanoseconds.
Result<int64_t> DecodeLockDelay(const Json& v) {
  constexpr double kSecondsThreshold = 1000;
  if (v.is_string()) {
    auto d = ParseGoDuration(v.get<std::string>());
    if (!d.ok()) return DecodeError("LockDelay: " + d.status().message());
    return static_cast<int64_t>(d->count());
  }
  if (v.is_number()) {
    double n = v.get<double>();
    if (!std::isfinite(n)) return DecodeError("LockDelay: not a number");
    if (n < kSecondsThreshold) n *= 1e9;
    if (n > 9.2e18 || n < -9.2e18) return DecodeError("LockDelay: too large");
    return static_cast<int64_t>(n);
  }
  return DecodeError("LockDelay: expected a duration string or a number");
}

void WriteEntry(JsonWriter& w, const structs::KvEntry& e) {
  w.BeginObject();
  w.Field("LockIndex", e.lock_index);
  w.Field("Key", e.key);
  w.Field("Flags", e.flags);
  w.Key("Value");
  if (e.value.empty()) {
    w.Null();
  } else {
    // Base64 straight into the output (it never needs escaping): after
    // Key() no separator is pending, and Raw("") then records that a value
    // was written so the next field gets its comma.
    std::string& out = w.out();
    out.push_back('"');
    AppendBase64(out, e.value);
    out.push_back('"');
    w.Raw("");
  }
  if (!e.session.empty()) w.Field("Session", e.session);
  w.Field("CreateIndex", e.create_index);
  w.Field("ModifyIndex", e.modify_index);
  w.EndObject();
}

void WriteStringsOrNull(JsonWriter& w, const std::vector<std::string>& v) {
  if (v.empty()) {
    w.Null();
    return;
  }
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

}  // namespace

void AppendBase64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

Result<std::string> DecodeBase64(std::string_view text) {
  // Go's decoder skips \r and \n; everything else must be the alphabet.
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  size_t symbols = 0;
  for (char ch : text) {
    if (ch == '\r' || ch == '\n') continue;
    if (ch == '=') {
      ++pad;
      ++symbols;
      continue;
    }
    const int v = B64Value(static_cast<unsigned char>(ch));
    if (v < 0 || pad > 0) {
      return Status(Code::kInvalidArgument, "illegal base64 data");
    }
    ++symbols;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (symbols % 4 != 0 || pad > 2) {
    return Status(Code::kInvalidArgument, "illegal base64 data");
  }
  return out;
}

std::string EncodeKvEntries(const std::vector<structs::KvEntry>& entries) {
  std::string out;
  size_t estimate = 2;
  for (const auto& e : entries) estimate += 128 + e.key.size() + e.value.size() * 4 / 3;
  out.reserve(estimate);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& e : entries) WriteEntry(w, e);
  w.EndArray();
  return out;
}

std::string EncodeStrings(const std::vector<std::string>& strings) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& s : strings) w.String(s);
  w.EndArray();
  return out;
}

std::string EncodeSessions(const std::vector<structs::Session>& sessions) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const structs::Session& s : sessions) {
    w.BeginObject();
    w.Field("ID", s.id);
    w.Field("Name", s.name);
    w.Field("Node", s.node);
    w.Field("LockDelay", s.lock_delay_ns);
    w.Field("Behavior", structs::SessionBehaviorName(s.behavior));
    w.Field("TTL", s.ttl);
    w.Key("NodeChecks");
    WriteStringsOrNull(w, s.node_checks);
    w.Key("ServiceChecks");
    if (s.service_checks.empty()) {
      w.Null();
    } else {
      w.BeginArray();
      for (const auto& c : s.service_checks) {
        w.BeginObject();
        w.Field("ID", c.id);
        w.Field("Namespace", c.ns);
        w.EndObject();
      }
      w.EndArray();
    }
    if (!s.node_checks.empty()) {
      w.Key("Checks");
      WriteStringsOrNull(w, s.node_checks);
    }
    w.Field("CreateIndex", s.create_index);
    w.Field("ModifyIndex", s.modify_index);
    w.EndObject();
  }
  w.EndArray();
  return out;
}

Result<SessionCreateRequest> DecodeSessionCreate(std::string_view body) {
  SessionCreateRequest req;
  bool blank = true;
  for (char c : body) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') blank = false;
  }
  if (blank) return req;
  SIDER_ASSIGN_OR_RETURN(Json j, ParseBody(body));
  if (!j.is_object()) return DecodeError("expected a JSON object");
  structs::Session& s = req.session;
  SIDER_RETURN_IF_ERROR(GetString(j, "Name", &s.name));
  SIDER_RETURN_IF_ERROR(GetString(j, "Node", &s.node));
  std::vector<std::string> checks;
  SIDER_ASSIGN_OR_RETURN(bool has_checks, GetStrings(j, "Checks", &checks));
  SIDER_ASSIGN_OR_RETURN(bool has_node_checks,
                         GetStrings(j, "NodeChecks", &checks));
  req.node_checks_given = has_checks || has_node_checks;
  for (const auto& c : checks) {  // Legacy Checks folded into NodeChecks.
    bool dup = false;
    for (const auto& have : s.node_checks) dup = dup || have == c;
    if (!dup) s.node_checks.push_back(c);
  }
  if (const Json* sc = Find(j, "ServiceChecks")) {
    if (!sc->is_array()) return DecodeError("ServiceChecks: expected an array");
    for (const Json& e : *sc) {
      if (!e.is_object()) {
        return DecodeError("ServiceChecks: expected objects");
      }
      structs::SessionServiceCheck c;
      SIDER_RETURN_IF_ERROR(GetString(e, "ID", &c.id));
      SIDER_RETURN_IF_ERROR(GetString(e, "Namespace", &c.ns));
      if (c.ns.empty()) c.ns = "default";
      s.service_checks.push_back(std::move(c));
    }
  }
  if (const Json* ld = Find(j, "LockDelay")) {
    SIDER_ASSIGN_OR_RETURN(s.lock_delay_ns, DecodeLockDelay(*ld));
  }
  std::string behavior;
  SIDER_RETURN_IF_ERROR(GetString(j, "Behavior", &behavior));
  if (!behavior.empty()) {
    auto b = structs::ParseSessionBehavior(behavior);
    if (!b) {
      return Status(Code::kInvalidArgument,
                    "Invalid Behavior setting '" + behavior + "'");
    }
    s.behavior = *b;
  }
  SIDER_RETURN_IF_ERROR(GetString(j, "TTL", &s.ttl));
  if (!s.ttl.empty()) {
    auto ttl = ParseGoDuration(s.ttl);
    if (!ttl.ok()) {
      return Status(Code::kInvalidArgument, "Session TTL '" + s.ttl +
                                                "' invalid: " +
                                                ttl.status().message());
    }
    req.ttl = *ttl;
  }
  return req;
}

Result<std::vector<structs::TxnKvOp>> DecodeTxn(std::string_view body) {
  SIDER_ASSIGN_OR_RETURN(Json j, ParseBody(body));
  if (!j.is_array()) return DecodeError("expected a JSON array of operations");
  std::vector<structs::TxnKvOp> ops;
  ops.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = "Ops[" + std::to_string(i) + "]";
    const Json& op = j[i];
    if (!op.is_object()) return DecodeError(where + ": expected an object");
    const Json* kv = Find(op, "KV");
    if (!kv || !kv->is_object()) {
      return Status(Code::kInvalidArgument,
                    where + ": only KV operations are supported");
    }
    structs::TxnKvOp out;
    std::string verb;
    SIDER_RETURN_IF_ERROR(GetString(*kv, "Verb", &verb));
    auto v = structs::ParseTxnKvVerb(verb);
    if (!v) {
      return Status(Code::kInvalidArgument,
                    where + ": unknown KV verb \"" + verb + "\"");
    }
    out.verb = *v;
    SIDER_RETURN_IF_ERROR(GetString(*kv, "Key", &out.entry.key));
    std::string value;
    SIDER_RETURN_IF_ERROR(GetString(*kv, "Value", &value));
    if (!value.empty()) {
      auto raw = DecodeBase64(value);
      if (!raw.ok()) return DecodeError(where + ".KV.Value: illegal base64 data");
      out.entry.value = std::move(raw).value();
    }
    SIDER_RETURN_IF_ERROR(GetUint(*kv, "Flags", &out.entry.flags));
    SIDER_RETURN_IF_ERROR(GetUint(*kv, "Index", &out.entry.modify_index));
    SIDER_RETURN_IF_ERROR(GetString(*kv, "Session", &out.entry.session));
    ops.push_back(std::move(out));
  }
  return ops;
}

std::string EncodeTxnResult(const structs::TxnResult& result) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("Results");
  if (result.results.empty()) {
    w.Null();
  } else {
    w.BeginArray();
    for (const auto& e : result.results) {
      w.BeginObject();
      w.Key("KV");
      WriteEntry(w, e);
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key("Errors");
  if (result.errors.empty()) {
    w.Null();
  } else {
    w.BeginArray();
    for (const auto& e : result.errors) {
      w.BeginObject();
      w.Field("OpIndex", static_cast<uint64_t>(e.op_index));
      w.Field("What", e.what);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return out;
}

namespace {
void WriteEvent(JsonWriter& w, const server::UserEvent& e) {
  w.BeginObject();
  w.Field("ID", e.id);
  w.Field("Name", e.name);
  w.Key("Payload");
  if (e.payload.empty()) {
    w.Null();
  } else {
    std::string b64;
    AppendBase64(b64, e.payload);
    w.String(b64);
  }
  w.Field("NodeFilter", e.node_filter);
  w.Field("ServiceFilter", e.service_filter);
  w.Field("TagFilter", e.tag_filter);
  w.Field("Version", e.version);
  w.Field("LTime", e.ltime);
  w.EndObject();
}
}  // namespace

std::string EncodeEvent(const server::UserEvent& event) {
  std::string out;
  JsonWriter w(out);
  WriteEvent(w, event);
  return out;
}

std::string EncodeEvents(const std::vector<server::UserEvent>& events) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& e : events) WriteEvent(w, e);
  w.EndArray();
  return out;
}

}  // namespace sider::http::handlers
