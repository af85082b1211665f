#include "base/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <random>

namespace sider {
namespace {

using std::chrono::nanoseconds;
constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kS = 1000 * kMs;
constexpr int64_t kM = 60 * kS;
constexpr int64_t kH = 60 * kM;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct ParseCase {
  const char* text;
  int64_t want;
};
std::ostream& operator<<(std::ostream& os, const ParseCase& c) {
  return os << '"' << c.text << "\" -> " << c.want;
}

// Go's own table (time/time_test.go parseDurationTests) plus Consul-ish
// values.
class ParseGoDurationAccepts : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseGoDurationAccepts, AsGoDoes) {
  auto got = ParseGoDuration(GetParam().text);
  ASSERT_TRUE(got.ok()) << GetParam().text << ": " << got.status().message();
  EXPECT_EQ(got->count(), GetParam().want) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    GoTable, ParseGoDurationAccepts,
    ::testing::Values(
        ParseCase{"0", 0}, ParseCase{"5s", 5 * kS}, ParseCase{"30s", 30 * kS},
        ParseCase{"1478s", 1478 * kS}, ParseCase{"-5s", -5 * kS},
        ParseCase{"+5s", 5 * kS}, ParseCase{"-0", 0}, ParseCase{"+0", 0},
        ParseCase{"5.0s", 5 * kS}, ParseCase{"5.6s", 5 * kS + 600 * kMs},
        ParseCase{"5.s", 5 * kS}, ParseCase{".5s", 500 * kMs},
        ParseCase{"1.0s", kS}, ParseCase{"1.00s", kS},
        ParseCase{"1.004s", kS + 4 * kMs}, ParseCase{"1.0040s", kS + 4 * kMs},
        ParseCase{"100.00100s", 100 * kS + kMs}, ParseCase{"10ns", 10},
        ParseCase{"11us", 11 * kUs}, ParseCase{"12\xC2\xB5s", 12 * kUs},
        ParseCase{"12\xCE\xBCs", 12 * kUs}, ParseCase{"13ms", 13 * kMs},
        ParseCase{"14s", 14 * kS}, ParseCase{"15m", 15 * kM},
        ParseCase{"16h", 16 * kH}, ParseCase{"3h30m", 3 * kH + 30 * kM},
        ParseCase{"10.5s4m", 4 * kM + 10 * kS + 500 * kMs},
        ParseCase{"-2m3.4s", -(2 * kM + 3 * kS + 400 * kMs)},
        ParseCase{"1h2m3s4ms5us6ns",
                  kH + 2 * kM + 3 * kS + 4 * kMs + 5 * kUs + 6},
        ParseCase{"39h9m14.425s", 39 * kH + 9 * kM + 14 * kS + 425 * kMs},
        ParseCase{"52763797000ns", 52763797000},
        ParseCase{"0.3333333333333333333h", 20 * kM},
        ParseCase{"9007199254740993ns", (int64_t{1} << 53) + 1},
        ParseCase{"9223372036854775807ns", kMax},
        ParseCase{"9223372036854775.807us", kMax},
        ParseCase{"9223372036s854ms775us807ns", kMax},
        ParseCase{"-9223372036854775808ns", kMin},
        ParseCase{"-9223372036854775.808us", kMin},
        ParseCase{"-9223372036s854ms775us808ns", kMin},
        ParseCase{"-2562047h47m16.854775808s", kMin},
        ParseCase{"0.100000000000000000000h", 6 * kM},
        ParseCase{"0.830103483285477580700h", 49 * kM + 48 * kS + 372539827},
        // Values seen in Consul requests.
        ParseCase{"9.88s", 9 * kS + 880 * kMs}, ParseCase{"120000ms", 120 * kS},
        ParseCase{"1h15m30.5s", kH + 15 * kM + 30 * kS + 500 * kMs},
        ParseCase{"-1.5h", -(kH + 30 * kM)}, ParseCase{"1.5h", kH + 30 * kM},
        ParseCase{"90m", 90 * kM}, ParseCase{"0s", 0}, ParseCase{"0.0s", 0}));

class ParseGoDurationRejects : public ::testing::TestWithParam<const char*> {};

TEST_P(ParseGoDurationRejects, WithInvalidArgument) {
  auto got = ParseGoDuration(GetParam());
  ASSERT_FALSE(got.ok()) << GetParam() << " parsed as " << got->count();
  EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
  EXPECT_NE(got.status().message().find("time: "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    GoTable, ParseGoDurationRejects,
    ::testing::Values("", "3", "5", "-", "+", "s", ".", "-.", ".s", "+.s", "1x",
                      "1d", "1S", "1H", "1sec", "1 s", " 1s", "1s ", "1.5",
                      "1s2", "s1", "1..5s", "1e3s", "0x10s", "\x85\x85",
                      "\xff\xff", "hello \xff\xff world",
                      "9223372036854775808ns", "9223372036854775.808us",
                      "9223372036854ms775us808ns", "-9223372036854775809ns",
                      "2562048h", "9999999999999999999999h",
                      "2562047h47m16.854775808s"));

TEST(ParseGoDuration, MessagesFollowGo) {
  EXPECT_EQ(ParseGoDuration("5").status().message(),
            "time: missing unit in duration \"5\"");
  EXPECT_EQ(ParseGoDuration("1x").status().message(),
            "time: unknown unit \"x\" in duration \"1x\"");
  EXPECT_EQ(ParseGoDuration("").status().message(),
            "time: invalid duration \"\"");
  EXPECT_EQ(ParseGoDuration("s").status().message(),
            "time: invalid duration \"s\"");
}

struct FormatCase {
  int64_t ns;
  const char* want;
};
std::ostream& operator<<(std::ostream& os, const FormatCase& c) {
  return os << c.ns << " -> \"" << c.want << '"';
}

class FormatGoDurationTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatGoDurationTest, MatchesGoString) {
  EXPECT_EQ(FormatGoDuration(nanoseconds(GetParam().ns)), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    GoTable, FormatGoDurationTest,
    ::testing::Values(
        FormatCase{0, "0s"}, FormatCase{1, "1ns"},
        FormatCase{1100, "1.1\xC2\xB5s"}, FormatCase{2200 * kUs, "2.2ms"},
        FormatCase{3300 * kMs, "3.3s"}, FormatCase{4 * kM + 5 * kS, "4m5s"},
        FormatCase{4 * kM + 5001 * kMs, "4m5.001s"},
        FormatCase{5 * kH + 6 * kM + 7001 * kMs, "5h6m7.001s"},
        FormatCase{8 * kM + 1, "8m0.000000001s"},
        FormatCase{kMax, "2562047h47m16.854775807s"},
        FormatCase{kMin, "-2562047h47m16.854775808s"},
        // What Consul shows for common check settings.
        FormatCase{10 * kS, "10s"}, FormatCase{kM, "1m0s"},
        FormatCase{1500 * kMs, "1.5s"}, FormatCase{100 * kMs, "100ms"},
        FormatCase{kH, "1h0m0s"}, FormatCase{90 * kM, "1h30m0s"},
        FormatCase{-1500 * kMs, "-1.5s"}, FormatCase{999, "999ns"},
        FormatCase{1000, "1\xC2\xB5s"}, FormatCase{kS - 1, "999.999999ms"}));

TEST(GoDuration, FormatThenParseRoundTrips) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    // Spread across magnitudes: shift a random value right by 0..63 bits.
    int64_t v = static_cast<int64_t>(rng() >> (rng() % 64));
    if (rng() % 2) v = -v;
    std::string text = FormatGoDuration(nanoseconds(v));
    auto back = ParseGoDuration(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(back->count(), v) << text;
  }
  for (int64_t v : {kMax, kMin, int64_t{0}, int64_t{1}, int64_t{-1}}) {
    auto back = ParseGoDuration(FormatGoDuration(nanoseconds(v)));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->count(), v);
  }
}

TEST(GoDuration, AppendAddsToExistingText) {
  std::string out = "Interval=";
  AppendGoDuration(out, nanoseconds(10 * kS));
  EXPECT_EQ(out, "Interval=10s");
}

}  // namespace
}  // namespace sider
