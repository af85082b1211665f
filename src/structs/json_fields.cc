#include "structs/json_fields.h"

#include <cmath>
#include <limits>

#include "base/duration.h"

namespace sider::structs::internal {
namespace {

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Does the JSON key `key` name the field `name`? ASCII case-insensitive,
// ignoring underscores on both sides.
bool KeyMatches(std::string_view key, std::string_view name) {
  size_t i = 0, j = 0;
  while (true) {
    while (i < key.size() && key[i] == '_') ++i;
    while (j < name.size() && name[j] == '_') ++j;
    if (i == key.size() || j == name.size()) {
      return i == key.size() && j == name.size();
    }
    if (Lower(key[i]) != Lower(name[j])) return false;
    ++i;
    ++j;
  }
}

}  // namespace

Status DecodeError(std::string_view what) {
  return Status(Code::kInvalidArgument,
                "Request decode failed: " + std::string(what));
}

std::string_view JsonTypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "value";
}

Result<Json> ParseObjectBody(std::string_view body) {
  bool blank = true;
  for (char c : body) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      blank = false;
      break;
    }
  }
  if (blank) return DecodeError("empty body");
  Json j;
  try {
    j = Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    return DecodeError(e.what());
  }
  if (!j.is_object()) {
    return DecodeError("expected a JSON object, got " +
                       std::string(JsonTypeName(j)));
  }
  return j;
}

const Json* Fields::Find(std::string_view name) const {
  const Json* found = nullptr;
  for (const auto& [key, value] : obj_.items()) {
    if (KeyMatches(key, name)) found = value.is_null() ? nullptr : &value;
  }
  return found;
}

bool Fields::Empty() const {
  for (const auto& item : obj_.items()) {
    if (!item.value().is_null()) return false;
  }
  return true;
}

Status Fields::Error(std::string_view name, std::string_view problem) const {
  return DecodeError(path_ + std::string(name) + ": " + std::string(problem));
}

Status Fields::Str(std::string_view name, std::string* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  if (!j->is_string()) {
    return Error(name,
                 "expected a string, got " + std::string(JsonTypeName(*j)));
  }
  *out = j->get_ref<const std::string&>();
  return Status::Ok();
}

Status Fields::Bool(std::string_view name, bool* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  if (!j->is_boolean()) {
    return Error(
        name, "expected true or false, got " + std::string(JsonTypeName(*j)));
  }
  *out = j->get<bool>();
  return Status::Ok();
}

Status Fields::Int(std::string_view name, int64_t min, int64_t max,
                   int64_t* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  // Go refuses to decode 1.5 (or 1.0) into an int field; so do we.
  if (!j->is_number_integer()) {
    return Error(name,
                 "expected an integer, got " + std::string(JsonTypeName(*j)));
  }
  bool in_range;
  int64_t v = 0;
  if (j->is_number_unsigned()) {
    uint64_t u = j->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(max);
    v = static_cast<int64_t>(u);
  } else {
    v = j->get<int64_t>();
    in_range = v >= min && v <= max;
  }
  if (!in_range) {
    return Error(name, "out of range [" + std::to_string(min) + ", " +
                           std::to_string(max) + "]");
  }
  *out = v;
  return Status::Ok();
}

Status Fields::Int32(std::string_view name, int32_t min, int32_t max,
                     int32_t* out) const {
  int64_t v = *out;
  SIDER_RETURN_IF_ERROR(Int(name, min, max, &v));
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

Status Fields::StrList(std::string_view name,
                       std::vector<std::string>* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  if (!j->is_array()) {
    return Error(name, "expected an array of strings, got " +
                           std::string(JsonTypeName(*j)));
  }
  std::vector<std::string> list;
  list.reserve(j->size());
  for (const auto& e : *j) {
    if (!e.is_string()) {
      return Error(name, "expected an array of strings, found " +
                             std::string(JsonTypeName(e)));
    }
    list.push_back(e.get<std::string>());
  }
  *out = std::move(list);
  return Status::Ok();
}

Status Fields::StrMap(std::string_view name,
                      std::map<std::string, std::string>* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) {
    return Error(name, "expected an object of strings, got " +
                           std::string(JsonTypeName(*j)));
  }
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : j->items()) {
    if (!v.is_string()) {
      return Error(std::string(name) + "." + k,
                   "expected a string, got " + std::string(JsonTypeName(v)));
    }
    m[k] = v.get<std::string>();
  }
  *out = std::move(m);
  return Status::Ok();
}

Status Fields::Duration(std::string_view name, int64_t* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  int64_t ns = 0;
  if (j->is_string()) {
    const auto& text = j->get_ref<const std::string&>();
    if (!text.empty()) {
      auto d = ParseGoDuration(text);
      if (!d.ok()) return Error(name, d.status().message());
      ns = d->count();
    }
  } else if (j->is_number_integer()) {
    if (j->is_number_unsigned() &&
        j->get<uint64_t>() >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Error(name, "duration out of range");
    }
    ns = j->get<int64_t>();
  } else if (j->is_number_float()) {
    // Consul's decode hook converts float64 nanoseconds (what Go's
    // interface{} decoding yields for any JSON number) by truncation.
    double f = j->get<double>();
    if (!std::isfinite(f) || f >= 9.2233720368547758e18 ||
        f < -9.2233720368547758e18) {
      return Error(name, "duration out of range");
    }
    ns = static_cast<int64_t>(f);
  } else {
    return Error(name, "expected a duration string or nanoseconds, got " +
                           std::string(JsonTypeName(*j)));
  }
  if (ns < 0) return Error(name, "duration must not be negative");
  *out = ns;
  return Status::Ok();
}

Status Fields::Header(
    std::string_view name,
    std::map<std::string, std::vector<std::string>>* out) const {
  const Json* j = Find(name);
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) {
    return Error(name, "expected an object of string arrays, got " +
                           std::string(JsonTypeName(*j)));
  }
  std::map<std::string, std::vector<std::string>> m;
  for (const auto& [k, v] : j->items()) {
    std::vector<std::string>& values = m[k];
    values.clear();
    // Consul's shape is map[string][]string; several clients (and older
    // docs) send a plain string, which we take as a one-element list.
    if (v.is_string()) {
      values.push_back(v.get<std::string>());
      continue;
    }
    if (!v.is_array()) {
      return Error(std::string(name) + "." + k,
                   "expected a string or an array of strings, got " +
                       std::string(JsonTypeName(v)));
    }
    for (const auto& e : v) {
      if (!e.is_string()) {
        return Error(std::string(name) + "." + k,
                     "expected an array of strings, found " +
                         std::string(JsonTypeName(e)));
      }
      values.push_back(e.get<std::string>());
    }
  }
  *out = std::move(m);
  return Status::Ok();
}

}  // namespace sider::structs::internal
