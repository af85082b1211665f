// KvService: the write side of /v1/kv and /v1/txn. Validates what can be
// checked without the store (key syntax, the 512 KiB value limit, the
// 64-operation transaction limit), takes the leader-only lock-delay
// decision before proposing (so the FSM stays deterministic), and proposes
// the command through Raft. Reads go straight to store::KvStore from the
// handlers.
//
// Lock-delay, as Consul's kvsPreApply: an acquire (PUT ?acquire, txn
// "lock") of a key inside its lock-delay window is not proposed at all;
// the PUT answers false, the txn fails with "failed to lock key \"k\" due
// to lock delay" at that OpIndex (HTTP 409).
//
// Threading: any io thread; `done` runs on the executor given at
// construction once the command is applied (or at once, inline, when it is
// refused before proposing).
// Errors: kInvalidArgument (bad key, and the store's: missing or invalid
// session), kTooLarge (value over 512 KiB, more than 64 txn operations),
// kUnavailable, kOutcomeUnknown.
#pragma once

#include <functional>
#include <vector>

#include "base/asio.h"
#include "base/status.h"
#include "structs/kv.h"

namespace sider::consensus {
class RaftNode;
}

namespace sider::server {

class LockDelays;

class KvService {
 public:
  using Done = std::function<void(Result<bool>)>;
  using TxnDone = std::function<void(Result<structs::TxnResult>)>;

  KvService(asio::any_io_executor executor, consensus::RaftNode& raft,
            const LockDelays& lock_delays)
      : executor_(std::move(executor)), raft_(raft), lock_delays_(lock_delays) {}

  // A PUT or DELETE on /v1/kv: true/false as Consul answers it.
  void Apply(structs::KvCommand cmd, Done done);
  // A /v1/txn: results, or errors (with OpIndex) and nothing changed.
  void Txn(std::vector<structs::TxnKvOp> ops, TxnDone done);

  // Consul's texts for the limits (413).
  static Status ValueTooLarge(size_t size);
  static Status TooManyOps(size_t count);

 private:
  const asio::any_io_executor executor_;
  consensus::RaftNode& raft_;
  const LockDelays& lock_delays_;
};

}  // namespace sider::server
