// Fsm: the StateMachine consensus/ applies committed entries to. It decodes
// each entry (fsm/commands.h) and applies it to the stores; it snapshots and
// restores all of them as one framed, checksummed blob.
//
// Threading: Apply, Snapshot and Restore run on the consensus thread only
// (the stores' readers may run concurrently on io threads).
// Ownership: the stores are not owned and must outlive the Fsm.
// Determinism: Apply depends only on (raft_index, entry) and store state.
// Errors: a command rejected by the store comes back in ApplyResult::status
// (identically on every replica). An entry that cannot be decoded, or of a
// type this build does not know, logs and aborts: skipping it would let
// replicas diverge. Restore returns kDataLoss for a corrupt snapshot, and
// then nothing has changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fsm/commands.h"
#include "fsm/state_machine.h"
#include "store/catalog_store.h"

namespace sider::fsm {

// The stores the FSM writes; not owned. The KV and session stores join here.
struct Stores {
  store::CatalogStore* catalog = nullptr;
};

class Fsm final : public StateMachine {
 public:
  explicit Fsm(store::CatalogStore& catalog);
  explicit Fsm(Stores stores);  // REQUIRES: every pointer is non-null.
  Fsm(const Fsm&) = delete;
  Fsm& operator=(const Fsm&) = delete;

  ApplyResult Apply(uint64_t raft_index, std::string_view command) override;
  std::string Snapshot() override;
  Status Restore(std::string_view bytes) override;

 private:
  ApplyResult Dispatch(uint64_t raft_index, const Entry& entry);

  const Stores stores_;
};

}  // namespace sider::fsm
