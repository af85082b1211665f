#include "server/session_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "base/duration.h"
#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/uuid.h"
#include "store/kv_store.h"

namespace sider::server {
namespace {

constexpr std::string_view kSerfCheckId = "serfHealth";
// An expiry whose destroy could not be proposed is retried after this.
constexpr std::chrono::seconds kExpiryRetry{1};

}  // namespace

SessionManager::SessionManager(const NodeIdentity& self, asio::io_context& io,
                               Clock& clock, store::KvStore& kv,
                               consensus::RaftNode& raft, Options options)
    : self_(self),
      io_(io),
      clock_(clock),
      kv_(kv),
      raft_(raft),
      options_(options),
      ttl_(clock, io.get_executor(),
           [this](const std::string&, const std::string& id) {
             OnExpired(id);
           }) {
  ttl_.Pause();  // Expiry is a leader duty; resumed when we lead.
}

SessionManager::~SessionManager() { Stop(); }

void SessionManager::Start() {
  raft_.OnLeadershipChange(io_.get_executor(),
                           [this](bool leader) { OnLeadership(leader); });
}

void SessionManager::Stop() {
  {
    WriterLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  ttl_.Pause();
}

Status SessionManager::ValidateTtl(std::chrono::nanoseconds ttl) const {
  if (ttl.count() == 0) return Status::Ok();
  if (ttl < options_.ttl_min || ttl > options_.ttl_max) {
    // Consul formats the TTL with %d: its nanoseconds.
    return Status(Code::kInvalidArgument,
                  "Invalid Session TTL '" + std::to_string(ttl.count()) +
                      "', must be between [" +
                      FormatGoDuration(options_.ttl_min) + "=" +
                      FormatGoDuration(options_.ttl_max) + "]");
  }
  return Status::Ok();
}

void SessionManager::Track(const structs::Session& s) {
  if (s.ttl.empty()) return;
  auto ttl = ParseGoDuration(s.ttl);
  if (!ttl.ok() || ttl->count() <= 0) return;
  ttl_.Track("", s.id, *ttl * options_.ttl_multiplier);
}

void SessionManager::Create(structs::Session session, bool node_checks_given,
                            CreateDone done) {
  if (session.node.empty()) session.node = self_.name;
  if (!node_checks_given) session.node_checks = {std::string(kSerfCheckId)};
  std::chrono::nanoseconds ttl{0};
  if (!session.ttl.empty()) {
    auto parsed = ParseGoDuration(session.ttl);
    if (!parsed.ok()) {
      done(Status(Code::kInvalidArgument, "Session TTL '" + session.ttl +
                                              "' invalid: " +
                                              parsed.status().message()));
      return;
    }
    ttl = *parsed;
  }
  if (Status s = ValidateTtl(ttl); !s.ok()) {
    done(std::move(s));
    return;
  }
  if (session.lock_delay_ns < 0 ||
      std::chrono::nanoseconds(session.lock_delay_ns) >
          options_.max_lock_delay) {
    done(Status(Code::kInvalidArgument,
                "Invalid Lock Delay '" +
                    FormatGoDuration(
                        std::chrono::nanoseconds(session.lock_delay_ns)) +
                    "', must be between [0s=" +
                    FormatGoDuration(options_.max_lock_delay) + "]"));
    return;
  }
  session.id = NewUuidV4();
  session.create_index = session.modify_index = 0;
  structs::SessionCreateCommand cmd{session};
  raft_.Propose(fsm::EncodeSessionCreate(cmd), io_.get_executor(),
                [this, session = std::move(session),
                 done = std::move(done)](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    done(std::move(r.status));
                    return;
                  }
                  Track(session);
                  done(session.id);
                });
}

void SessionManager::Destroy(const std::string& id, Done done) {
  structs::SessionDestroyCommand cmd{id};
  raft_.Propose(fsm::EncodeSessionDestroy(cmd), io_.get_executor(),
                [this, id, done = std::move(done)](fsm::ApplyResult r) {
                  if (r.status.ok()) ttl_.Untrack("", id);
                  done(std::move(r.status));
                });
}

Result<structs::Session> SessionManager::Renew(std::string_view id) {
  auto found = kv_.SessionGet(id, nullptr);
  if (!found.value) {
    ttl_.Untrack("", std::string(id));
    return Status(Code::kNotFound,
                  "Session id '" + std::string(id) + "' not found");
  }
  switch (ttl_.Pass("", id)) {
    case agent::TtlTracker::PassResult::kOk:
      break;
    case agent::TtlTracker::PassResult::kNotTracked:
      Track(*found.value);  // Created through another leader, or no TTL.
      break;
    case agent::TtlTracker::PassResult::kRevived:
      // Its expiry was already reported and the destroy is on its way: too
      // late to renew, as a Consul client would find a moment later.
      return Status(Code::kNotFound,
                    "Session id '" + std::string(id) + "' not found");
  }
  return std::move(found.value).value();
}

void SessionManager::RearmAfterRestore() {
  if (!raft_.IsLeader()) return;
  OnLeadership(false);
  OnLeadership(true);
}

void SessionManager::OnLeadership(bool leader) {
  {
    ReaderLock lock(&mu_);
    if (stopped_) return;
  }
  if (!leader) {
    ttl_.Pause();
    return;
  }
  // Every TTL session gets a full period from now (Consul's
  // initializeSessionTimers): renewals may have gone to the old leader.
  for (const structs::Session& s : kv_.SessionList(nullptr).value) Track(s);
  ttl_.ResetAll();
  ttl_.Resume();
  spdlog::info("leader ready: tracking session TTLs");
}

void SessionManager::OnExpired(const std::string& id) {
  if (!kv_.SessionGet(id, nullptr).value) {
    ttl_.Untrack("", id);
    return;
  }
  spdlog::info("session {} expired: invalidating", id);
  structs::SessionDestroyCommand cmd{id};
  raft_.Propose(fsm::EncodeSessionDestroy(cmd), io_.get_executor(),
                [this, id](fsm::ApplyResult r) {
                  if (r.status.ok()) {
                    ttl_.Untrack("", id);
                    return;
                  }
                  spdlog::warn("session {}: invalidation failed: {}", id,
                               r.status.message());
                  // Try again soon; a new leader re-tracks it anyway.
                  ttl_.Track("", id, kExpiryRetry);
                });
}

}  // namespace sider::server
