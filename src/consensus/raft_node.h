// RaftNode: one member of the Raft cluster — the replicated log, its
// snapshots, membership and leadership — over libraft and libuv.
//
// Threading: RaftNode owns one thread, named "consensus", which runs a
// private uv loop; libraft and the StateMachine are touched only there
// (StateMachine::Apply/Snapshot/Restore run on it). Every public method is
// thread-safe. Work enters through a mutex-guarded queue plus
// uv_async_send(); results leave through asio::post() to the caller's
// executor. Nothing blocks on the consensus thread's progress except Start()
// and Stop().
//
// Ownership: `sm` must outlive the RaftNode. Callbacks are copied and run on
// the executor given with them, never on the consensus thread.
//
// Errors (as Status codes):
//   kUnavailable      not leader ("not leader" if a leader is known, so the
//                     caller may forward; "No cluster leader" otherwise), or
//                     stopping / stopped. Nothing was appended.
//   kOutcomeUnknown   leadership was lost after the entry was appended: it
//                     may or may not commit. Retry only if idempotent.
//   kInvalidArgument  empty command.
//   kTooLarge         command over libraft's limit.
//   else              the StateMachine's own ApplyResult.
//
// Leadership: libraft has no leadership-change callback, so the consensus
// thread polls raft_state() every 15 ms and after each wakeup. A node that
// wins an election appends a barrier; only once it has applied everything
// before it does IsLeader() turn true and OnLeadershipChange fire.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/asio.h"
#include "base/mutex.h"
#include "base/status.h"
#include "fsm/state_machine.h"

namespace sider::consensus {

class RaftNode {
 public:
  struct Peer {
    uint64_t id = 0;
    std::string address;
    bool voter = true;
    bool operator==(const Peer&) const = default;
  };

  struct Options {
    uint64_t id = 0;  // Raft server id; derived from node_name if 0.
    std::string node_name;
    std::string address;   // Raft transport host:port, e.g. 127.0.0.1:8300.
    std::string data_dir;  // Created if missing; libraft's log and snapshots.
    // Bootstrap a cluster if data_dir has no state: of this node alone, or
    // of `bootstrap_peers` (which must include this node; every initial
    // member bootstraps with the same list). Ignored if state exists.
    bool bootstrap = false;
    std::vector<Peer> bootstrap_peers;
    unsigned election_timeout_ms = 300, heartbeat_timeout_ms = 30;
    // Production floor: threshold >= 16384 and trailing >= 8192 keep
    // followers catching up from the log, not from snapshots.
    unsigned snapshot_threshold = 16384, snapshot_trailing = 8192;
    bool pre_vote = true;
    // Delay between reconnection attempts to a peer (libraft's default is
    // 1000 ms, which would dominate failover time on a restarted peer).
    unsigned connect_retry_ms = 150;
    // A voting follower whose connection to the leader is refused (the
    // leader's process is gone) starts an election after its rank among
    // the other voters times this, instead of after its election timer
    // (raft_shim.h, "Leader loss"). 0 turns it off.
    unsigned leader_loss_stagger_ms = 20;
    // libraft tells followers that an entry is committed only with the
    // next AppendEntries: the next entry, or the next heartbeat. When a
    // proposal commits with none behind it, the leader appends a barrier
    // this many ms later (unless a proposal came meanwhile), so followers
    // apply the write — and wake its watchers — within about one round
    // trip instead of one heartbeat. 0 turns it off.
    unsigned commit_nudge_ms = 2;
  };

  using Done = std::function<void(fsm::ApplyResult)>;
  using StatusDone = std::function<void(Status)>;

