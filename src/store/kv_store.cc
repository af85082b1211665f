// KvStore: construction and the write path — validation, then row
// mutations (kv_tables.cc), then one commit that bumps the indexes and
// collects the Watches to fire once the locks are released.
#include "store/kv_store.h"

#include <utility>

#include "store/catalog_store.h"
#include "store/kv_tables.h"

namespace sider::store {
namespace {

using internal::KvChanges;
using internal::KvUndo;
using structs::KvEntry;
using structs::KvOp;
using structs::TxnKvVerb;

Status Invalid(std::string message) {
  return Status(Code::kInvalidArgument, std::move(message));
}

Status CheckValueSize(const KvEntry& e) {
  if (e.value.size() > structs::kMaxKvValueBytes) {
    return Status(Code::kTooLarge,
                  "Value exceeds " +
                      std::to_string(structs::kMaxKvValueBytes) +
                      " byte limit");
  }
  return Status::Ok();
}

Status ValidateKvCommand(const structs::KvCommand& cmd) {
  switch (cmd.op) {
    case KvOp::kDeleteTree:
      return structs::ValidateKvPrefix(cmd.entry.key);
    case KvOp::kDelete:
    case KvOp::kDeleteCas:
      return structs::ValidateKvKey(cmd.entry.key);
    case KvOp::kSet:
    case KvOp::kCas:
    case KvOp::kLock:
    case KvOp::kUnlock:
      SIDER_RETURN_IF_ERROR(structs::ValidateKvKey(cmd.entry.key));
      return CheckValueSize(cmd.entry);
  }
  return Invalid("unknown KV operation " +
                 std::to_string(static_cast<unsigned>(cmd.op)));
}

bool IsTreeVerb(TxnKvVerb v) {
  return v == TxnKvVerb::kGetTree || v == TxnKvVerb::kDeleteTree;
}

Status ValidateTxn(const std::vector<structs::TxnKvOp>& ops) {
  if (ops.size() > structs::kMaxTxnOps) {
    return Status(Code::kTooLarge,
                  "Transaction contains too many operations (" +
                      std::to_string(ops.size()) + " > " +
                      std::to_string(structs::kMaxTxnOps) + ")");
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const structs::TxnKvOp& op = ops[i];
    if (structs::TxnKvVerbName(op.verb).empty()) {
      return Invalid("operation " + std::to_string(i) + ": unknown KV verb");
    }
    Status s = IsTreeVerb(op.verb) ? structs::ValidateKvPrefix(op.entry.key)
                                   : structs::ValidateKvKey(op.entry.key);
    if (s.ok()) s = CheckValueSize(op.entry);
    if (!s.ok()) {
      return Status(s.code(),
                    "operation " + std::to_string(i) + ": " + s.message());
    }
  }
  return Status::Ok();
}

// Go's %q, for the ASCII printable range and the usual escapes; other
// bytes (valid UTF-8 in keys) pass through as Go prints them.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

Status TxnFailed(std::string what) {
  return Status(Code::kConflict, std::move(what));
}

KvEntry WithoutValue(KvEntry e) {
  e.value.clear();
  return e;
}

// One transaction operation, as Consul's txnKVS: OK and its results, or
// the error's What text.
Status RunTxnOp(internal::KvTables& t, uint64_t raft_index,
                const structs::TxnKvOp& op, KvChanges* ch, KvUndo* undo,
                std::vector<KvEntry>* results) {
  const KvEntry& in = op.entry;
  const std::string q = Quote(in.key);
  KvEntry out;
  switch (op.verb) {
    case TxnKvVerb::kSet:
      internal::KvSet(t, raft_index, in, false, ch, undo, &out);
      break;
    case TxnKvVerb::kCas:
      if (!internal::KvCas(t, raft_index, in, ch, undo, &out)) {
        return TxnFailed("failed to set key " + q + ", index is stale");
      }
      break;
    case TxnKvVerb::kLock: {
      Result<bool> r = internal::KvLock(t, raft_index, in, ch, undo, &out);
      if (!r.ok()) return r.status();
      if (!*r) {
        return TxnFailed("failed to lock key " + q + ", lock is already held");
      }
      break;
    }
    case TxnKvVerb::kUnlock: {
      Result<bool> r = internal::KvUnlock(t, raft_index, in, ch, undo, &out);
      if (!r.ok()) return r.status();
      if (!*r) {
        return TxnFailed("failed to unlock key " + q +
                         ", lock isn't held, or is held by another session");
      }
      break;
    }
    case TxnKvVerb::kGet: {
      auto it = t.kvs.find(in.key);
      if (it == t.kvs.end()) return TxnFailed("key " + q + " doesn't exist");
      results->push_back(it->second);  // Only get and get-tree keep values.
      return Status::Ok();
    }
    case TxnKvVerb::kGetTree:
      for (auto it = t.kvs.lower_bound(in.key);
           it != t.kvs.end() && it->first.starts_with(in.key); ++it) {
        results->push_back(it->second);
      }
      return Status::Ok();
    case TxnKvVerb::kCheckIndex: {
      auto it = t.kvs.find(in.key);
      if (it == t.kvs.end()) {
        return TxnFailed("failed to check index, key " + q +
                         " doesn't exist");
      }
      if (it->second.modify_index != in.modify_index) {
        return TxnFailed("failed index check for key " + q +
                         ", current modify index " +
                         std::to_string(it->second.modify_index) +
                         " != " + std::to_string(in.modify_index));
      }
      out = it->second;
      break;
    }
    case TxnKvVerb::kCheckSession: {
      auto it = t.kvs.find(in.key);
      if (it == t.kvs.end()) {
        return TxnFailed("failed to check session, key " + q +
                         " doesn't exist");
      }
      if (it->second.session != in.session) {
        return TxnFailed("failed session check for key " + q +
                         ", current session " + Quote(it->second.session) +
                         " != " + Quote(in.session));
      }
      out = it->second;
      break;
    }
    case TxnKvVerb::kCheckNotExists:
      if (t.kvs.contains(in.key)) return TxnFailed("key " + q + " exists");
      return Status::Ok();
    case TxnKvVerb::kDelete:
      internal::KvDelete(t, raft_index, in.key, ch, undo);
      return Status::Ok();
    case TxnKvVerb::kDeleteTree:
      internal::KvDeleteTree(t, raft_index, in.key, ch, undo);
      return Status::Ok();
    case TxnKvVerb::kDeleteCas:
      if (!internal::KvDeleteCas(t, raft_index, in.key, in.modify_index, ch,
                                 undo)) {
        return TxnFailed("failed to delete key " + q + ", index is stale");
      }
      return Status::Ok();
  }
  results->push_back(WithoutValue(std::move(out)));
  return Status::Ok();
}

}  // namespace

KvStore::KvStore()
    : t_(std::make_unique<Tables>()), w_(std::make_unique<Watches>()) {}
KvStore::~KvStore() = default;

Result<bool> KvStore::Apply(uint64_t raft_index,
                            const structs::KvCommand& cmd) {
  SIDER_RETURN_IF_ERROR(ValidateKvCommand(cmd));
  std::vector<WatchPtr> fired;
  bool ok = true;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    KvChanges ch;
    const KvEntry& e = cmd.entry;
    switch (cmd.op) {
      case KvOp::kSet:
        ok = internal::KvSet(t, raft_index, e, false, &ch, nullptr, nullptr);
        break;
      case KvOp::kCas:
        ok = internal::KvCas(t, raft_index, e, &ch, nullptr, nullptr);
        break;
      case KvOp::kLock: {
        SIDER_ASSIGN_OR_RETURN(
            ok, internal::KvLock(t, raft_index, e, &ch, nullptr, nullptr));
        break;
      }
      case KvOp::kUnlock: {
        SIDER_ASSIGN_OR_RETURN(
            ok, internal::KvUnlock(t, raft_index, e, &ch, nullptr, nullptr));
        break;
      }
      case KvOp::kDelete:
        internal::KvDelete(t, raft_index, e.key, &ch, nullptr);
        break;
      case KvOp::kDeleteCas:
        ok = internal::KvDeleteCas(t, raft_index, e.key, e.modify_index, &ch,
                                   nullptr);
        break;
      case KvOp::kDeleteTree:
        internal::KvDeleteTree(t, raft_index, e.key, &ch, nullptr);
        break;
    }
    internal::CommitIndexes(t, raft_index, ch);
    WriterLock wlock(&watch_mu_);
    internal::CollectWatches(*w_, ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return ok;
}

Result<structs::TxnResult> KvStore::Txn(
    uint64_t raft_index, const std::vector<structs::TxnKvOp>& ops) {
  SIDER_RETURN_IF_ERROR(ValidateTxn(ops));
  structs::TxnResult result;
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    KvChanges ch;
    KvUndo undo;
    // Like Consul, run every op and report every failure, each seeing the
    // effects of the ops before it; then keep all or nothing.
    for (size_t i = 0; i < ops.size(); ++i) {
      Status s = RunTxnOp(t, raft_index, ops[i], &ch, &undo, &result.results);
      if (!s.ok()) result.errors.push_back({.op_index = i, .what = s.message()});
    }
    if (!result.errors.empty()) {
      internal::Rollback(t, &undo);
      result.results.clear();
      return result;
    }
    internal::CommitIndexes(t, raft_index, ch);
    WriterLock wlock(&watch_mu_);
    internal::CollectWatches(*w_, ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return result;
}

Status KvStore::SessionCreate(uint64_t raft_index,
                              const structs::Session& in,
                              const CatalogStore& catalog) {
  if (in.id.empty()) return Invalid("Missing session ID");
  if (in.node.empty()) return Invalid("Missing node");
  if (structs::SessionBehaviorName(in.behavior).empty()) {
    return Invalid("Invalid Behavior setting");
  }
  if (in.lock_delay_ns < 0) return Invalid("Invalid LockDelay");
  // The catalog first, without this store's lock (see the header).
  if (!catalog.HasNode(in.node)) return Invalid("Missing node registration");
  std::vector<std::string_view> check_ids(in.node_checks.begin(),
                                          in.node_checks.end());
  for (const auto& sc : in.service_checks) check_ids.push_back(sc.id);
  for (std::string_view id : check_ids) {
    std::optional<structs::Check> c = catalog.GetCheck(in.node, id);
    if (!c) {
      return Invalid("Missing check '" + std::string(id) + "' registration");
    }
    if (c->status >= structs::HealthStatus::kCritical) {
      return Invalid("Check '" + std::string(id) + "' is in " +
                     std::string(structs::HealthStatusName(c->status)) +
                     " state");
    }
  }
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    if (t.sessions.contains(in.id)) {
      return Invalid("Session ID '" + in.id + "' already exists");
    }
    structs::Session s = in;
    s.create_index = raft_index;
    s.modify_index = raft_index;
    t.sessions_by_node[s.node].insert(s.id);
    t.sessions.emplace(s.id, std::move(s));
    KvChanges ch;
    ch.sessions = true;
    internal::CommitIndexes(t, raft_index, ch);
    WriterLock wlock(&watch_mu_);
    internal::CollectWatches(*w_, ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return Status::Ok();
}

std::vector<structs::ReleasedLock> KvStore::SessionDestroy(
    uint64_t raft_index, std::string_view id) {
  std::vector<structs::ReleasedLock> released;
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    if (!t.sessions.contains(id)) return released;
    KvChanges ch;
    internal::InvalidateSession(t, raft_index, std::string(id), &ch,
                                &released);
    internal::CommitIndexes(t, raft_index, ch);
    WriterLock wlock(&watch_mu_);
    internal::CollectWatches(*w_, ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return released;
}

std::vector<structs::ReleasedLock> KvStore::InvalidateNodeSessions(
    uint64_t raft_index, std::string_view node, const CatalogStore& catalog) {
  std::vector<structs::Session> sessions = NodeSessions(node, nullptr).value;
  if (sessions.empty()) return {};
  // Decide from the catalog before taking this store's lock.
  const bool node_exists = catalog.HasNode(node);
  std::vector<std::string> doomed;
  for (const structs::Session& s : sessions) {
    bool healthy = node_exists;
    auto check_ok = [&](std::string_view id) {
      std::optional<structs::Check> c = catalog.GetCheck(node, id);
      return c && c->status < structs::HealthStatus::kCritical;
    };
    for (const auto& id : s.node_checks) healthy = healthy && check_ok(id);
    for (const auto& sc : s.service_checks) {
      healthy = healthy && check_ok(sc.id);
    }
    if (!healthy) doomed.push_back(s.id);
  }
  std::vector<structs::ReleasedLock> released;
  if (doomed.empty()) return released;
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    Tables& t = *t_;
    KvChanges ch;
    for (const std::string& id : doomed) {
      if (t.sessions.contains(id)) {
        internal::InvalidateSession(t, raft_index, id, &ch, &released);
      }
    }
    internal::CommitIndexes(t, raft_index, ch);
    WriterLock wlock(&watch_mu_);
    internal::CollectWatches(*w_, ch, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
  return released;
}

void KvStore::ReapTombstones(uint64_t raft_index, uint64_t up_to_index) {
  WriterLock lock(&mu_);
  Tables& t = *t_;
  for (auto it = t.tombstones.begin(); it != t.tombstones.end();) {
    if (it->second <= up_to_index) {
      t.reaped_floor = std::max(t.reaped_floor, it->second);
      it = t.tombstones.erase(it);
    } else {
      ++it;
    }
  }
  // No row changed and no result can differ: no index bump, no watch.
  t.max_index = std::max(t.max_index, raft_index);
}

}  // namespace sider::store
