#include "consensus/raft_node.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <system_error>
#include <utility>

#include "consensus/raft_loop.h"

namespace sider::consensus {
namespace {

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A peer that closes a raft connection mid-write must cost an EPIPE, not
// the process. The application ignores SIGPIPE too; this is for tests and
// embedders. Leaves an installed handler alone.
void IgnoreSigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 &&
      current.sa_handler == SIG_DFL) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
  }
}

}  // namespace

uint64_t RaftNode::IdFromName(std::string_view name) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bit: stable forever.
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

// libraft's uv metadata files ("metadata1", "metadata2"; persisted format,
// documented in raft/uv.h's ancestors): four little-endian u64 words —
// disk format (1), version, term, voted-for. The term only grows, so either
// file with a term above 0 means the server has taken part in a cluster.
Result<bool> RaftNode::HasState(const std::string& data_dir) {
  for (const char* name : {"metadata1", "metadata2"}) {
    const auto path = std::filesystem::path(data_dir) / name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    unsigned char buf[32];
    if (!in.read(reinterpret_cast<char*>(buf), sizeof buf)) {
      // libraft itself tolerates a short metadata file (a crash while it
      // was created) as "no metadata"; so do we.
      continue;
    }
    auto word = [&](int i) {
      uint64_t v = 0;
      for (int b = 7; b >= 0; b--) v = (v << 8) | buf[i * 8 + b];
      return v;
    };
    if (word(0) != 1) {
      return Status(Code::kInternal,
                    "consensus: " + path.string() + ": unknown format " +
                        std::to_string(word(0)));
    }
    if (word(2) > 0) return true;
  }
  return false;
}

RaftNode::RaftNode(Options options, fsm::StateMachine* sm)
    : options_(std::move(options)),
      id_(options_.id != 0 ? options_.id
                           : IdFromName(options_.node_name.empty()
                                            ? options_.address
                                            : options_.node_name)),
      sm_(sm) {}

RaftNode::~RaftNode() { Stop(); }

Status RaftNode::Start(std::vector<Peer> bootstrap_peers) {
  if (thread_.joinable() || loop_ != nullptr) {
    return Status(Code::kFailedPrecondition, "consensus: already started");
  }
  start_bootstrap_peers_ = std::move(bootstrap_peers);
  return Start();
}

Status RaftNode::Start() {
  if (thread_.joinable() || loop_ != nullptr) {
    return Status(Code::kFailedPrecondition, "consensus: already started");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return Status(Code::kUnavailable, "consensus: creating " +
                                          options_.data_dir + ": " +
                                          ec.message());
  }
  IgnoreSigpipe();
  last_contact_at_ms_.store(SteadyNowMs());
  loop_ = std::make_unique<Loop>(this);
  std::promise<Status> opened;
  std::future<Status> result = opened.get_future();
  thread_ = std::jthread([this, opened = std::move(opened)]() mutable {
    pthread_setname_np(pthread_self(), "consensus");
    Status s = loop_->Open();
    const bool ok = s.ok();
    opened.set_value(std::move(s));
    if (ok) loop_->Run();
  });
  Status s = result.get();
  if (!s.ok()) {
    thread_.join();
    loop_.reset();
    return s;
  }
  WriterLock lock(&mu_);
  accepting_ = true;
  return Status::Ok();
}

void RaftNode::Stop() {
  {
    WriterLock lock(&mu_);
    const bool was_accepting = accepting_;
    accepting_ = false;
    stop_requested_ = true;
    // Under mu_: the loop closes its wakeup handle only after it has seen
    // stop_requested_, which it reads under mu_.
    if (was_accepting) loop_->Wake();
  }
  if (thread_.joinable()) thread_.join();
  loop_.reset();
  is_leader_.store(false);
}

void RaftNode::Enqueue(Work work) {
  {
    WriterLock lock(&mu_);
    if (accepting_) {
      inbox_.push_back(std::move(work));
      loop_->Wake();
      return;
    }
  }
  Fail(work, Status(Code::kUnavailable, "consensus is not running"));
}

void RaftNode::Fail(Work& work, Status status) {
  if (work.kind == Work::Kind::kPropose) {
    asio::post(work.ex, [done = std::move(work.done),
                         status = std::move(status)]() mutable {
      done(fsm::ApplyResult{std::move(status), {}});
    });
  } else {
    asio::post(work.ex, [done = std::move(work.status_done),
                         status = std::move(status)]() mutable {
      done(std::move(status));
    });
  }
}

