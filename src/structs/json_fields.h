// Private to structs/: typed, case-insensitive access to the members of a
// parsed JSON request object, with Consul-style error messages. Used by
// catalog_json_decode.cc; include nlohmann only from .cc files like it.
//
// Keys are matched as Go's encoding/json matches struct fields (ASCII case
// folding), and additionally with underscores ignored, so "ServiceID",
// "serviceid" and "service_id" are the same key. The last matching member
// wins. Members whose value is null count as absent.
//
// Every getter leaves *out untouched when the key is absent and returns
// kInvalidArgument "Request decode failed: <path><Name>: <problem>" when the
// value has the wrong type.
//
// Thread safety: borrows the json value; use on one thread while it lives.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sider::structs::internal {

// Preserves document order, so "last one wins" means what it does in Go.
using Json = nlohmann::ordered_json;

Status DecodeError(std::string_view what);

// Parses a request body that must hold a JSON object.
Result<Json> ParseObjectBody(std::string_view body);

class Fields {
 public:
  // `path` prefixes field names in messages, e.g. "Checks[1]." or "".
  Fields(const Json& obj, std::string path)
      : obj_(obj), path_(std::move(path)) {}

  // The member called `name` (canonical CamelCase), or nullptr.
  const Json* Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // True when no member has a non-null value.
  bool Empty() const;

  Status Str(std::string_view name, std::string* out) const;
  Status Bool(std::string_view name, bool* out) const;
  Status Int(std::string_view name, int64_t min, int64_t max,
             int64_t* out) const;
  Status Int32(std::string_view name, int32_t min, int32_t max,
               int32_t* out) const;
  Status StrList(std::string_view name, std::vector<std::string>* out) const;
  Status StrMap(std::string_view name,
                std::map<std::string, std::string>* out) const;
  // A Go duration string or a number of nanoseconds; "" is zero. Negative
  // values are rejected.
  Status Duration(std::string_view name, int64_t* out) const;
  // HTTP check headers: {name: [values]} (Consul's shape) or {name: value}.
  Status Header(std::string_view name,
                std::map<std::string, std::vector<std::string>>* out) const;

  // The error for `name` with `problem` ("expected a string").
  Status Error(std::string_view name, std::string_view problem) const;
  const std::string& path() const { return path_; }

 private:
  const Json& obj_;
  std::string path_;
};

// Type name for messages: "string", "number", "object", ...
std::string_view JsonTypeName(const Json& j);

}  // namespace sider::structs::internal
