#include "base/duration.h"

#include <cstdint>

namespace sider {
namespace {

constexpr uint64_t kTwo63 = uint64_t{1} << 63;  // |INT64_MIN|

// Go quotes the input in its error messages (strconv.Quote); plain quotes are
// enough for a human reading an HTTP 400 body.
Status InvalidDuration(std::string_view orig) {
  return Status(Code::kInvalidArgument,
                "time: invalid duration \"" + std::string(orig) + "\"");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes leading digits into *x. False on overflow past 2^63 (Go's
// leadingInt, which allows exactly 2^63 so that INT64_MIN parses).
bool LeadingInt(std::string_view& s, uint64_t* x) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (v > kTwo63 / 10) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > kTwo63) return false;
  }
  s.remove_prefix(i);
  *x = v;
  return true;
}

// Consumes leading digits after a '.', as Go's leadingFraction: digits past
// the point where the value would overflow are consumed but ignored.
void LeadingFraction(std::string_view& s, uint64_t* x, double* scale) {
  uint64_t v = 0;
  double sc = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (overflow) continue;
    if (v > (kTwo63 - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > kTwo63) {
      overflow = true;
      continue;
    }
    v = y;
    sc *= 10;
  }
  s.remove_prefix(i);
  *x = v;
  *scale = sc;
}

// 0 for an unknown unit.
uint64_t UnitNanos(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xC2\xB5s" /* µ U+00B5 */ ||
      u == "\xCE\xBCs" /* μ U+03BC */)
    return 1000;
  if (u == "ms") return 1000 * 1000;
  if (u == "s") return 1000 * 1000 * 1000;
  if (u == "m") return uint64_t{60} * 1000 * 1000 * 1000;
  if (u == "h") return uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

// Writes v's digits right to left ending at buf[w]; returns the new start.
int FmtInt(char* buf, int w, uint64_t v) {
  if (v == 0) {
    buf[--w] = '0';
    return w;
  }
  while (v > 0) {
    buf[--w] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return w;
}

// Go's fmtFrac: writes the low `prec` digits of *v as a fraction (without
// trailing zeros, and without the '.' when all are zero), leaving the integer
// part in *v.
int FmtFrac(char* buf, int w, uint64_t* v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = *v % 10;
    print = print || digit != 0;
    if (print) buf[--w] = static_cast<char>('0' + digit);
    *v /= 10;
  }
  if (print) buf[--w] = '.';
  return w;
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  const std::string_view orig = text;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return InvalidDuration(orig);

  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return InvalidDuration(orig);
    uint64_t v = 0;
    size_t before = s.size();
    if (!LeadingInt(s, &v)) return InvalidDuration(orig);
    bool pre = before != s.size();

    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      before = s.size();
      LeadingFraction(s, &f, &scale);
      post = before != s.size();
    }
    if (!pre && !post) return InvalidDuration(orig);  // "." or ".s"

    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !IsDigit(s[i])) ++i;
    if (i == 0) {
      return Status(
          Code::kInvalidArgument,
          "time: missing unit in duration \"" + std::string(orig) + "\"");
    }
    std::string_view unit_text = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit = UnitNanos(unit_text);
    if (unit == 0) {
      return Status(Code::kInvalidArgument,
                    "time: unknown unit \"" + std::string(unit_text) +
                        "\" in duration \"" + std::string(orig) + "\"");
    }
    if (v > kTwo63 / unit) return InvalidDuration(orig);
    v *= unit;
    if (f > 0) {
      // Go computes the fractional part in float64; do the same so that
      // "1.0000000001s"-style inputs round identically.
      v += static_cast<uint64_t>(static_cast<double>(f) *
                                 (static_cast<double>(unit) / scale));
      if (v > kTwo63) return InvalidDuration(orig);
    }
    d += v;
    if (d > kTwo63) return InvalidDuration(orig);
  }
  if (neg) {
    // d <= 2^63 here; 0 - d in uint64 then reinterpreted is exact.
    return std::chrono::nanoseconds(static_cast<int64_t>(0 - d));
  }
  if (d > kTwo63 - 1) return InvalidDuration(orig);
  return std::chrono::nanoseconds(static_cast<int64_t>(d));
}

void AppendGoDuration(std::string& out, std::chrono::nanoseconds d) {
  // Longest output: "-2562047h47m16.854775808s" (25 bytes).
  char buf[32];
  int w = sizeof(buf);
  const int64_t n = d.count();
  const bool neg = n < 0;
  uint64_t u = static_cast<uint64_t>(n);
  if (neg) u = 0 - u;

  if (u < 1000000000ULL) {
    if (u == 0) {
      out.append("0s");
      return;
    }
    int prec = 0;
    buf[--w] = 's';
    if (u < 1000ULL) {
      prec = 0;
      buf[--w] = 'n';
    } else if (u < 1000000ULL) {
      prec = 3;
      buf[--w] = '\xB5';  // U+00B5 MICRO SIGN, as Go writes it.
      buf[--w] = '\xC2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    w = FmtFrac(buf, w, &u, prec);
    w = FmtInt(buf, w, u);
  } else {
    buf[--w] = 's';
    w = FmtFrac(buf, w, &u, 9);
    w = FmtInt(buf, w, u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      w = FmtInt(buf, w, u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        w = FmtInt(buf, w, u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  out.append(buf + w, sizeof(buf) - static_cast<size_t>(w));
}

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  std::string out;
  AppendGoDuration(out, d);
  return out;
}

}  // namespace sider
