// RaftNode against real libraft: real disk (temporary directories), real
// loopback TCP, real time. Tests poll for conditions with generous deadlines
// instead of sleeping fixed amounts.
#include "consensus/raft_node.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/asio.h"

namespace sider::consensus {
namespace {

using namespace std::chrono_literals;

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::sider::Status s_ = (expr);                   \
    ASSERT_TRUE(s_.ok()) << #expr << ": " << s_.message(); \
  } while (false)

// Appends each command with its index. Snapshot: "index\tcommand\n" lines.
class RecordingStateMachine : public fsm::StateMachine {
 public:
  struct Entry {
    uint64_t index;
    std::string command;
    bool operator==(const Entry&) const = default;
  };

  fsm::ApplyResult Apply(uint64_t raft_index,
                         std::string_view command) override {
    std::lock_guard lock(mu_);
    entries_.push_back({raft_index, std::string(command)});
    return {Status::Ok(), std::to_string(raft_index)};
  }
  std::string Snapshot() override {
    std::lock_guard lock(mu_);
    std::string out;
    for (const Entry& e : entries_) {
      out += std::to_string(e.index) + "\t" + e.command + "\n";
    }
    snapshots_++;
    return out;
  }
  Status Restore(std::string_view bytes) override {
    std::vector<Entry> entries;
    std::istringstream in{std::string(bytes)};
    std::string line;
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) return Status(Code::kDataLoss, "bad line");
      entries.push_back({std::stoull(line.substr(0, tab)), line.substr(tab + 1)});
    }
    std::lock_guard lock(mu_);
    entries_ = std::move(entries);
    restores_++;
    return Status::Ok();
  }

  std::vector<Entry> Entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  size_t Size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }
  int Restores() const {
    std::lock_guard lock(mu_);
    return restores_;
  }
  int Snapshots() const {
    std::lock_guard lock(mu_);
    return snapshots_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  int restores_ = 0;
  int snapshots_ = 0;
};

// Packs batches as "B" then "<size>:<command>" per command; applies each
// packed command as RecordingStateMachine does, at the batch's index.
class BatchingStateMachine : public RecordingStateMachine {
 public:
  std::string PackBatch(const std::vector<std::string>& commands) override {
    std::string out = "B";
    for (const std::string& c : commands) {
      out += std::to_string(c.size()) + ":" + c;
    }
    return out;
  }
  fsm::ApplyResult Apply(uint64_t raft_index,
                         std::string_view command) override {
    if (!command.starts_with("B")) {
      return RecordingStateMachine::Apply(raft_index, command);
    }
    fsm::ApplyResult result;
    for (size_t at = 1; at < command.size();) {
      const size_t colon = command.find(':', at);
      const size_t size = std::stoull(std::string(command.substr(at, colon - at)));
      result.batch.push_back(RecordingStateMachine::Apply(
          raft_index, command.substr(colon + 1, size)));
      at = colon + 1 + size;
    }
    return result;
  }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sider-consensus-XXXXXX")
            .string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A loopback port that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string LoopbackAddress() {
  return "127.0.0.1:" + std::to_string(FreePort());
}

class RaftNodeTest : public ::testing::Test {
 protected:
  RaftNode::Options SingleNode(const std::string& name) {
    RaftNode::Options o;
    o.node_name = name;
    o.address = LoopbackAddress();
    o.data_dir = dir_.Sub(name);
    o.bootstrap = true;
    return o;
  }

  // Runs completions posted to io_ until `pred` holds or `timeout` passes.
  bool RunUntil(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      asio::steady_timer tick(io_, 2ms);
      tick.async_wait([](const boost::system::error_code&) {});
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  // Proposes and waits for the result.
  fsm::ApplyResult ProposeAndWait(RaftNode& node, std::string command) {
    std::optional<fsm::ApplyResult> result;
    node.Propose(std::move(command), io_.get_executor(),
                 [&](fsm::ApplyResult r) { result = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return result.has_value(); }));
    return result.value_or(fsm::ApplyResult{Status(Code::kInternal, "timeout"), ""});
  }

  // Proposes "c0", "c1", ... (one per slot of `results`) without waiting;
  // each result lands in its slot and counts in `done`.
  void ProposeNumbered(RaftNode& node,
                       std::vector<std::optional<fsm::ApplyResult>>* results,
                       int* done) {
    for (size_t i = 0; i < results->size(); i++) {
      node.Propose("c" + std::to_string(i), io_.get_executor(),
                   [results, done, i](fsm::ApplyResult r) {
                     ASSERT_FALSE((*results)[i].has_value()) << "done twice";
                     (*results)[i] = std::move(r);
                     ++*done;
                   });
    }
  }

