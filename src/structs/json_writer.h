// JsonWriter: appends compact JSON text to a caller-owned std::string. Used
// by the hot read-path encoders (structs/catalog_json.h) instead of building
// nlohmann::json trees: no allocation beyond the output string's growth.
//
// Strings are escaped exactly as Go's encoding/json (what Consul uses) does,
// so our bytes match Consul's for the same data: `"` `\` and \n \r \t get
// short escapes, other control characters and < > & (Go escapes HTML by
// default) and U+2028/U+2029 become \u00XX/\uXXXX, and every byte that is
// not part of a well-formed UTF-8 sequence becomes \ufffd. Output is
// therefore always valid UTF-8 JSON.
//
// The writer only tracks commas; it does not check that keys and values
// alternate or that brackets balance: the encoders' tests do that.
// Thread safety: a value type bound to one string; one thread at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sider::structs {

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view s);

// A field name known at compile time: built only from a string literal
// (the constructor is consteval) made of characters that never need
// escaping, so it is written without a scan. Runtime keys (map keys) go
// through JsonWriter::StringKey instead.
// Not constexpr on purpose: JsonKey's consteval constructor calls it for a
// bad literal, which makes that literal a compile error.
inline void JsonKeyLiteralNeedsEscapingUseStringKey() {}

class JsonKey {
 public:
  consteval JsonKey(const char* s) : s_(s) {  // NOLINT: implicit on purpose.
    for (char c : s_) {
      if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' ||
          c == '&' || static_cast<unsigned char>(c) >= 0x80) {
        JsonKeyLiteralNeedsEscapingUseStringKey();
      }
    }
  }
  std::string_view view() const { return s_; }

 private:
  std::string_view s_;
};

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // An object key; the next call writes its value.
  void Key(JsonKey k) {
    // One append of `,"Key":` (field names are short); std::string's
    // push_back is not inlined (extern template), so fewer calls matter.
    const std::string_view v = k.view();
    char buf[64];
    if (v.size() > sizeof(buf) - 4) {
      StringKey(v);
      return;
    }
    size_t n = 0;
    if (comma_) buf[n++] = ',';
    buf[n++] = '"';
    std::memcpy(buf + n, v.data(), v.size());
    n += v.size();
    buf[n++] = '"';
    buf[n++] = ':';
    out_.append(buf, n);
    comma_ = false;
  }
  // A key only known at run time (map keys, ids): escaped.
  void StringKey(std::string_view k) {
    Sep();
    AppendJsonString(out_, k);
    out_.push_back(':');
    comma_ = false;
  }

  void String(std::string_view v) {
    Sep();
    AppendJsonString(out_, v);
    comma_ = true;
  }
  void Uint(uint64_t v);
  void Int(int64_t v);
  void Bool(bool v) {
    Sep();
    out_.append(v ? "true" : "false");
    comma_ = true;
  }
  void Null() {
    Sep();
    out_.append("null");
    comma_ = true;
  }
  // Already-encoded JSON (e.g. an object from another encoder or a cache).
  void Raw(std::string_view json) {
    Sep();
    out_.append(json);
    comma_ = true;
  }

  // Key + value shorthands, for readable encoders.
  void Field(JsonKey k, std::string_view v) {
    Key(k);
    String(v);
  }
  void Field(JsonKey k, const char* v) {
    Key(k);
    String(v);
  }
  void Field(JsonKey k, const std::string& v) {
    Key(k);
    String(v);
  }
  void Field(JsonKey k, bool v) {
    Key(k);
    Bool(v);
  }
  void Field(JsonKey k, uint64_t v) {
    Key(k);
    Uint(v);
  }
  void Field(JsonKey k, int64_t v) {
    Key(k);
    Int(v);
  }
  void Field(JsonKey k, int32_t v) {
    Key(k);
    Int(v);
  }

  std::string& out() { return out_; }

 private:
  void Sep() {
    if (comma_) out_.push_back(',');
  }
  void Open(char c) {
    Sep();
    out_.push_back(c);
    comma_ = false;
  }
  void Close(char c) {
    out_.push_back(c);
    comma_ = true;
  }

  std::string& out_;
  bool comma_ = false;  // A value precedes at this level: write ',' first.
};

}  // namespace sider::structs