void RaftNode::Propose(std::string command, asio::any_io_executor ex,
                       Done done) {
  Work w;
  w.command = std::move(command);
  w.ex = std::move(ex);
  w.done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::RunOnConsensusThread(InspectFn fn, asio::any_io_executor ex,
                                    StatusDone done) {
  Work w;
  w.kind = Work::Kind::kRun;
  w.run = std::move(fn);
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::Barrier(asio::any_io_executor ex, StatusDone done) {
  Work w;
  w.kind = Work::Kind::kBarrier;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::WaitApplied(uint64_t index, std::chrono::milliseconds timeout,
                           asio::any_io_executor ex, StatusDone done) {
  // Usually there already (a read index is mostly an old command).
  if (applied_index_.load(std::memory_order_acquire) >= index) {
    asio::post(ex, [done = std::move(done)] { done(Status::Ok()); });
    return;
  }
  Work w;
  w.kind = Work::Kind::kWaitApplied;
  w.id = index;
  w.deadline = std::chrono::steady_clock::now() + timeout;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::AddVoter(uint64_t id, std::string address,
                        asio::any_io_executor ex, StatusDone done) {
  Work w;
  w.kind = Work::Kind::kAdd;
  w.command = std::move(address);
  w.id = id;
  w.voter = true;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::AddStandby(uint64_t id, std::string address,
                          asio::any_io_executor ex, StatusDone done) {
  Work w;
  w.kind = Work::Kind::kAdd;
  w.command = std::move(address);
  w.id = id;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::AssignRole(uint64_t id, bool voter, asio::any_io_executor ex,
                          StatusDone done) {
  Work w;
  w.kind = Work::Kind::kAssign;
  w.id = id;
  w.voter = voter;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::RemovePeer(uint64_t id, asio::any_io_executor ex,
                          StatusDone done) {
  Work w;
  w.kind = Work::Kind::kRemove;
  w.id = id;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::TransferLeadership(uint64_t id, asio::any_io_executor ex,
                                  StatusDone done) {
  Work w;
  w.kind = Work::Kind::kTransfer;
  w.id = id;
  w.ex = std::move(ex);
  w.status_done = std::move(done);
  Enqueue(std::move(w));
}

void RaftNode::SetLeader(bool is_leader) {
  if (is_leader_.load() == is_leader) return;  // Only this thread stores.
  spdlog::info("consensus: node {} {} leader (term {})", id_,
               is_leader ? "is now ready" : "is no longer", term_.load());
  WriterLock lock(&mu_);
  is_leader_.store(is_leader);
  for (const Listener& l : listeners_) {
    asio::post(l.ex, [fn = l.fn, is_leader] { fn(is_leader); });
  }
}

void RaftNode::OnLeadershipChange(asio::any_io_executor ex,
                                  std::function<void(bool is_leader)> fn) {
  WriterLock lock(&mu_);
  if (is_leader_.load()) asio::post(ex, [fn] { fn(true); });
  listeners_.push_back(Listener{std::move(ex), std::move(fn)});
}

bool RaftNode::IsLeader() const { return is_leader_.load(); }

std::string RaftNode::LeaderAddress() const {
  ReaderLock lock(&mu_);
  return leader_address_;
}

uint64_t RaftNode::LeaderId() const { return leader_id_.load(); }

uint64_t RaftNode::LastContactMs() const {
  const int64_t at = last_contact_at_ms_.load();
  if (at < 0) return 0;  // Leader.
  const int64_t now = SteadyNowMs();
  return now > at ? static_cast<uint64_t>(now - at) : 0;
}

uint64_t RaftNode::AppliedIndex() const { return applied_index_.load(); }
uint64_t RaftNode::StateIndex() const {
  return state_index_.load(std::memory_order_acquire);
}
uint64_t RaftNode::CommitIndex() const { return commit_index_.load(); }
uint64_t RaftNode::Term() const { return term_.load(); }
uint64_t RaftNode::NoDelaySockets() const { return nodelay_sockets_.load(); }
uint64_t RaftNode::LeaderLossNudges() const {
  return leader_loss_nudges_.load();
}

uint64_t RaftNode::CommitNudges() const { return commit_nudges_.load(); }

std::vector<RaftNode::Peer> RaftNode::Peers() const {
  ReaderLock lock(&mu_);
  return peers_;
}

}  // namespace sider::consensus