  Status BarrierAndWait(RaftNode& node) {
    std::optional<Status> result;
    node.Barrier(io_.get_executor(), [&](Status s) { result = std::move(s); });
    EXPECT_TRUE(RunUntil([&] { return result.has_value(); }));
    return result.value_or(Status(Code::kInternal, "timeout"));
  }

  TempDir dir_;
  asio::io_context io_;
};

TEST_F(RaftNodeTest, SingleNodeBootstrapBecomesReadyLeader) {
  RecordingStateMachine sm;
  RaftNode::Options o = SingleNode("n1");
  RaftNode node(o, &sm);
  std::vector<bool> changes;
  node.OnLeadershipChange(io_.get_executor(),
                          [&](bool leader) { changes.push_back(leader); });
  EXPECT_FALSE(node.IsLeader());
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  ASSERT_TRUE(RunUntil([&] { return !changes.empty(); }));
  EXPECT_EQ(changes, std::vector<bool>{true});
  EXPECT_EQ(node.LeaderAddress(), o.address);
  EXPECT_EQ(node.LeaderId(), node.Id());
  EXPECT_EQ(node.Id(), RaftNode::IdFromName("n1"));
  EXPECT_EQ(node.LastContactMs(), 0u);
  EXPECT_GE(node.Term(), 1u);
  // The bootstrap configuration (1) and the leader barrier are applied.
  EXPECT_GE(node.AppliedIndex(), 2u);
  EXPECT_EQ(node.Peers(),
            (std::vector<RaftNode::Peer>{{node.Id(), o.address, true}}));
  EXPECT_EQ(sm.Size(), 0u);  // Barriers and configurations skip the FSM.
  node.Stop();
  EXPECT_FALSE(node.IsLeader());
  ASSERT_TRUE(RunUntil([&] { return changes.size() == 2; }));
  EXPECT_FALSE(changes[1]);
}

TEST_F(RaftNodeTest, ProposeAppliesWithTheEntrysLogIndex) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));

  fsm::ApplyResult a = ProposeAndWait(node, "a");
  ASSERT_TRUE(a.status.ok()) << a.status.message();
  const uint64_t ia = std::stoull(a.payload);
  EXPECT_EQ(node.AppliedIndex(), ia);

  // A barrier takes a log index of its own, so the next command skips one.
  ASSERT_TRUE(BarrierAndWait(node).ok());
  fsm::ApplyResult b = ProposeAndWait(node, "b");
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(std::stoull(b.payload), ia + 2);
  fsm::ApplyResult c = ProposeAndWait(node, "c");
  EXPECT_EQ(std::stoull(c.payload), ia + 3);

  EXPECT_EQ(sm.Entries(), (std::vector<RecordingStateMachine::Entry>{
                              {ia, "a"}, {ia + 2, "b"}, {ia + 3, "c"}}));
  EXPECT_GE(node.CommitIndex(), ia + 3);

  fsm::ApplyResult empty = ProposeAndWait(node, "");
  EXPECT_EQ(empty.status.code(), Code::kInvalidArgument);
}

TEST_F(RaftNodeTest, StateIndexIsTheLastCommandNotTheLastBarrier) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  fsm::ApplyResult a = ProposeAndWait(node, "a");
  ASSERT_TRUE(a.status.ok());
  const uint64_t ia = std::stoull(a.payload);
  EXPECT_EQ(node.StateIndex(), ia);
  ASSERT_TRUE(BarrierAndWait(node).ok());
  // AppliedIndex() learns of a barrier at the next poll.
  ASSERT_TRUE(RunUntil([&] { return node.AppliedIndex() == ia + 1; }));
  EXPECT_EQ(node.StateIndex(), ia);  // The barrier left the state as it was.
}

TEST_F(RaftNodeTest, WaitAppliedWakesOnTheApplyThatGetsThereOrTimesOut) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  auto wait = [&](uint64_t index, std::chrono::milliseconds timeout) {
    auto out = std::make_shared<std::optional<Status>>();
    node.WaitApplied(index, timeout, io_.get_executor(),
                     [out](Status s) { *out = std::move(s); });
    return out;
  };
  const uint64_t now = node.AppliedIndex();
  auto already = wait(now, 0ms);
  ASSERT_TRUE(RunUntil([&] { return already->has_value(); }));
  EXPECT_TRUE(already->value().ok());

  auto next = wait(now + 1, 10s);
  auto later = wait(now + 2, 10s);
  RunUntil([] { return false; }, 50ms);
  EXPECT_FALSE(next->has_value());  // Nothing applied yet.
  ASSERT_TRUE(ProposeAndWait(node, "x").status.ok());
  ASSERT_TRUE(RunUntil([&] { return next->has_value(); }));
  EXPECT_TRUE(next->value().ok());
  EXPECT_FALSE(later->has_value());

  auto never = wait(now + 1000, 60ms);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return never->has_value(); }));
  EXPECT_EQ(never->value().code(), Code::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);

  node.Stop();  // What still waits is failed, not dropped.
  ASSERT_TRUE(RunUntil([&] { return later->has_value(); }));
  EXPECT_EQ(later->value().code(), Code::kUnavailable);
}

