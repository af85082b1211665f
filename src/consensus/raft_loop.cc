#include "consensus/raft_loop.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

namespace sider::consensus {
namespace {

// How often the consensus thread looks at raft_state() for leadership
// changes (libraft has no callback for them); also after every wakeup and
// every completed proposal.
constexpr uint64_t kPollMs = 15;

// Proposals drained together are packed into one log entry (one disk
// write, one AppendEntries per follower) up to these bounds; a command
// above kMaxPackedCommandBytes is always its own entry. The FSM holds its
// stores' write locks over a packed entry, so the bounds also bound that.
constexpr size_t kMaxPackedCommands = 128;
constexpr size_t kMaxPackedBytes = 512u << 10;
constexpr size_t kMaxPackedCommandBytes = 64u << 10;

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status RaftNode::Loop::Open() {
  if (int rv = uv_loop_init(&loop_); rv != 0) {
    return Status(Code::kUnavailable,
                  std::string("consensus: uv loop: ") + uv_strerror(rv));
  }
  uv_async_init(&loop_, &wakeup_, &OnWakeup);
  wakeup_.data = this;
  uv_timer_init(&loop_, &tick_);
  tick_.data = this;
  uv_timer_init(&loop_, &nudge_);
  nudge_.data = this;

  const Options& o = node_->options_;
  sider_raft_options opts{};
  opts.id = node_->id_;
  opts.address = o.address.c_str();
  opts.dir = o.data_dir.c_str();
  opts.election_timeout_ms = o.election_timeout_ms;
  opts.heartbeat_timeout_ms = o.heartbeat_timeout_ms;
  opts.snapshot_threshold = o.snapshot_threshold;
  opts.snapshot_trailing = o.snapshot_trailing;
  opts.pre_vote = o.pre_vote;
  opts.connect_retry_ms = o.connect_retry_ms;
  opts.leader_loss_stagger_ms = o.leader_loss_stagger_ms;
  sider_raft_fsm_ops ops{};
  ops.ctx = this;
  ops.apply = &ApplyOp;
  ops.snapshot = &SnapshotOp;
  ops.restore = &RestoreOp;
  // Snapshots are encoded on a libuv pool thread (raft_shim.h, "Snapshots").
  ops.snapshot_encode = &SnapshotOp;
  ops.snapshot_taken = &SnapshotTakenOp;
  char err[256] = {};
  if (sider_raft_create(&loop_, &opts, &ops, &raft_, err, sizeof err) != 0) {
    raft_ = nullptr;
    closing_ = true;
    CloseHandles();
    Run();
    return Status(Code::kUnavailable, std::string("consensus: ") + err);
  }

  int rv = 0;
  std::string what;
  if (o.bootstrap || !node_->start_bootstrap_peers_.empty()) {
    std::vector<Peer> peers = node_->start_bootstrap_peers_.empty()
                                  ? o.bootstrap_peers
                                  : node_->start_bootstrap_peers_;
    if (peers.empty()) peers.push_back(Peer{node_->id_, o.address, true});
    std::vector<sider_raft_server> servers;
    for (const Peer& p : peers) {
      servers.push_back({p.id, p.address.c_str(),
                         p.voter ? SIDER_RAFT_ROLE_VOTER
                                 : SIDER_RAFT_ROLE_STANDBY});
    }
    rv = sider_raft_bootstrap(raft_, servers.data(), servers.size());
    if (rv == SIDER_RAFT_CANTBOOTSTRAP) rv = 0;  // State exists: just start.
    what = "bootstrap";
  }
  if (rv == 0) {
    rv = sider_raft_start(raft_);
    what = "start";
  }
  if (rv != 0) {
    std::string msg = "consensus: " + what + " on " + o.address + " in " +
                      o.data_dir + ": " + sider_raft_strerror(rv) + ": " +
                      sider_raft_errmsg(raft_);
    BeginClose();
    Run();
    return Status(Code::kUnavailable, std::move(msg));
  }
  uv_timer_start(&tick_, &OnTick, kPollMs, kPollMs);
  Poll();
  return Status::Ok();
}

void RaftNode::Loop::Run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  // libraft's close callback has fired and every handle is closed.
  sider_raft_destroy(raft_);
  raft_ = nullptr;
  uv_loop_close(&loop_);
}

// uv_async_send() calls coalesce, so each wakeup drains the whole inbox.
void RaftNode::Loop::OnWakeup(uv_async_t* handle) noexcept {
  static_cast<Loop*>(handle->data)->Drain();
}

void RaftNode::Loop::OnTick(uv_timer_t* handle) noexcept {
  static_cast<Loop*>(handle->data)->Poll();
}

void RaftNode::Loop::MaybeNudgeCommit() {
  const unsigned delay = node_->options_.commit_nudge_ms;
  if (delay == 0 || closing_ || nudge_armed_ || nudge_in_flight_ ||
      voters_ < 2 || !in_flight_.empty()) {
    return;
  }
  nudge_armed_ = true;
  uv_timer_start(&nudge_, &OnNudge, delay, 0);
}

// A proposal that came meanwhile carries the commit index to the followers
// itself; a barrier is appended only if none did.
void RaftNode::Loop::OnNudge(uv_timer_t* handle) noexcept {
  auto* loop = static_cast<Loop*>(handle->data);
  loop->nudge_armed_ = false;
  if (loop->closing_ || loop->raft_ == nullptr || !loop->in_flight_.empty()) {
    return;
  }
  sider_raft_status st;
  sider_raft_get_status(loop->raft_, &st);
  if (st.state != SIDER_RAFT_STATE_LEADER) return;
  Op* op = loop->NewOp(Op::Kind::kCommitNudge);
  if (sider_raft_barrier(loop->raft_, &OnOpDone, op) != 0) {
    loop->ops_.erase(op->seq);
    return;
  }
  loop->nudge_in_flight_ = true;
  loop->node_->commit_nudges_.fetch_add(1, std::memory_order_relaxed);
}

void RaftNode::Loop::Drain() {
  std::vector<Work> batch;
  bool stop;
  {
    WriterLock lock(&node_->mu_);
    batch.swap(node_->inbox_);
    stop = node_->stop_requested_;
  }
  if (closing_) return;
  if (stop) {
    for (Work& w : batch) Fail(w, Status(Code::kUnavailable, "shutting down"));
    BeginClose();
    return;
  }
  std::vector<Work> proposals;
  std::vector<Work> read_barriers;
  for (Work& w : batch) {
    switch (w.kind) {
      case Work::Kind::kPropose:
        proposals.push_back(std::move(w));
        break;
      case Work::Kind::kBarrier:
        read_barriers.push_back(std::move(w));
        break;
      case Work::Kind::kAdd:
      case Work::Kind::kAssign:
      case Work::Kind::kRemove:
      case Work::Kind::kTransfer:
        SubmitChange(std::move(w));
        break;
      case Work::Kind::kWaitApplied:
        applied_waiters_.emplace(w.id, std::move(w));  // Poll() checks it.
        break;
      case Work::Kind::kRun: {
        // Between applies: the StateMachine is as of last_applied.
        sider_raft_status st;
        sider_raft_get_status(raft_, &st);
        w.run(st.last_applied, st.term);
        asio::post(w.ex, [done = std::move(w.status_done)] {
          done(Status::Ok());
        });
        break;
      }
    }
  }
  if (!proposals.empty()) SubmitProposals(std::move(proposals));
  if (!read_barriers.empty()) SubmitReadBarrier(std::move(read_barriers));
  Poll();
}

void RaftNode::Loop::SubmitProposals(std::vector<Work> proposals) {
  std::vector<Work> run;  // Small proposals waiting to be packed together.
  size_t run_bytes = 0;
  auto flush = [&] {
    if (!run.empty()) SubmitEntry(std::move(run));
    run.clear();
    run_bytes = 0;
  };
  for (Work& w : proposals) {
    if (w.command.empty()) {
      Fail(w, Status(Code::kInvalidArgument, "empty command"));
      continue;
    }
    const size_t size = w.command.size();
    if (size > kMaxPackedCommandBytes || run.size() == kMaxPackedCommands ||
        run_bytes + size > kMaxPackedBytes) {
      flush();
    }
    run_bytes += size;
    run.push_back(std::move(w));
    if (size > kMaxPackedCommandBytes) flush();  // Always alone.
  }
  flush();
}

void RaftNode::Loop::SubmitEntry(std::vector<Work> works) {
  auto f = std::make_unique<InFlight>();
  f->loop = this;
  f->seq = next_seq_++;
  std::string packed;
  if (works.size() > 1) {
    std::vector<std::string> commands;
    commands.reserve(works.size());
    for (Work& w : works) commands.push_back(std::move(w.command));
    packed = node_->sm_->PackBatch(commands);
    if (packed.empty()) {  // This StateMachine does not batch.
      for (size_t i = 0; i < works.size(); ++i) {
        works[i].command = std::move(commands[i]);
        std::vector<Work> alone;
        alone.push_back(std::move(works[i]));
        SubmitEntry(std::move(alone));
      }
      return;
    }
  }
  f->works = std::move(works);
  const std::string& cmd = f->packed() ? packed : f->works.front().command;
  const int rv = sider_raft_apply(raft_, cmd.data(), cmd.size(), &OnApplied,
                                  f.get(), &f->index);
  if (rv != 0) {
    for (Work& w : f->works) Fail(w, Refused(rv));
    return;
  }
  // The command's bytes now live in libraft's copy.
  for (Work& w : f->works) std::string().swap(w.command);
  // An older proposal at the same index lost its leadership and is failing;
  // the newest one owns the index.
  by_index_[f->index] = f.get();
  in_flight_.emplace(f->seq, std::move(f));
}

int RaftNode::Loop::ApplyOp(void* ctx, uint64_t index, const void* data,
                            size_t len) noexcept {
  auto* loop = static_cast<Loop*>(ctx);
  fsm::ApplyResult result = loop->node_->sm_->Apply(
      index, std::string_view(static_cast<const char*>(data), len));
  // Release: a reader that sees the index sees the state it stands for.
  loop->node_->applied_index_.store(index, std::memory_order_release);
  loop->node_->state_index_.store(index, std::memory_order_release);
  if (!loop->applied_waiters_.empty() &&
      loop->applied_waiters_.begin()->first <= index) {
    loop->WakeApplied(index, /*expire=*/false);
  }
  if (auto it = loop->by_index_.find(index); it != loop->by_index_.end()) {
    it->second->result = std::move(result);
    it->second->applied_at = index;
  }
  return 0;
}

// On a libuv pool thread (as snapshot_encode) while the shim keeps the
// consensus thread from applying or restoring; only reads the state.
int RaftNode::Loop::SnapshotOp(void* ctx, void** data, size_t* len) noexcept {
  auto* loop = static_cast<Loop*>(ctx);
  const auto start = std::chrono::steady_clock::now();
  const std::string bytes = loop->node_->sm_->Snapshot();
  spdlog::info("consensus: snapshot of {} bytes encoded in {} us (worker)",
               bytes.size(),
               std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  // raft_malloc(0) may return NULL; libraft owns the copy either way.
  void* copy = sider_raft_malloc(bytes.empty() ? 1 : bytes.size());
  if (copy == nullptr) return SIDER_RAFT_NOMEM;
  std::memcpy(copy, bytes.data(), bytes.size());
  *data = copy;
  *len = bytes.size();
  return 0;
}

void RaftNode::Loop::SnapshotTakenOp(
    void* ctx, const sider_raft_snapshot_info* info) noexcept {
  (void)ctx;
  spdlog::info(
      "consensus: snapshot at index {} handed to libraft: state of index {} "
      "({} us on a worker) + {} commands replayed on restore, {} bytes; "
      "consensus thread {} us to build it, longest loop gap {} ms",
      info->index, info->base_index, info->encode_us, info->tail_entries,
      info->bytes, info->handover_us, info->max_loop_gap_ms);
}

int RaftNode::Loop::RestoreOp(void* ctx, const void* data,
                              size_t len) noexcept {
  auto* loop = static_cast<Loop*>(ctx);
  Status s = loop->node_->sm_->Restore(
      std::string_view(static_cast<const char*>(data), len));
  if (!s.ok()) {
    spdlog::error("consensus: restoring snapshot: {}", s.message());
    return SIDER_RAFT_CORRUPT;
  }
  // libraft sets last_applied to the snapshot's index only after this
  // returns; the next Poll() takes it as the state index.
  loop->restored_ = true;
  return 0;
}

void RaftNode::Loop::OnApplied(void* arg, uint64_t index, int status) noexcept {
  auto* raw = static_cast<InFlight*>(arg);
  Loop* loop = raw->loop;
  auto node = loop->in_flight_.extract(raw->seq);
  std::unique_ptr<InFlight> f = std::move(node.mapped());
  if (auto it = loop->by_index_.find(index);
      it != loop->by_index_.end() && it->second == f.get()) {
    loop->by_index_.erase(it);
  }
  if (status != 0) {
    for (Work& w : f->works) Fail(w, loop->Failed(status, /*appended=*/true));
  } else {
    loop->Complete(*f, index);
    loop->MaybeNudgeCommit();
  }
  if (!loop->closing_) loop->Poll();
}

void RaftNode::Loop::Complete(InFlight& f, uint64_t index) {
  const bool have = f.result.has_value() && f.applied_at == f.index &&
                    (!f.packed() || f.result->batch.size() == f.works.size());
  if (!have) {
    for (Work& w : f.works) {
      Fail(w, Status(Code::kInternal, "consensus: applied entry " +
                                          std::to_string(index) +
                                          " without its result"));
    }
    return;
  }
  for (size_t i = 0; i < f.works.size(); ++i) {
    fsm::ApplyResult result =
        f.packed() ? std::move(f.result->batch[i]) : std::move(*f.result);
    asio::post(f.works[i].ex, [done = std::move(f.works[i].done),
                               result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
}

RaftNode::Loop::Op* RaftNode::Loop::NewOp(Op::Kind kind) {
  auto op = std::make_unique<Op>();
  op->loop = this;
  op->seq = next_seq_++;
  op->kind = kind;
  Op* raw = op.get();
  ops_.emplace(raw->seq, std::move(op));
  return raw;
}

void RaftNode::Loop::SubmitReadBarrier(std::vector<Work> waiters) {
  Op* op = NewOp(Op::Kind::kReadBarrier);
  op->waiters = std::move(waiters);
  const int rv = sider_raft_barrier(raft_, &OnOpDone, op);
  if (rv != 0) {
    auto owned = std::move(ops_.extract(op->seq).mapped());
    for (Work& w : owned->waiters) Fail(w, Refused(rv));
  }
}

void RaftNode::Loop::SubmitChange(Work work) {
  Op::Kind kind = Op::Kind::kRemove;
  if (work.kind == Work::Kind::kAdd) kind = Op::Kind::kAdd;
  if (work.kind == Work::Kind::kAssign) kind = Op::Kind::kAssign;
  if (work.kind == Work::Kind::kTransfer) kind = Op::Kind::kTransfer;
  Op* op = NewOp(kind);
  op->waiters.push_back(std::move(work));
  Work& w = *op->work();
  int rv = 0;
  switch (kind) {
    case Op::Kind::kAdd:
      rv = sider_raft_add(raft_, w.id, w.command.c_str(), &OnOpDone, op);
      break;
    case Op::Kind::kAssign:
      rv = sider_raft_assign(
          raft_, w.id, w.voter ? SIDER_RAFT_ROLE_VOTER : SIDER_RAFT_ROLE_STANDBY,
          &OnOpDone, op);
      break;
    case Op::Kind::kRemove:
      rv = sider_raft_remove(raft_, w.id, &OnOpDone, op);
      break;
    default:
      rv = sider_raft_transfer(raft_, w.id, &OnOpDone, op);
      break;
  }
  if (rv != 0) {
    auto owned = std::move(ops_.extract(op->seq).mapped());
    Fail(*owned->work(), Refused(rv));
  }
}

void RaftNode::Loop::WakeApplied(uint64_t applied, bool expire) {
  while (!applied_waiters_.empty() &&
         applied_waiters_.begin()->first <= applied) {
    auto node = applied_waiters_.extract(applied_waiters_.begin());
    Fail(node.mapped(), Status::Ok());
  }
  if (!expire || applied_waiters_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = applied_waiters_.begin(); it != applied_waiters_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    Fail(it->second,
         Status(Code::kDeadlineExceeded,
                "consensus: index " + std::to_string(it->first) +
                    " not applied in time (applied " +
                    std::to_string(applied) + ")"));
    it = applied_waiters_.erase(it);
  }
}

void RaftNode::Loop::OnOpDone(void* arg, int status) noexcept {
  auto* raw = static_cast<Op*>(arg);
  Loop* loop = raw->loop;
  loop->FinishOp(std::move(loop->ops_.extract(raw->seq).mapped()), status);
}

void RaftNode::Loop::FinishOp(std::unique_ptr<Op> op, int status) {
  switch (op->kind) {
    case Op::Kind::kLeaderBarrier:
      if (status != 0 || closing_) {
        leader_barrier_term_ = 0;  // The next poll retries if still leader.
        return;
      }
      ready_term_ = op->term;  // PollLeadership checks it is still current.
      Poll();
      return;
    case Op::Kind::kCommitNudge:
      nudge_in_flight_ = false;
      return;
    case Op::Kind::kReadBarrier:
      for (Work& w : op->waiters) {
        Fail(w, status == 0 ? Status::Ok() : Failed(status, false));
      }
      return;
    case Op::Kind::kAdd: {
      // Added as a spare; now promote it.
      if (status != 0 || closing_) break;
      const int role =
          op->work()->voter ? SIDER_RAFT_ROLE_VOTER : SIDER_RAFT_ROLE_STANDBY;
      Op* next = NewOp(Op::Kind::kAssign);
      next->waiters = std::move(op->waiters);
      const int rv = sider_raft_assign(raft_, next->work()->id, role,
                                       &OnOpDone, next);
      if (rv != 0) {
        auto owned = std::move(ops_.extract(next->seq).mapped());
        Fail(*owned->work(), Refused(rv));
      }
      return;
    }
    case Op::Kind::kTransfer: {
      if (closing_) break;
      sider_raft_status st;
      sider_raft_get_status(raft_, &st);
      const uint64_t want = op->work()->id;
      if (status == 0 && st.leader_id != 0 && st.leader_id != node_->id_ &&
          (want == 0 || st.leader_id == want)) {
        Fail(*op->work(), Status::Ok());
      } else {
        Fail(*op->work(),
             Status(Code::kUnavailable, "leadership transfer did not complete"));
      }
      Poll();
      return;
    }
    case Op::Kind::kAssign:
    case Op::Kind::kRemove:
      break;
  }
  Fail(*op->work(), status == 0 && !closing_ ? Status::Ok()
                                              : Failed(status, true));
}

Status RaftNode::Loop::Refused(int rv) const {
  if (closing_) return Status(Code::kUnavailable, "shutting down");
  switch (rv) {
    case SIDER_RAFT_NOTLEADER: {
      // A follower that knows the leader lets the caller forward to it.
      sider_raft_status st;
      sider_raft_get_status(raft_, &st);
      if (st.leader_id != 0 && st.leader_id != node_->id_) {
        return Status(Code::kUnavailable, "not leader");
      }
      return Status(Code::kUnavailable, "No cluster leader");
    }
    case SIDER_RAFT_TOOBIG:
      return Status(Code::kTooLarge, "command too large");
    case SIDER_RAFT_CANTCHANGE:
      return Status(Code::kConflict, "a configuration change is in progress");
    case SIDER_RAFT_BADID:
    case SIDER_RAFT_NOTFOUND:
      return Status(Code::kNotFound, sider_raft_strerror(rv));
    default:
      return Status(Code::kUnavailable,
                    std::string("consensus: ") + sider_raft_strerror(rv));
  }
}

Status RaftNode::Loop::Failed(int rv, bool appended) const {
  if (closing_) return Status(Code::kUnavailable, "shutting down");
  if (rv == SIDER_RAFT_LEADERSHIPLOST && appended) {
    return Status(Code::kOutcomeUnknown,
                  "leadership lost while committing: outcome unknown");
  }
  if (rv == SIDER_RAFT_LEADERSHIPLOST) {
    return Status(Code::kUnavailable, "leadership lost");
  }
  return Refused(rv);
}

void RaftNode::Loop::Poll() {
  if (raft_ == nullptr || closing_) return;
  sider_raft_status st;
  sider_raft_get_status(raft_, &st);
  node_->term_.store(st.term, std::memory_order_relaxed);
  node_->commit_index_.store(st.commit_index, std::memory_order_relaxed);
  node_->applied_index_.store(st.last_applied, std::memory_order_release);
  if (restored_) {
    restored_ = false;
    if (st.last_applied > node_->state_index_.load()) {
      node_->state_index_.store(st.last_applied, std::memory_order_release);
    }
  }
  // Barrier and configuration entries reach last_applied without an
  // ApplyOp; they are seen here.
  WakeApplied(st.last_applied, /*expire=*/true);
  const int64_t now = SteadyNowMs();
  if (st.state == SIDER_RAFT_STATE_LEADER) {
    node_->last_contact_at_ms_.store(-1);
  } else if (st.state == SIDER_RAFT_STATE_FOLLOWER && st.leader_id != 0) {
    node_->last_contact_at_ms_.store(
        now - static_cast<int64_t>(st.ms_since_leader_contact));
  } else if (node_->last_contact_at_ms_.load() < 0) {
    node_->last_contact_at_ms_.store(now);  // Was leader until now.
  }
  if (st.leader_id != seen_leader_id_) {
    seen_leader_id_ = st.leader_id;
    node_->leader_id_.store(st.leader_id);
    WriterLock lock(&node_->mu_);
    node_->leader_address_ = st.leader_address ? st.leader_address : "";
  }
  sider_raft_stats stats;
  sider_raft_get_stats(raft_, &stats);
  node_->nodelay_sockets_.store(stats.nodelay_sockets,
                                std::memory_order_relaxed);
  if (stats.leader_loss_nudges != node_->leader_loss_nudges_.load()) {
    spdlog::info("consensus: leader unreachable; election timer expired "
                 "early ({} so far)", stats.leader_loss_nudges);
    node_->leader_loss_nudges_.store(stats.leader_loss_nudges,
                                     std::memory_order_relaxed);
  }
  PollPeers(st);
  PollLeadership(st);
}

// A new leader is "ready" only once a barrier of its own term has applied:
// by then every entry committed by earlier leaders is in the StateMachine.
void RaftNode::Loop::PollLeadership(const sider_raft_status& st) {
  const bool leader = st.state == SIDER_RAFT_STATE_LEADER;
  if (leader && ready_term_ == st.term) {
    node_->SetLeader(true);
    return;
  }
  node_->SetLeader(false);
  if (!leader) {
    ready_term_ = 0;
    leader_barrier_term_ = 0;
    return;
  }
  if (leader_barrier_term_ == st.term) return;  // In flight.
  Op* op = NewOp(Op::Kind::kLeaderBarrier);
  op->term = st.term;
  if (sider_raft_barrier(raft_, &OnOpDone, op) != 0) {
    ops_.erase(op->seq);  // Retried at the next poll.
    return;
  }
  leader_barrier_term_ = st.term;
}

void RaftNode::Loop::PollPeers(const sider_raft_status& st) {
  if (seen_conf_[0] == st.configuration_committed_index &&
      seen_conf_[1] == st.configuration_uncommitted_index) {
    return;
  }
  seen_conf_[0] = st.configuration_committed_index;
  seen_conf_[1] = st.configuration_uncommitted_index;
  std::vector<Peer> peers;
  sider_raft_configuration(
      raft_,
      [](void* arg, uint64_t id, const char* address, int role) {
        static_cast<std::vector<Peer>*>(arg)->push_back(
            Peer{id, address, role == SIDER_RAFT_ROLE_VOTER});
      },
      &peers);
  voters_ = 0;
  for (const Peer& p : peers) voters_ += p.voter ? 1 : 0;
  WriterLock lock(&node_->mu_);
  node_->peers_ = std::move(peers);
}

void RaftNode::Loop::BeginClose() {
  if (closing_) return;
  closing_ = true;
  node_->SetLeader(false);
  CloseHandles();
  // Fails every pending apply and barrier (their callbacks see closing_).
  sider_raft_close(raft_, &OnRaftClosed, this);
}

void RaftNode::Loop::CloseHandles() {
  uv_timer_stop(&tick_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_timer_stop(&nudge_);
  uv_close(reinterpret_cast<uv_handle_t*>(&nudge_), nullptr);
  // Safe: Stop() stopped accepting (under mu_) before the wakeup that got us
  // here, so no thread will uv_async_send() again.
  uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
}

void RaftNode::Loop::OnRaftClosed(void* arg) noexcept {
  auto* loop = static_cast<Loop*>(arg);
  // Whatever libraft did not complete itself.
  const Status stopping(Code::kUnavailable, "shutting down");
  for (auto& [seq, f] : loop->in_flight_) {
    for (Work& w : f->works) Fail(w, stopping);
  }
  for (auto& [seq, op] : loop->ops_) {
    for (Work& w : op->waiters) Fail(w, stopping);
  }
  for (auto& [index, w] : loop->applied_waiters_) Fail(w, stopping);
  loop->applied_waiters_.clear();
  loop->in_flight_.clear();
  loop->by_index_.clear();
  loop->ops_.clear();
}

}  // namespace sider::consensus