  // Starts nothing; see Start().
  RaftNode(Options options, fsm::StateMachine* sm);
  ~RaftNode();  // Stop().

  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Creates data_dir, opens the log (replaying it and any snapshot into the
  // StateMachine), starts the transport and the consensus thread. Returns
  // once raft_start has run. Call at most once.
  Status Start();
  // As Start(), but bootstraps with `bootstrap_peers` (as if
  // Options::bootstrap and bootstrap_peers had been set) if data_dir has
  // no state: for a server that learns its initial configuration at run
  // time (bootstrap-expect). Ignored if state exists.
  Status Start(std::vector<Peer> bootstrap_peers);
  // Closes libraft and the loop, completes everything still pending with
  // kUnavailable, joins the thread. Idempotent.
  void Stop();

  // Appends `command` to the replicated log; `done` runs exactly once, on
  // `ex`, with the StateMachine's result once the entry is applied here, or
  // with an error above. Many proposals may be in flight; they commit in
  // call order per calling thread. Proposals waiting together when the
  // consensus thread wakes share one log entry when the StateMachine packs
  // them (StateMachine::PackBatch); each still gets its own result.
  void Propose(std::string command, asio::any_io_executor ex, Done done);
  // OK once every entry appended before it is applied here and this node
  // was still leader when the barrier committed: a linearizable read point.
  // Barriers arriving together share one log entry.
  void Barrier(asio::any_io_executor ex, StatusDone done);

  // Runs `fn(applied_index, term)` on the consensus thread between two
  // applies, so it sees the StateMachine exactly as of applied_index (the
  // last command applied; what AppliedIndex() reports) — for consistent
  // snapshots and state hashes. `fn` must not block for long (it stalls
  // the log) and must not call back into this RaftNode. Then `done` runs
  // on `ex`: OK, or kUnavailable (and `fn` never ran) when stopping.
  using InspectFn = std::function<void(uint64_t applied_index, uint64_t term)>;
  void RunOnConsensusThread(InspectFn fn, asio::any_io_executor ex,
                            StatusDone done);

  // `done` runs on `ex` with OK once AppliedIndex() >= `index`; with
  // kDeadlineExceeded if that has not happened within `timeout` (checked at
  // the consensus thread's 15 ms poll); kUnavailable when stopping. The
  // consensus thread wakes it right after the apply (or poll) that gets
  // there: the caller does not poll. A follower's read-index wait.
  void WaitApplied(uint64_t index, std::chrono::milliseconds timeout,
                   asio::any_io_executor ex, StatusDone done);

  bool IsLeader() const;  // Leader AND its post-election barrier applied.
  std::string LeaderAddress() const;  // "" if none known.
  uint64_t LeaderId() const;          // 0 if none known.
  uint64_t LastContactMs() const;     // Since heard from the leader; 0 on it.
  uint64_t AppliedIndex() const;
  // The last entry the StateMachine has seen: the last command applied or
  // the snapshot restored, whichever is later; <= AppliedIndex(). Entries
  // after it are barriers and configuration changes, which leave the state
  // as it was. So a node whose AppliedIndex() has reached a leader's
  // StateIndex() holds at least that leader's state: the leader's read
  // index (docs/consistency.md), which usually a follower already has.
  uint64_t StateIndex() const;
  uint64_t CommitIndex() const;
  uint64_t Term() const;
  uint64_t Id() const { return id_; }
  std::vector<Peer> Peers() const;  // Current configuration.
  // Connections on which TCP_NODELAY was set and read back (for tests and
  // metrics).
  uint64_t NoDelaySockets() const;
  // Elections this node started early because the leader was gone.
  uint64_t LeaderLossNudges() const;
  // Barriers appended so that followers learn of a lone commit (see
  // Options::commit_nudge_ms).
  uint64_t CommitNudges() const;

  // `fn(is_leader)` runs on `ex` each time this node becomes ready leader or
  // stops being leader; at registration, once with true if it already is.
  void OnLeadershipChange(asio::any_io_executor ex,
                          std::function<void(bool is_leader)> fn);

  // Membership, leader only. AddVoter/AddStandby add the server (as a
  // spare) then promote it; a voter is promoted after it catches up.
  void AddVoter(uint64_t id, std::string address, asio::any_io_executor ex,
                StatusDone done);
  void AddStandby(uint64_t id, std::string address, asio::any_io_executor ex,
                  StatusDone done);
  void RemovePeer(uint64_t id, asio::any_io_executor ex, StatusDone done);
  // Makes a server already in the configuration a voter or a standby.
  void AssignRole(uint64_t id, bool voter, asio::any_io_executor ex,
                  StatusDone done);
  // id 0 picks a voter. OK if another node leads afterwards.
  void TransferLeadership(uint64_t id, asio::any_io_executor ex,
                          StatusDone done);

  // FNV-1a of `name`, never 0: the default raft id for a node name.
  static uint64_t IdFromName(std::string_view name);

  // Whether `data_dir` holds Raft state: a libraft metadata file with a
  // term above 0 (written by a bootstrap, or once a leader has contacted
  // this server). A server without state may still bootstrap; one with
  // state must not, and starts from its own log. Reads files only; call it
  // before Start(). kInternal if a metadata file exists but is unreadable.
  static Result<bool> HasState(const std::string& data_dir);

 private:
  class Loop;  // Everything that lives on the consensus thread.

  struct Work {
    enum class Kind { kPropose, kBarrier, kAdd, kAssign, kRemove, kTransfer,
                      kRun, kWaitApplied };
    Kind kind = Kind::kPropose;
    std::string command;  // kPropose: the entry. kAdd: the address.
    uint64_t id = 0;      // kAdd/kRemove/kTransfer; kWaitApplied: index.
    bool voter = false;   // kAdd/kAssign.
    asio::any_io_executor ex;
    Done done;              // kPropose.
    StatusDone status_done;  // The others.
    InspectFn run;           // kRun.
    std::chrono::steady_clock::time_point deadline;  // kWaitApplied.
  };

  void Enqueue(Work work);
  static void Fail(Work& work, Status status);
  void SetLeader(bool is_leader);  // Consensus thread.

  const Options options_;
  const uint64_t id_;
  fsm::StateMachine* const sm_;

  // Published by the consensus thread, read by anyone.
  std::atomic<bool> is_leader_{false};
  std::atomic<uint64_t> leader_id_{0};
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<uint64_t> state_index_{0};
  std::atomic<uint64_t> commit_index_{0};
  std::atomic<uint64_t> term_{0};
  std::atomic<int64_t> last_contact_at_ms_{0};  // Steady clock; -1 = leader.
  std::atomic<uint64_t> nodelay_sockets_{0};
  std::atomic<uint64_t> leader_loss_nudges_{0};
  std::atomic<uint64_t> commit_nudges_{0};

  mutable Mutex mu_;
  std::vector<Work> inbox_ SIDER_GUARDED_BY(mu_);
  bool accepting_ SIDER_GUARDED_BY(mu_) = false;  // Start()..Stop().
  bool stop_requested_ SIDER_GUARDED_BY(mu_) = false;
  std::string leader_address_ SIDER_GUARDED_BY(mu_);
  std::vector<Peer> peers_ SIDER_GUARDED_BY(mu_);
  struct Listener {
    asio::any_io_executor ex;
    std::function<void(bool)> fn;
  };
  std::vector<Listener> listeners_ SIDER_GUARDED_BY(mu_);

  // Set by Start(peers) before the thread starts; read by Loop::Open().
  std::vector<Peer> start_bootstrap_peers_;
  std::unique_ptr<Loop> loop_;  // Built by Start(), used by the thread.
  std::jthread thread_;         // Declared last: joined before the rest dies.
};

}  // namespace sider::consensus
