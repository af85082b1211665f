// StateMachine: what consensus/ applies committed entries to. The FSM
// (fsm/fsm.h) implements it; consensus/ depends only on this interface.
//
// Threading: every method is called on the consensus thread only, except
// Snapshot: consensus/ may call it on a worker thread, and then calls
// neither Apply nor Restore until it returns.
// Determinism: Apply must depend only on (raft_index, command) and the
// current state — no clock, randomness or node-local config — so every
// replica ends byte-identical. An entry that cannot be decoded aborts the
// process (a corrupt log must never be silently skipped).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sider::fsm {

// What the proposer gets back once its entry is applied. `status` is the
// command's own outcome (e.g. kInvalidArgument if a registration names an
// unknown service); `payload` carries a command-specific reply (for KV:
// "true"/"false"; for transactions: encoded results).
struct ApplyResult {
  ApplyResult() = default;
  ApplyResult(Status s, std::string p = {})  // NOLINT: {status, payload}.
      : status(std::move(s)), payload(std::move(p)) {}

  Status status;
  std::string payload;
  // For an entry made by PackBatch(): one result per packed command, in
  // order (and status/payload above are unused).
  std::vector<ApplyResult> batch;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual ApplyResult Apply(uint64_t raft_index, std::string_view command) = 0;
  // Batching, optional. Packs commands proposed together (at least two)
  // into one log entry; Apply of that entry applies each in order at its
  // raft_index, atomically for readers (none sees the state between two of
  // them), and returns their results in ApplyResult::batch. "" (the
  // default) means this StateMachine does not batch: each command is then
  // its own entry. Any thread; pure.
  virtual std::string PackBatch(const std::vector<std::string>& commands) {
    (void)commands;
    return {};
  }
  // The whole state as of the last applied entry.
  virtual std::string Snapshot() = 0;
  // Replaces the whole state; kDataLoss if `bytes` is corrupt (and then
  // nothing changed).
  virtual Status Restore(std::string_view bytes) = 0;
};

}  // namespace sider::fsm
