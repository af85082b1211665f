#include "server/event_service.h"

#include <charconv>
#include <optional>
#include <regex>
#include <utility>

#include "server/uuid.h"

namespace sider::server {
namespace {

bool ParseHex(std::string_view text, uint64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, 16);
  return ec == std::errc() && ptr == end;
}

}  // namespace

EventService::EventService(Accepts accepts)
    : accepts_(std::move(accepts)), watch_(std::make_shared<store::Watch>()) {}

uint64_t EventService::IndexOf(std::string_view id) {
  if (id.size() != 36) return 0;
  const std::string lower = std::string(id.substr(0, 8)) +
                            std::string(id.substr(9, 4)) +
                            std::string(id.substr(14, 4));
  const std::string upper =
      std::string(id.substr(19, 4)) + std::string(id.substr(24, 12));
  uint64_t low = 0;
  uint64_t high = 0;
  if (!ParseHex(lower, &low) || !ParseHex(upper, &high)) return 0;
  return low ^ high;
}

Status EventService::ValidateFilter(std::string_view what,
                                    std::string_view pattern) {
  if (pattern.empty()) return Status::Ok();
  try {
    std::regex re{std::string(pattern), std::regex::ECMAScript};
  } catch (const std::regex_error& e) {
    return Status(Code::kInvalidArgument,
                  "Invalid " + std::string(what) + " filter: " + e.what());
  }
  return Status::Ok();
}

bool EventService::Matches(const UserEvent& event, std::string_view node,
                           const std::vector<structs::Service>& services) {
  try {
    if (!event.node_filter.empty() &&
        !std::regex_search(std::string(node), std::regex(event.node_filter))) {
      return false;
    }
    if (event.service_filter.empty()) return true;
    const std::regex service_re(event.service_filter);
    std::optional<std::regex> tag_re;
    if (!event.tag_filter.empty()) tag_re.emplace(event.tag_filter);
    for (const structs::Service& s : services) {
      if (!std::regex_search(s.id, service_re) &&
          !std::regex_search(s.name, service_re)) {
        continue;
      }
      if (!tag_re) return true;
      for (const std::string& tag : s.tags) {
        if (std::regex_search(tag, *tag_re)) return true;
      }
    }
  } catch (const std::regex_error&) {
    return false;  // Validated in Fire(); a bad pattern matches nothing.
  }
  return false;
}

Result<UserEvent> EventService::Fire(UserEvent event) {
  if (event.name.empty()) {
    return Status(Code::kInvalidArgument, "Missing name");
  }
  // Consul's validateUserEventParams, in its order.
  SIDER_RETURN_IF_ERROR(ValidateFilter("node", event.node_filter));
  SIDER_RETURN_IF_ERROR(ValidateFilter("service", event.service_filter));
  SIDER_RETURN_IF_ERROR(ValidateFilter("tag", event.tag_filter));
  if (!event.tag_filter.empty() && event.service_filter.empty()) {
    return Status(Code::kInvalidArgument,
                  "cannot provide tag filter without service filter");
  }
  const size_t size = event.name.size() + event.payload.size() +
                      event.node_filter.size() + event.service_filter.size() +
                      event.tag_filter.size();
  if (size > kSizeLimit) {
    return Status(Code::kTooLarge,
                  "user event exceeds configured limit of " +
                      std::to_string(kSizeLimit) + " bytes before encoding");
  }
  event.id = NewUuidV4();
  event.version = 1;
  event.ltime = 0;
  if (!accepts_ || accepts_(event)) {
    store::WatchPtr fired;
    {
      WriterLock lock(&mu_);
      UserEvent stored = event;
      stored.ltime = ++ltime_;
      events_.push_back(std::move(stored));
      if (events_.size() > kBufferSize) events_.pop_front();
      fired = std::exchange(watch_, std::make_shared<store::Watch>());
    }
    fired->Fire();  // After unlocking, like every store write.
  }
  return event;
}

store::Indexed<std::vector<UserEvent>> EventService::List(
    std::string_view name, store::WatchSet* ws) const {
  store::Indexed<std::vector<UserEvent>> out;
  ReaderLock lock(&mu_);
  for (const UserEvent& e : events_) {
    if (name.empty() || e.name == name) out.value.push_back(e);
  }
  if (ws) ws->Add(watch_);
  // Consul returns 1 for an empty list "to prevent a hot query loop".
  out.index = out.value.empty() ? 1 : IndexOf(out.value.back().id);
  if (out.index == 0) out.index = 1;
  return out;
}

}  // namespace sider::server
