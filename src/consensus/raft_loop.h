// RaftNode::Loop: the consensus thread's half of RaftNode (private to
// consensus/). It owns the uv loop, its wakeup and poll handles, and the
// sider_raft handle; every method except Wake() runs on the consensus thread.
//
// Requests handed to libraft are owned here until their callback fires:
// proposals in `in_flight_`, barriers and membership changes in `ops_`, both
// keyed by a sequence number so that whatever libraft never completes is
// failed (kUnavailable) once libraft has closed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "consensus/raft_node.h"
#include "consensus/raft_shim.h"

namespace sider::consensus {

class RaftNode::Loop {
 public:
  explicit Loop(RaftNode* node) : node_(node) {}
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Initializes the loop, opens the log and starts libraft. On failure
  // everything is already torn down.
  Status Open();
  // Runs the loop until Stop() has closed it, then releases it.
  void Run();
  // Any thread; callers serialize with RaftNode::mu_ (see Stop()).
  void Wake() { uv_async_send(&wakeup_); }

 private:
  // One log entry: a proposal, or several packed by StateMachine::PackBatch
  // (packed()), completed in order from ApplyResult::batch.
  struct InFlight {
    Loop* loop = nullptr;
    uint64_t seq = 0;
    uint64_t index = 0;  // From raft_apply.
    std::vector<Work> works;  // More than one only when packed.
    bool packed() const { return works.size() > 1; }
    std::optional<fsm::ApplyResult> result;  // Set by ApplyOp.
    uint64_t applied_at = 0;                 // Index ApplyOp saw.
  };
  struct Op {
    enum class Kind { kLeaderBarrier, kReadBarrier, kCommitNudge, kAdd,
                      kAssign, kRemove, kTransfer };
    Loop* loop = nullptr;
    uint64_t seq = 0;
    Kind kind = Kind::kLeaderBarrier;
    uint64_t term = 0;         // kLeaderBarrier.
    std::vector<Work> waiters;  // Completed together.
    Work* work() { return &waiters.front(); }
  };

  // libuv and shim callbacks. Nothing unwinds into C.
  static void OnWakeup(uv_async_t* handle) noexcept;
  static void OnTick(uv_timer_t* handle) noexcept;
  static void OnNudge(uv_timer_t* handle) noexcept;
  static int ApplyOp(void* ctx, uint64_t index, const void* data,
                     size_t len) noexcept;
  static int SnapshotOp(void* ctx, void** data, size_t* len) noexcept;
  static int RestoreOp(void* ctx, const void* data, size_t len) noexcept;
  static void SnapshotTakenOp(void* ctx,
                              const sider_raft_snapshot_info* info) noexcept;
  static void OnApplied(void* arg, uint64_t index, int status) noexcept;
  static void OnOpDone(void* arg, int status) noexcept;
  static void OnRaftClosed(void* arg) noexcept;

  void Drain();
  // Submits the proposals drained together: runs of small ones packed into
  // one entry each (StateMachine::PackBatch), the rest one entry each.
  void SubmitProposals(std::vector<Work> proposals);
  void SubmitEntry(std::vector<Work> works);
  // Completes an applied entry's proposals with its result.
  void Complete(InFlight& f, uint64_t index);
  void SubmitReadBarrier(std::vector<Work> waiters);
  // After a proposal committed: arms nudge_ if nothing else is in flight
  // and the configuration has other voters (Options::commit_nudge_ms).
  void MaybeNudgeCommit();
  void SubmitChange(Work work);
  void FinishOp(std::unique_ptr<Op> op, int status);
  // Completes the WaitApplied waiters that `applied` satisfies; with
  // `expire`, fails those past their deadline too.
  void WakeApplied(uint64_t applied, bool expire);
  Op* NewOp(Op::Kind kind);
  void Poll();
  void PollLeadership(const sider_raft_status& st);
  void PollPeers(const sider_raft_status& st);
  void BeginClose();
  void CloseHandles();
  // The Status for a request refused (at submission) or failed (in its
  // callback) with libraft error `rv`.
  Status Refused(int rv) const;
  Status Failed(int rv, bool appended) const;

  RaftNode* const node_;
  uv_loop_t loop_{};
  uv_async_t wakeup_{};
  uv_timer_t tick_{};
  uv_timer_t nudge_{};
  bool nudge_armed_ = false;      // nudge_ runs.
  bool nudge_in_flight_ = false;  // Its barrier is in libraft.
  size_t voters_ = 1;             // In the latest configuration.
  sider_raft* raft_ = nullptr;
  bool closing_ = false;

  uint64_t next_seq_ = 1;
  std::map<uint64_t, std::unique_ptr<InFlight>> in_flight_;
  std::unordered_map<uint64_t, InFlight*> by_index_;  // Raft index -> proposal.
  std::map<uint64_t, std::unique_ptr<Op>> ops_;
  std::multimap<uint64_t, Work> applied_waiters_;  // By index awaited.
  bool restored_ = false;  // A snapshot was restored since the last Poll().

  uint64_t ready_term_ = 0;           // Term whose leader barrier applied.
  uint64_t leader_barrier_term_ = 0;  // Term of the barrier in flight.
  uint64_t seen_leader_id_ = UINT64_MAX;
  uint64_t seen_conf_[2] = {UINT64_MAX, UINT64_MAX};
};

}  // namespace sider::consensus
