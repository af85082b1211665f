// KV, session and transaction types: what the KV store keeps, what KV /
// session / txn commands carry, and what a transaction returns. Plain
// values; JSON codecs for Consul's wire shapes live with the HTTP layer,
// protobuf encodings in store/kv.proto and fsm/.
//
// Field names follow Consul's (structs.DirEntry, structs.Session,
// api.KVTxnOp, structs.TxnResult / TxnError). Durations are nanoseconds.
//
// Thread safety: values; const access from many threads is fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sider::structs {

// Consul's limits: a value over 512 KiB is refused (HTTP 413), and a
// transaction holds at most 64 operations (HTTP 413 as well).
inline constexpr size_t kMaxKvValueBytes = 512 * 1024;
inline constexpr size_t kMaxTxnOps = 64;

// Consul's DirEntry: one key of the KV tree.
//
// LockIndex counts successful acquisitions of this key by a session; it
// only grows while the key exists. A deleted and recreated key starts
// again at 0 (as in Consul: the row is gone), so a fencing token that must
// survive deletes is the pair (create_index, lock_index).
struct KvEntry {
  std::string key;
  std::string value;  // Raw bytes (base64 on Consul's wire).
  uint64_t flags = 0;
  std::string session;  // The holder's session ID, or empty.
  uint64_t lock_index = 0;
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool operator==(const KvEntry&) const = default;
};

// A key to write must be non-empty, valid UTF-8 and must not start with
// '/'. kInvalidArgument otherwise, with a message fit for a 400.
Status ValidateKvKey(std::string_view key);
// A prefix (recurse, keys, delete-tree, get-tree) may be empty (the whole
// tree) but must otherwise be valid UTF-8 without a leading '/'.
Status ValidateKvPrefix(std::string_view prefix);

// ---- KV commands ----

// Consul's api.KVOp for /v1/kv writes. Persisted (in log entries): append
// only, never renumber.
enum class KvOp : uint8_t {
  kSet = 0,         // PUT: plain write; keeps the current lock holder.
  kCas = 1,         // PUT ?cas=N: entry.modify_index is N; 0 = create only.
  kLock = 2,        // PUT ?acquire=S: entry.session is S.
  kUnlock = 3,      // PUT ?release=S: entry.session is S.
  kDelete = 4,      // DELETE
  kDeleteCas = 5,   // DELETE ?cas=N: entry.modify_index is N.
  kDeleteTree = 6,  // DELETE ?recurse: entry.key is the prefix.
};

// One /v1/kv write. `entry` carries key, value, flags, and — depending on
// `op` — the CAS index (in modify_index) or the session. Its other index
// fields are ignored. The reply payload is "true" or "false".
struct KvCommand {
  KvOp op = KvOp::kSet;
  KvEntry entry;
};

// ---- Sessions ----

// Persisted: append only.
enum class SessionBehavior : uint8_t {
  kRelease = 0,  // "release": invalidation releases the held keys.
  kDelete = 1,   // "delete": invalidation deletes them (ephemeral keys).
};
std::string_view SessionBehaviorName(SessionBehavior b);  // "release", ...
std::optional<SessionBehavior> ParseSessionBehavior(std::string_view name);

// Consul's ServiceCheck inside a session: a check on the session's node,
// named by ID, expected to belong to a service in `ns`.
struct SessionServiceCheck {
  std::string id;
  std::string ns{"default"};
  bool operator==(const SessionServiceCheck&) const = default;
};

// Consul's Session. Sessions are immutable once created (renewal is leader
// memory, not a write), so modify_index == create_index.
//
// Consul's legacy "Checks" list names node-level checks like NodeChecks;
// the HTTP layer folds it into node_checks. The default when a create
// names no checks at all (NodeChecks ["serfHealth"], Consul >= 1.7) is
// also the HTTP/server layer's to apply: the store takes the lists as
// given, and an empty list means "no checks".
struct Session {
  std::string id;    // UUID chosen by the proposer, never by the FSM.
  std::string name;
  std::string node;
  std::vector<std::string> node_checks;           // "NodeChecks"
  std::vector<SessionServiceCheck> service_checks;  // "ServiceChecks"
  SessionBehavior behavior = SessionBehavior::kRelease;
  std::string ttl;  // As given ("30s"), or empty; validated by the server.
  int64_t lock_delay_ns = 15'000'000'000;  // Consul's default 15s.
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool operator==(const Session&) const = default;
};

// PUT /v1/session/create: the session (id set by the proposer).
struct SessionCreateCommand {
  Session session;
};
// PUT /v1/session/destroy/:id, and the leader's TTL expiry: both
// invalidate the session (its keys are released or deleted).
struct SessionDestroyCommand {
  std::string id;
};

// A key given up by a session invalidation (destroy, TTL expiry, a check
// gone critical or deregistered, the node deregistered) — released or
// deleted. The leader starts the key's lock-delay from this, as Consul
// does (an explicit ?release does not start a lock-delay).
struct ReleasedLock {
  std::string key;
  std::string session;
  int64_t lock_delay_ns = 0;  // The session's LockDelay.
  bool operator==(const ReleasedLock&) const = default;
};

// ---- Transactions (KV verbs only) ----

// Consul's api.KVOp verbs as /v1/txn spells them. Persisted: append only.
enum class TxnKvVerb : uint8_t {
  kSet = 0,             // "set"
  kCas = 1,             // "cas"
  kLock = 2,            // "lock"
  kUnlock = 3,          // "unlock"
  kGet = 4,             // "get"
  kGetTree = 5,         // "get-tree"
  kCheckIndex = 6,      // "check-index"
  kCheckSession = 7,    // "check-session"
  kCheckNotExists = 8,  // "check-not-exists"
  kDelete = 9,          // "delete"
  kDeleteTree = 10,     // "delete-tree"
  kDeleteCas = 11,      // "delete-cas"
};
std::string_view TxnKvVerbName(TxnKvVerb v);  // "set", "get-tree", ...
std::optional<TxnKvVerb> ParseTxnKvVerb(std::string_view name);

// One {"KV": {"Verb": ..., "Key": ..., "Value": ..., "Flags": ...,
// "Index": ..., "Session": ...}} operation. "Index" goes to
// entry.modify_index.
struct TxnKvOp {
  TxnKvVerb verb = TxnKvVerb::kGet;
  KvEntry entry;
};

struct TxnCommand {
  std::vector<TxnKvOp> ops;
};

// Consul's TxnError: which operation failed and why (Consul's texts).
struct TxnError {
  size_t op_index = 0;
  std::string what;
  bool operator==(const TxnError&) const = default;
};

// Consul's TxnResponse. Exactly one of the two is non-empty unless the
// transaction produced no results (e.g. only deletes): on failure
// `results` is empty and `errors` lists every failed op (HTTP 409);
// on success `errors` is empty. Results: one KvEntry per get / set / cas /
// lock / unlock / check-index / check-session, one per key for get-tree,
// none for check-not-exists and the deletes. Only get and get-tree carry
// values; the write and check results have `value` emptied, as in Consul.
struct TxnResult {
  std::vector<KvEntry> results;
  std::vector<TxnError> errors;
  bool operator==(const TxnResult&) const = default;
};

}  // namespace sider::structs
