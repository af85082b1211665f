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

#include "base/status.h"

namespace sider::fsm {

// What the proposer gets back once its entry is applied. `status` is the
// command's own outcome (e.g. kInvalidArgument if a registration names an
// unknown service); `payload` carries a command-specific reply (for KV:
// "true"/"false"; for transactions: encoded results).
struct ApplyResult {
  Status status;
  std::string payload;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual ApplyResult Apply(uint64_t raft_index, std::string_view command) = 0;
  // The whole state as of the last applied entry.
  virtual std::string Snapshot() = 0;
  // Replaces the whole state; kDataLoss if `bytes` is corrupt (and then
  // nothing changed).
  virtual Status Restore(std::string_view bytes) = 0;
};

}  // namespace sider::fsm
