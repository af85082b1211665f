#include "structs/kv.h"

#include <array>

namespace sider::structs {
namespace {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF), which is what Go's utf8.ValidString accepts.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::array<uint32_t, 5> kMin = {0, 0, 0x80, 0x800,
                                                     0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

Status ValidateKvPrefix(std::string_view prefix) {
  if (!prefix.empty() && prefix.front() == '/') {
    return Status(Code::kInvalidArgument,
                  "Invalid key: must not begin with a '/'");
  }
  if (!ValidUtf8(prefix)) {
    return Status(Code::kInvalidArgument, "Invalid key: not valid UTF-8");
  }
  return Status::Ok();
}

Status ValidateKvKey(std::string_view key) {
  if (key.empty()) return Status(Code::kInvalidArgument, "Missing key name");
  return ValidateKvPrefix(key);
}

std::string_view SessionBehaviorName(SessionBehavior b) {
  switch (b) {
    case SessionBehavior::kRelease: return "release";
    case SessionBehavior::kDelete: return "delete";
  }
  return "";
}

std::optional<SessionBehavior> ParseSessionBehavior(std::string_view name) {
  if (name == "release") return SessionBehavior::kRelease;
  if (name == "delete") return SessionBehavior::kDelete;
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, 12> kVerbNames = {
    "set",    "cas",         "lock",          "unlock",
    "get",    "get-tree",    "check-index",   "check-session",
    "check-not-exists", "delete", "delete-tree", "delete-cas"};
}  // namespace

std::string_view TxnKvVerbName(TxnKvVerb v) {
  const auto i = static_cast<size_t>(v);
  return i < kVerbNames.size() ? kVerbNames[i] : std::string_view();
}

std::optional<TxnKvVerb> ParseTxnKvVerb(std::string_view name) {
  for (size_t i = 0; i < kVerbNames.size(); ++i) {
    if (kVerbNames[i] == name) return static_cast<TxnKvVerb>(i);
  }
  return std::nullopt;
}

}  // namespace sider::structs
