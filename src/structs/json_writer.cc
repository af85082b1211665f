#include "structs/json_writer.h"

#include <array>
#include <charconv>
#include <cstring>

namespace sider::structs {
namespace {

// 1 for ASCII bytes that need an escape, 2 for bytes >= 0x80 (UTF-8 that
// must be validated), 0 for bytes copied as they are.
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  t['<'] = 1;
  t['>'] = 1;
  t['&'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

bool IsCont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80),
// or 0 if there is none. Mirrors Go's utf8.DecodeRune: overlong forms,
// surrogates and code points above U+10FFFF are ill-formed.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const size_t left = s.size() - i;
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && IsCont(b(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    return b(1) >= lo && b(1) <= hi && IsCont(b(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    return b(1) >= lo && b(1) <= hi && IsCont(b(2)) && IsCont(b(3)) ? 4 : 0;
  }
  return 0;
}

constexpr char kHex[] = "0123456789abcdef";

void AppendAsciiEscape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default: {
      // Go writes \b and \f as \u0008 and \u000c too.
      char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(buf, sizeof(buf));
    }
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  // Fast path: most values (names, ids, addresses) need no escaping at all.
  size_t i = 0;
  while (i < s.size() && kClass[static_cast<unsigned char>(s[i])] == 0) ++i;
  if (i == s.size()) {
    const size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.push_back('"');
  size_t run = 0;  // Start of the pending run of bytes to copy verbatim.
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const uint8_t cls = kClass[c];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 0) {
        out.append(s.data() + run, i - run);
        out.append("\\ufffd");
        run = ++i;
        continue;
      }
      // U+2028 and U+2029 (E2 80 A8/A9) end lines in JavaScript; Go escapes
      // them and so do we.
      if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
        out.append(s.data() + run, i - run);
        out.append(s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
        i += 3;
        run = i;
        continue;
      }
      i += n;
      continue;
    }
    out.append(s.data() + run, i - run);
    AppendAsciiEscape(out, c);
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, r.ptr);
  comma_ = true;
}

void JsonWriter::Int(int64_t v) {
  Sep();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, r.ptr);
  comma_ = true;
}

}  // namespace sider::structs