TEST_F(RaftNodeTest, TenThousandPipelinedProposalsApplyInOrder) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));

  constexpr int kN = 10000;
  std::vector<std::optional<fsm::ApplyResult>> results(kN);
  int done = 0;
  ProposeNumbered(node, &results, &done);
  ASSERT_TRUE(RunUntil([&] { return done == kN; }, 60s)) << done;
  std::vector<RecordingStateMachine::Entry> entries = sm.Entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; i++) {
    ASSERT_TRUE(results[i]->status.ok()) << results[i]->status.message();
    EXPECT_EQ(entries[i].command, "c" + std::to_string(i));
    EXPECT_EQ(entries[i].index, entries[0].index + i);
    EXPECT_EQ(std::stoull(results[i]->payload), entries[i].index);
  }
}

TEST_F(RaftNodeTest, ProposalsWaitingTogetherShareEntriesOfAtMost128) {
  BatchingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));

  // Hold the consensus thread so that every proposal waits in its queue:
  // proposed only once it is inside the hold, none shares its wake-up.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool held = false;
  node.RunOnConsensusThread(
      [&entered, released](uint64_t, uint64_t) {
        entered.set_value();
        released.wait();
      },
      io_.get_executor(), [&](Status) { held = true; });
  entered.get_future().wait();
  constexpr int kN = 300;
  std::vector<std::optional<fsm::ApplyResult>> results(kN);
  int done = 0;
  ProposeNumbered(node, &results, &done);
  release.set_value();
  ASSERT_TRUE(RunUntil([&] { return done == kN && held; }, 30s)) << done;

  // Applied in order, 128 + 128 + 44 commands to an entry, each answered
  // with its own result (the index it was applied at).
  std::vector<RecordingStateMachine::Entry> entries = sm.Entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; i++) {
    ASSERT_TRUE(results[i]->status.ok()) << results[i]->status.message();
    EXPECT_EQ(entries[i].command, "c" + std::to_string(i));
    EXPECT_EQ(entries[i].index, entries[0].index + i / 128);
    EXPECT_EQ(std::stoull(results[i]->payload), entries[i].index);
  }
}

TEST_F(RaftNodeTest, RestartReplaysTheLog) {
  RaftNode::Options o = SingleNode("n1");
  std::vector<RecordingStateMachine::Entry> before;
  {
    RecordingStateMachine sm;
    RaftNode node(o, &sm);
    ASSERT_OK(node.Start());
    ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
    for (int i = 0; i < 100; i++) {
      ASSERT_TRUE(ProposeAndWait(node, "x" + std::to_string(i)).status.ok());
    }
    before = sm.Entries();
  }
  RecordingStateMachine sm;
  RaftNode node(o, &sm);  // bootstrap=true is ignored: state exists.
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  EXPECT_EQ(sm.Entries(), before);
  EXPECT_EQ(sm.Restores(), 0);
  fsm::ApplyResult next = ProposeAndWait(node, "after");
  ASSERT_TRUE(next.status.ok());
  EXPECT_GT(std::stoull(next.payload), before.back().index);
}

TEST_F(RaftNodeTest, RestartRestoresTheSnapshotThenReplaysTheRest) {
  RaftNode::Options o = SingleNode("n1");
  o.snapshot_threshold = 64;
  o.snapshot_trailing = 16;
  std::vector<RecordingStateMachine::Entry> before;
  {
    RecordingStateMachine sm;
    RaftNode node(o, &sm);
    ASSERT_OK(node.Start());
    ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
    for (int i = 0; i < 300; i++) {
      ASSERT_TRUE(ProposeAndWait(node, "s" + std::to_string(i)).status.ok());
    }
    EXPECT_GE(sm.Snapshots(), 1);
    before = sm.Entries();
  }
  RecordingStateMachine sm;
  RaftNode node(o, &sm);
  ASSERT_OK(node.Start());
  EXPECT_EQ(sm.Restores(), 1);  // During Start(), before any replay.
  EXPECT_GT(node.StateIndex(), 0u);  // The snapshot's, at least.
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  EXPECT_EQ(sm.Entries(), before);
}

