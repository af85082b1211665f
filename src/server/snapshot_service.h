// SnapshotService: backups and whole-state restores (GET / PUT
// /v1/snapshot) and the state hash (GET /v1/operator/state-hash).
//
//  * Save takes Fsm::Snapshot() on the consensus thread between two
//    applies (RaftNode::RunOnConsensusThread), so the bytes, the applied
//    Raft index and the term belong together, then wraps them in an
//    archive (fsm/archive.h) with row counts and the state hash. It
//    snapshots this node's state: consistency (leader + barrier, or
//    ?stale) is the HTTP dispatcher's business, as for every read.
//  * Restore verifies an archive completely (SHA-256, then every part of
//    the snapshot) before proposing it as one kRestore entry, so a
//    corrupt, truncated or oversized archive changes nothing and never
//    reaches Raft. Every replica applies the entry alike (fsm/fsm.h).
//  * Hash: the applied index and Fsm::StateHash(), taken together on the
//    consensus thread.
//
// Threading: any io thread; callbacks run on the executor given at
// construction. Ownership: `raft` and `fsm` outlive the service.
// Errors: kInvalidArgument for a corrupt or truncated archive (its message
// says what is wrong), kTooLarge for a state whose restore entry would be
// over fsm::kMaxRestoreEntryBytes compressed (or the state over
// fsm::kMaxRestoreSnapshotBytes), kUnavailable / kOutcomeUnknown from Raft.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/asio.h"
#include "base/status.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::fsm {
class Fsm;
}

namespace sider::server {

class SnapshotService {
 public:
  struct Options {
    std::string node;     // Recorded in archives.
    std::string version;  // Likewise.
    // Wall-clock milliseconds since the epoch, for the archive's creation
    // time (not replicated state). Defaults to the system clock.
    std::function<int64_t()> wall_ms;
    // Runs on the executor after a restore proposed here has applied
    // (the leader re-arms its TTL and session timers).
    std::function<void()> on_restored;
  };

  SnapshotService(asio::any_io_executor executor, consensus::RaftNode& raft,
                  fsm::Fsm& fsm, Options options);

  struct Saved {
    std::string archive;
    uint64_t raft_index = 0;
  };
  void Save(std::function<void(Result<Saved>)> done);

  void Restore(std::string archive, std::function<void(Status)> done);

  struct StateHash {
    uint64_t index = 0;  // Last applied Raft index.
    uint64_t hash = 0;   // Fsm::StateHash() at that index.
  };
  void Hash(std::function<void(Result<StateHash>)> done);

 private:
  const asio::any_io_executor executor_;
  consensus::RaftNode& raft_;
  fsm::Fsm& fsm_;
  const Options options_;
};

}  // namespace sider::server
