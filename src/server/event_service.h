// EventService: Consul's user events (PUT /v1/event/fire/:name,
// GET /v1/event/list) kept in this server's memory.
//
// Consul spreads user events by gossip: they are not in the Raft log, not
// persisted, not totally ordered, and each agent keeps only the last 256 it
// accepted. Sider keeps the same contract per server: a ring buffer of the
// last kBufferSize events this server accepted, lost on restart, not
// replicated to other servers (docs/kv.md, "Events").
//
// An event carries optional node / service / tag filters (regular
// expressions, as in Consul). A receiving Consul agent stores the event only
// if its node name matches the node filter and one of its services (with
// the tag, if given) matches the service filter; this server applies the
// same test to itself, with `accepts` supplied by the composition root.
// Fire() still answers with the event when this server filtered it out,
// exactly as Consul's agent does: the fire succeeded, the event simply does
// not show in this agent's list.
//
// Index: Consul's event list reports X-Consul-Index = the last listed
// event's ID folded to 64 bits (XOR of the UUID's two halves), 1 when the
// list is empty. It is NOT monotonic; a blocking list waits while the index
// EQUALS the client's, not while it is lower. IndexOf() implements the fold.
//
// Threading: every method may be called from any thread; state is guarded
// by mu_. The Watch returned by List() fires (on the firing thread) when a
// new event is accepted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "store/indexed.h"
#include "store/watch.h"
#include "structs/catalog.h"

namespace sider::server {

struct UserEvent {
  std::string id;  // UUID v4.
  std::string name;
  std::string payload;  // Opaque bytes.
  std::string node_filter;
  std::string service_filter;
  std::string tag_filter;
  int32_t version = 1;  // Consul's userEventMaxVersion.
  uint64_t ltime = 0;   // 0 in Fire()'s answer, as in Consul.
};

class EventService {
 public:
  static constexpr size_t kBufferSize = 256;  // Consul's eventBuf size.
  // Serf's default UserEventSizeLimit: name + payload + filters. Consul
  // answers an event above it with an error; we answer 413.
  static constexpr size_t kSizeLimit = 512;

  // Decides whether this server accepts (lists) an event with these
  // filters; called after the filters were validated.
  using Accepts = std::function<bool(const UserEvent&)>;

  explicit EventService(Accepts accepts);
  EventService(const EventService&) = delete;
  EventService& operator=(const EventService&) = delete;

  // Validates, assigns an ID, and records the event if accepted. Errors:
  // kInvalidArgument (no name, a filter that is not a valid regular
  // expression, a tag filter without a service filter), kTooLarge.
  Result<UserEvent> Fire(UserEvent event);

  // The buffered events (oldest first), restricted to `name` unless it is
  // empty, with Consul's index. Adds the "new event" Watch to `ws` if given.
  store::Indexed<std::vector<UserEvent>> List(std::string_view name,
                                              store::WatchSet* ws) const;

  // Consul's uuidToUint64: the first 8+4+4 hex digits and the last 4+12,
  // each read as a 64-bit number, XORed. 0 for text that is not a UUID.
  static uint64_t IndexOf(std::string_view uuid);

  // Checks that `pattern` is a usable regular expression ("" is).
  static Status ValidateFilter(std::string_view what, std::string_view pattern);

  // Consul's shouldProcessUserEvent for an agent named `node` running
  // `services`: the node filter must match the name, and the service filter
  // some service's ID or name (and then the tag filter one of its tags).
  // Matching is unanchored, like Go's MatchString.
  static bool Matches(const UserEvent& event, std::string_view node,
                      const std::vector<structs::Service>& services);

 private:
  const Accepts accepts_;
  mutable Mutex mu_;
  std::deque<UserEvent> events_ SIDER_GUARDED_BY(mu_);
  uint64_t ltime_ SIDER_GUARDED_BY(mu_) = 0;
  store::WatchPtr watch_ SIDER_GUARDED_BY(mu_);
};

}  // namespace sider::server
