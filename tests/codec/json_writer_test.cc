#include "structs/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace sider::structs {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(AppendJsonString, LeavesPlainTextAlone) {
  EXPECT_EQ(Quote(""), R"("")");
  EXPECT_EQ(Quote("redis-1.example:8080/x?y=z"),
            R"("redis-1.example:8080/x?y=z")");
}

TEST(AppendJsonString, EscapesQuotesBackslashAndControlsAsGo) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("\n\r\t"), R"("\n\r\t")");
  // Go writes \b and \f (and every other control) as \u00XX.
  EXPECT_EQ(Quote(std::string("\b\f\x01\x1f\0", 5)),
            R"("\u0008\u000c\u0001\u001f\u0000")");
  EXPECT_EQ(Quote("\x7f"), "\"\x7f\"");  // DEL is not escaped by Go.
}

TEST(AppendJsonString, EscapesHtmlCharactersAsGo) {
  EXPECT_EQ(Quote("<a href='x'>&</a>"),
            R"("\u003ca href='x'\u003e\u0026\u003c/a\u003e")");
}

TEST(AppendJsonString, KeepsValidUtf8) {
  EXPECT_EQ(Quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // U+FFFD itself and the last code point are valid.
  EXPECT_EQ(Quote("\xEF\xBF\xBD\xF4\x8F\xBF\xBF"),
            "\"\xEF\xBF\xBD\xF4\x8F\xBF\xBF\"");
}

TEST(AppendJsonString, EscapesLineAndParagraphSeparators) {
  EXPECT_EQ(Quote("a\xE2\x80\xA8"
                  "b\xE2\x80\xA9"),
            R"("a\u2028b\u2029")");
}

TEST(AppendJsonString, ReplacesEachInvalidByteWithReplacementChar) {
  EXPECT_EQ(Quote("a\xFFz"), R"("a\ufffdz")");
  EXPECT_EQ(Quote("\x80"), R"("\ufffd")");            // Lone continuation.
  EXPECT_EQ(Quote("\xC3"), R"("\ufffd")");            // Truncated at end.
  EXPECT_EQ(Quote("\xE2\x82"), R"("\ufffd\ufffd")");  // Truncated 3-byte.
  EXPECT_EQ(Quote("\xC0\xAF"), R"("\ufffd\ufffd")");  // Overlong '/'.
  EXPECT_EQ(Quote("\xE0\x80\xAF"), R"("\ufffd\ufffd\ufffd")");  // Overlong.
  EXPECT_EQ(Quote("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");  // Surrogate.
  EXPECT_EQ(Quote("\xF4\x90\x80\x80"),
            R"("\ufffd\ufffd\ufffd\ufffd")");  // Above U+10FFFF.
  EXPECT_EQ(Quote("\xF5"), R"("\ufffd")");
  EXPECT_EQ(Quote("\xC3(x"), R"("\ufffd(x")");
}

TEST(AppendJsonString, AlwaysProducesValidJsonThatRoundTripsValidText) {
  std::mt19937 rng(7);
  const char alphabet[] = "ab\"\\\n\x01<&\xC3\xA9\xE2\x80\xA8\xFF\x80\xF0\x9F";
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k)
      s.push_back(alphabet[rng() % (sizeof(alphabet) - 1)]);
    std::string quoted = Quote(s);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(quoted)) << quoted;
    ASSERT_TRUE(parsed.is_string());
    if (quoted.find("\\ufffd") == std::string::npos) {
      EXPECT_EQ(parsed.get<std::string>(), s);
    }
  }
}

TEST(JsonWriter, PlacesCommasBetweenMembersAndElements) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Field("A", "x");
  w.Key("B");
  w.BeginArray();
  w.Uint(1);
  w.Int(-2);
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.Key("C");
  w.Raw("{\"k\":1}");
  w.Field("D", int32_t{7});
  w.Field("E", uint64_t{18446744073709551615ULL});
  w.Field("F", false);
  w.EndObject();
  EXPECT_EQ(out, R"({"A":"x","B":[1,-2,true,null,{},[]],"C":{"k":1},"D":7,)"
                 R"("E":18446744073709551615,"F":false})");
}

TEST(JsonWriter, EscapesKeys) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.StringKey("a\"b");
  w.String("v");
  w.EndObject();
  EXPECT_EQ(out, R"({"a\"b":"v"})");
}

}  // namespace
}  // namespace sider::structs
