// Request helpers, percent-decoding and query-string parsing.
//
// The decoding follows Go's net/url, because Consul clients are written
// against it: a path keeps '+' (url.PathUnescape), a query turns '+' into a
// space (url.QueryUnescape), and "%2F" in a path becomes '/', which is what
// Consul's KV endpoint sees as the key.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http.h"

namespace sider::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Decodes `in` into `*out`, reusing its storage.
Status DecodeInto(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  // Fast path: nothing to decode (the common case for paths).
  if (in.find('%') == std::string_view::npos &&
      (!plus_is_space || in.find('+') == std::string_view::npos)) {
    out->assign(in);
    return Status::Ok();
  }
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      const bool complete = i + 2 < in.size();
      const int hi = complete ? HexValue(in[i + 1]) : -1;
      const int lo = complete ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status(Code::kInvalidArgument,
                      "invalid URL escape \"" +
                          std::string(in.substr(i, 3)) + "\"");
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kPut: return "PUT";
    case Method::kPost: return "POST";
    case Method::kDelete: return "DELETE";
    case Method::kHead: return "HEAD";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

bool Request::Has(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return true;
  }
  return false;
}

std::optional<std::string> Request::Get(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Request::GetAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  Status s = DecodeInto(in, plus_is_space, &out);
  if (!s.ok()) return s;
  return out;
}

Status ParseQuery(std::string_view raw,
                  std::vector<std::pair<std::string, std::string>>* out) {
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view()
                                        : raw.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto& kv = out->emplace_back();
    Status s = DecodeInto(key, /*plus_is_space=*/true, &kv.first);
    if (s.ok()) s = DecodeInto(value, /*plus_is_space=*/true, &kv.second);
    if (!s.ok()) {
      out->pop_back();
      return s;
    }
  }
  return Status::Ok();
}

Status ParseTarget(Request* req) {
  std::string_view target = req->target;
  // Absolute form (RFC 9112 3.2.2), sent to proxies; servers must accept it.
  if (!target.empty() && target.front() != '/') {
    const size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) {
      return Status(Code::kInvalidArgument, "invalid request target");
    }
    const size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/")
                                             : target.substr(slash);
  }
  if (target.empty()) {
    return Status(Code::kInvalidArgument, "empty request target");
  }
  // A fragment is never sent by a conforming client; drop it as Go does.
  target = target.substr(0, target.find('#'));
  const size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  SIDER_RETURN_IF_ERROR(
      DecodeInto(raw_path, /*plus_is_space=*/false, &req->path));
  req->query.clear();
  if (q != std::string_view::npos) {
    SIDER_RETURN_IF_ERROR(ParseQuery(target.substr(q + 1), &req->query));
  }
  return Status::Ok();
}

}  // namespace sider::http