TEST_F(RaftNodeTest, StopCompletesEveryPendingProposalOnce) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  constexpr int kN = 3000;
  std::vector<int> calls(kN, 0);
  int ok = 0, unavailable = 0, other = 0;
  for (int i = 0; i < kN; i++) {
    node.Propose("p" + std::to_string(i), io_.get_executor(),
                 [&, i](fsm::ApplyResult r) {
                   calls[i]++;
                   if (r.status.ok()) {
                     ok++;
                   } else if (r.status.code() == Code::kUnavailable) {
                     unavailable++;
                   } else {
                     other++;
                   }
                 });
  }
  ASSERT_TRUE(RunUntil([&] { return sm.Size() > 0; }));  // Some, not all.
  node.Stop();
  node.Stop();  // Idempotent.
  ASSERT_TRUE(RunUntil([&] { return ok + unavailable + other == kN; }));
  io_.restart();
  io_.poll();
  for (int i = 0; i < kN; i++) ASSERT_EQ(calls[i], 1) << i;
  EXPECT_EQ(other, 0);
  EXPECT_EQ(static_cast<size_t>(ok), sm.Size());
  std::printf("[ info ] stop: %d applied, %d unavailable\n", ok, unavailable);

  fsm::ApplyResult late = ProposeAndWait(node, "late");
  EXPECT_EQ(late.status.code(), Code::kUnavailable);
  EXPECT_EQ(BarrierAndWait(node).code(), Code::kUnavailable);
}

TEST_F(RaftNodeTest, BarrierWaitsForEarlierProposals) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  int proposed = 0;
  for (int i = 0; i < 500; i++) {
    node.Propose("b" + std::to_string(i), io_.get_executor(),
                 [&](fsm::ApplyResult) { proposed++; });
  }
  std::optional<size_t> applied_at_barrier;
  int barriers = 0;
  for (int i = 0; i < 3; i++) {
    node.Barrier(io_.get_executor(), [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.message();
      if (!applied_at_barrier) applied_at_barrier = sm.Size();
      barriers++;
    });
  }
  ASSERT_TRUE(RunUntil([&] { return barriers == 3 && proposed == 500; }));
  EXPECT_EQ(applied_at_barrier, 500u);
}

TEST_F(RaftNodeTest, NotStartedNodeRefusesWork) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  EXPECT_EQ(ProposeAndWait(node, "x").status.code(), Code::kUnavailable);
  EXPECT_EQ(BarrierAndWait(node).code(), Code::kUnavailable);
}

TEST_F(RaftNodeTest, StartFailsCleanlyWhenThePortIsTaken) {
  RecordingStateMachine sm1, sm2;
  RaftNode::Options o = SingleNode("n1");
  RaftNode first(o, &sm1);
  ASSERT_OK(first.Start());
  o.data_dir = dir_.Sub("n2");
  RaftNode second(o, &sm2);
  Status s = second.Start();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find(o.address), std::string::npos) << s.message();
}

// Throughput with 1 vs 64 proposals in flight on a single node with a
// trivial state machine; prints the numbers (the assertion is only that the
// window helps).
TEST_F(RaftNodeTest, PipeliningBeatsOneAtATime) {
  RecordingStateMachine sm;
  RaftNode node(SingleNode("n1"), &sm);
  ASSERT_OK(node.Start());
  ASSERT_TRUE(RunUntil([&] { return node.IsLeader(); }));
  // Each completion proposes the next one, so `window` stay in flight.
  auto measure = [&](int window) {
    int in_flight = 0, completed = 0;
    bool stopping = false;
    std::function<void()> propose_one = [&] {
      in_flight++;
      node.Propose("w", io_.get_executor(), [&](fsm::ApplyResult r) {
        EXPECT_TRUE(r.status.ok());
        in_flight--;
        completed++;
        if (!stopping) propose_one();
      });
    };
    auto guard = asio::make_work_guard(io_);  // run_for must not return early.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < window; i++) propose_one();
    io_.restart();
    io_.run_for(1500ms);
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    const int counted = completed;
    stopping = true;
    guard.reset();
    RunUntil([&] { return in_flight == 0; });
    return counted / secs;
  };
  const double one = measure(1);
  const double sixty_four = measure(64);
  std::printf("[ bench ] single node, trivial FSM: %.0f proposals/s with 1 "
              "in flight, %.0f/s with 64 in flight\n",
              one, sixty_four);
  EXPECT_GT(sixty_four, one);
}

}  // namespace
}  // namespace sider::consensus
