// Go time.Duration text: parsing (time.ParseDuration) and formatting
// (Duration.String()), so that durations in Consul's JSON ("10s", "1m0s",
// "1.5ms") round-trip exactly as a Go client and Consul itself see them.
//
// Contract: pure functions of their arguments, safe from any thread.
// ParseGoDuration accepts exactly what Go 1.x's time.ParseDuration accepts:
//   [-+]? ( [0-9]* ("." [0-9]*)? unit )+   with at least one digit per element
// or a lone "0" (optionally signed); units are ns, us, µs (U+00B5),
// μs (U+03BC), ms, s, m, h. Fractions are allowed on any unit ("1.5h").
// Errors (kInvalidArgument), with Go's wording: empty text, a number without
// a unit ("5"), an unknown unit ("1x"), a unit without a number ("s"), or a
// value outside int64 nanoseconds.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sider {

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// Go's Duration.String(): "0s", "1ns", "1.5µs" (U+00B5), "100ms", "10s",
// "1m0s", "1h2m3.5s", "-1.5s". Handles the full int64 range.
std::string FormatGoDuration(std::chrono::nanoseconds d);

// Appends the same text to `out` without a temporary (used by JSON encoders).
void AppendGoDuration(std::string& out, std::chrono::nanoseconds d);

}  // namespace sider
