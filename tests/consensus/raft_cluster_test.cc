// Several RaftNodes in one process, talking over loopback TCP: replication,
// follower behaviour, failover, TCP_NODELAY and membership changes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/asio.h"
#include "consensus/raft_node.h"

namespace sider::consensus {
namespace {

using namespace std::chrono_literals;

// Holds Snapshot() (which the consensus module runs on a worker thread)
// until the test opens it, so that commits can land while it encodes.
class SnapshotGate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

class LogStateMachine : public fsm::StateMachine {
 public:
  // Before the node starts; `gate` must outlive the node.
  void SetSnapshotGate(SnapshotGate* gate) { gate_ = gate; }

  fsm::ApplyResult Apply(uint64_t raft_index,
                         std::string_view command) override {
    std::lock_guard lock(mu_);
    log_.push_back(std::to_string(raft_index) + ":" + std::string(command));
    return {Status::Ok(), std::to_string(raft_index)};
  }
  std::string Snapshot() override {
    if (gate_ != nullptr) gate_->Pass();  // Outside mu_: readers go on.
    std::lock_guard lock(mu_);
    std::string out;
    for (const std::string& l : log_) out += l + "\n";
    return out;
  }
  Status Restore(std::string_view bytes) override {
    std::lock_guard lock(mu_);
    log_.clear();
    size_t start = 0;
    while (start < bytes.size()) {
      size_t nl = bytes.find('\n', start);
      log_.emplace_back(bytes.substr(start, nl - start));
      start = nl + 1;
    }
    return Status::Ok();
  }
  std::vector<std::string> Log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  size_t Size() const {
    std::lock_guard lock(mu_);
    return log_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> log_;
  SnapshotGate* gate_ = nullptr;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

class ClusterTest : public ::testing::Test {
 protected:
  ClusterTest() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sider-cluster-XXXXXX")
            .string();
    dir_ = mkdtemp(tmpl.data());
  }
  ~ClusterTest() override {
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  struct Member {
    std::unique_ptr<LogStateMachine> sm;
    std::unique_ptr<RaftNode> node;
  };

  RaftNode::Options Options(const std::string& name) {
    RaftNode::Options o;
    o.node_name = name;
    o.address = "127.0.0.1:" + std::to_string(FreePort());
    o.data_dir = dir_ + "/" + name;
    o.election_timeout_ms = election_timeout_ms_;
    return o;
  }

  RaftNode& Add(const RaftNode::Options& o) {
    Member m{std::make_unique<LogStateMachine>(), nullptr};
    m.node = std::make_unique<RaftNode>(o, m.sm.get());
    nodes_.push_back(std::move(m));
    return *nodes_.back().node;
  }

  // Starts `n` nodes that all bootstrap with the same three-voter list;
  // `tweak` adjusts each node's options first.
  void StartCluster(int n,
                    const std::function<void(RaftNode::Options&)>& tweak = {}) {
    std::vector<RaftNode::Options>& opts = opts_;
    std::vector<RaftNode::Peer> peers;
    for (int i = 0; i < n; i++) {
      opts.push_back(Options("s" + std::to_string(i)));
      if (tweak) tweak(opts.back());
      peers.push_back({RaftNode::IdFromName(opts.back().node_name),
                       opts.back().address, true});
    }
    for (RaftNode::Options& o : opts) {
      o.bootstrap = true;
      o.bootstrap_peers = peers;
      Status s = Add(o).Start();
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }

  // The one ready leader among running nodes, or -1.
  int Leader() const {
    int leader = -1;
    for (size_t i = 0; i < nodes_.size(); i++) {
      if (nodes_[i].node && nodes_[i].node->IsLeader()) {
        if (leader != -1) return -2;  // Two: not settled.
        leader = static_cast<int>(i);
      }
    }
    return leader;
  }

  // Every running member has applied exactly `n` entries.
  bool AllHave(size_t n) const {
    for (const Member& m : nodes_) {
      if (m.node && m.sm->Size() != n) return false;
    }
    return true;
  }

  bool RunUntil(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = 15s) {
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

  fsm::ApplyResult ProposeAndWait(RaftNode& node, std::string command) {
    std::optional<fsm::ApplyResult> result;
    node.Propose(std::move(command), io_.get_executor(),
                 [&](fsm::ApplyResult r) { result = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return result.has_value(); }));
    return result.value_or(fsm::ApplyResult{Status(Code::kInternal, "timeout"), ""});
  }

  Status Wait(const std::function<void(RaftNode::StatusDone)>& start) {
    std::optional<Status> result;
    start([&](Status s) { result = std::move(s); });
    EXPECT_TRUE(RunUntil([&] { return result.has_value(); }));
    return result.value_or(Status(Code::kInternal, "timeout"));
  }

  // Keeps `window` proposals in flight for `duration`; returns commits/s.
  double Throughput(RaftNode& node, int window,
                    std::chrono::milliseconds duration) {
    int in_flight = 0, completed = 0, failed = 0;
    bool stopping = false;
    std::function<void()> propose_one = [&] {
      in_flight++;
      node.Propose("t", io_.get_executor(), [&](fsm::ApplyResult r) {
        in_flight--;
        (r.status.ok() ? completed : failed)++;
        if (!stopping) propose_one();
      });
    };
    auto guard = asio::make_work_guard(io_);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < window; i++) propose_one();
    io_.restart();
    io_.run_for(duration);
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    const int counted = completed;
    stopping = true;
    guard.reset();
    RunUntil([&] { return in_flight == 0; });
    EXPECT_EQ(failed, 0);
    return counted / secs;
  }

  std::string dir_;
  unsigned election_timeout_ms_ = 300;
  asio::io_context io_;
  std::vector<RaftNode::Options> opts_;  // StartCluster's, by member.
  std::vector<Member> nodes_;
};

// A libraft snapshot file of `dir`: its index (from the name, libraft's
// "snapshot-<term>-<index>-<timestamp>") and its bytes.
struct SnapshotFile {
  uint64_t index = 0;
  std::string bytes;
};

std::vector<SnapshotFile> SnapshotFiles(const std::string& dir) {
  std::vector<SnapshotFile> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    unsigned long long term = 0, index = 0, ts = 0;
    if (name.ends_with(".meta") ||
        std::sscanf(name.c_str(), "snapshot-%llu-%llu-%llu", &term, &index,
                    &ts) != 3) {
      continue;
    }
    std::ifstream in(e.path(), std::ios::binary);
    out.push_back({index, std::string(std::istreambuf_iterator<char>(in), {})});
  }
  return out;
}

uint64_t U64At(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  }
  return v;
}

// Decodes a snapshot written while commits went on (raft_shim_snapshot.c's
// envelope): the encoded state's lines, then one "index:command" line per
// command the restore re-applies. Sets `tail` to that command count.
std::vector<std::string> EnvelopeLines(const std::string& b, size_t* tail) {
  std::vector<std::string> lines;
  if (b.size() < 40 || b.compare(0, 4, "SRSN") != 0) return lines;
  const uint64_t base_len = U64At(b, 8);
  *tail = U64At(b, 16);
  const std::string base = b.substr(40, base_len);
  for (size_t start = 0; start < base.size();) {
    const size_t nl = base.find('\n', start);
    lines.push_back(base.substr(start, nl - start));
    start = nl + 1;
  }
  size_t at = 40 + base_len;
  for (uint64_t i = 0; i < *tail; i++) {
    const uint64_t index = U64At(b, at), len = U64At(b, at + 8);
    lines.push_back(std::to_string(index) + ":" + b.substr(at + 16, len));
    at += 16 + ((len + 7) & ~uint64_t{7});
  }
  return lines;
}

uint64_t LineIndex(const std::string& line) {
  return std::stoull(line.substr(0, line.find(':')));
}

TEST_F(ClusterTest, ThreeNodesReplicateAndFailOver) {
  StartCluster(3);
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  const int l = Leader();
  RaftNode& leader = *nodes_[l].node;
  const int f = (l + 1) % 3;
  RaftNode& follower = *nodes_[f].node;

  // Pipelined writes commit on a majority and reach every replica in order.
  constexpr int kN = 2000;
  int ok = 0;
  for (int i = 0; i < kN; i++) {
    leader.Propose("e" + std::to_string(i), io_.get_executor(),
                   [&](fsm::ApplyResult r) {
                     EXPECT_TRUE(r.status.ok()) << r.status.message();
                     ok++;
                   });
  }
  ASSERT_TRUE(RunUntil([&] { return ok == kN; }, 60s));
  ASSERT_TRUE(RunUntil([&] { return AllHave(kN); }));
  for (const Member& m : nodes_) EXPECT_EQ(m.sm->Log(), nodes_[l].sm->Log());

  // Followers know the leader and refuse writes so the caller can forward.
  ASSERT_TRUE(RunUntil([&] { return follower.LeaderId() == leader.Id(); }));
  EXPECT_EQ(follower.LeaderAddress(), leader.LeaderAddress());
  EXPECT_LT(follower.LastContactMs(), 1000u);
  EXPECT_FALSE(follower.IsLeader());
  fsm::ApplyResult refused = ProposeAndWait(follower, "x");
  EXPECT_EQ(refused.status.code(), Code::kUnavailable);
  EXPECT_EQ(refused.status.message(), "not leader");
  EXPECT_EQ(leader.Peers().size(), 3u);
  EXPECT_EQ(follower.Peers(), leader.Peers());

  // Every node set TCP_NODELAY on its raft connections.
  for (const Member& m : nodes_) EXPECT_GT(m.node->NoDelaySockets(), 0u);

  const double one = Throughput(leader, 1, 1000ms);
  const double many = Throughput(leader, 64, 1000ms);
  std::printf("[ bench ] 3 nodes on loopback: %.0f commits/s with 1 in "
              "flight, %.0f/s with 64 in flight\n",
              one, many);

  // Failover: the survivors elect a ready leader.
  const auto stopped_at = std::chrono::steady_clock::now();
  nodes_[l].node->Stop();
  nodes_[l].node.reset();
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  std::printf("[ info ] failover to a ready leader took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - stopped_at)
                      .count()));
  RaftNode& next = *nodes_[Leader()].node;
  fsm::ApplyResult after = ProposeAndWait(next, "after-failover");
  ASSERT_TRUE(after.status.ok()) << after.status.message();
  const size_t expected = nodes_[Leader()].sm->Size();
  ASSERT_TRUE(RunUntil([&] { return AllHave(expected); }));
}

TEST_F(ClusterTest, FollowersThatFindTheLeaderGoneElectWithoutWaitingOut) {
  // A long election timeout: the survivors' own timers would take 1-2 s.
  election_timeout_ms_ = 1000;
  StartCluster(3);
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  const int l = Leader();
  ASSERT_TRUE(ProposeAndWait(*nodes_[l].node, "before").status.ok());
  ASSERT_TRUE(RunUntil([&] {
    for (const Member& m : nodes_) {
      if (m.node->LeaderId() != nodes_[l].node->Id()) return false;
    }
    return true;
  }));

  // The leader's listener closes with it: the followers' probes of the
  // silent leader are refused, and they start the election at once.
  const auto stopped_at = std::chrono::steady_clock::now();
  nodes_[l].node->Stop();
  nodes_[l].node.reset();
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  std::printf("[ info ] failover with a 1 s election timeout took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - stopped_at)
                      .count()));
  uint64_t nudges = 0;
  for (const Member& m : nodes_) {
    if (m.node) nudges += m.node->LeaderLossNudges();
  }
  EXPECT_GT(nudges, 0u);
  EXPECT_TRUE(
      ProposeAndWait(*nodes_[Leader()].node, "after").status.ok());
}

TEST_F(ClusterTest, FollowersApplyALoneCommitWithoutWaitingForAHeartbeat) {
  // Heartbeats 2 s apart: a follower told of the commit only by the next
  // one would apply a lone write up to 2 s after the leader. The leader's
  // commit nudge (a barrier right after it) tells the followers at once.
  election_timeout_ms_ = 4000;
  StartCluster(3, [](RaftNode::Options& o) { o.heartbeat_timeout_ms = 2000; });
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }, 30s));
  const int l = Leader();
  RaftNode& leader = *nodes_[l].node;
  ASSERT_TRUE(ProposeAndWait(leader, "settle").status.ok());
  ASSERT_TRUE(RunUntil([&] { return AllHave(nodes_[l].sm->Size()); }));

  const uint64_t nudges = leader.CommitNudges();
  ASSERT_TRUE(ProposeAndWait(leader, "lone").status.ok());
  EXPECT_TRUE(RunUntil([&] { return AllHave(nodes_[l].sm->Size()); }, 1000ms));
  EXPECT_GT(leader.CommitNudges(), nudges);
  for (const Member& m : nodes_) EXPECT_EQ(m.sm->Log(), nodes_[l].sm->Log());
}

TEST_F(ClusterTest, MembershipGrowsByAddVoterAndShrinksByRemove) {
  RaftNode::Options a = Options("a");
  a.bootstrap = true;
  RaftNode& first = Add(a);
  ASSERT_TRUE(first.Start().ok());
  ASSERT_TRUE(RunUntil([&] { return first.IsLeader(); }));
  ASSERT_TRUE(ProposeAndWait(first, "before-join").status.ok());

  // A new server starts empty (no bootstrap) and waits to be added.
  RaftNode::Options b = Options("b");
  RaftNode& second = Add(b);
  ASSERT_TRUE(second.Start().ok());
  RaftNode::Options c = Options("c");
  RaftNode& third = Add(c);
  ASSERT_TRUE(third.Start().ok());

  Status s = Wait([&](auto done) {
    first.AddVoter(second.Id(), b.address, io_.get_executor(), done);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  s = Wait([&](auto done) {
    first.AddStandby(third.Id(), c.address, io_.get_executor(), done);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(first.Peers(), (std::vector<RaftNode::Peer>{
                               {first.Id(), a.address, true},
                               {second.Id(), b.address, true},
                               {third.Id(), c.address, false}}));
  ASSERT_TRUE(ProposeAndWait(first, "after-join").status.ok());
  ASSERT_TRUE(RunUntil([&] {
    return nodes_[1].sm->Size() == 2 && nodes_[2].sm->Size() == 2;
  }));
  EXPECT_EQ(nodes_[1].sm->Log(), nodes_[0].sm->Log());

  // Only the leader changes membership.
  s = Wait([&](auto done) {
    second.RemovePeer(third.Id(), io_.get_executor(), done);
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);

  s = Wait([&](auto done) {
    first.RemovePeer(third.Id(), io_.get_executor(), done);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(first.Peers().size(), 2u);

  // Hand leadership to the new voter.
  s = Wait([&](auto done) {
    first.TransferLeadership(second.Id(), io_.get_executor(), done);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(RunUntil([&] { return second.IsLeader(); }));
  ASSERT_TRUE(ProposeAndWait(second, "after-transfer").status.ok());
  ASSERT_TRUE(RunUntil([&] { return nodes_[0].sm->Size() == 3; }));
}

TEST_F(ClusterTest, HasStateOnlyAfterBootstrapOrContactFromALeader) {
  RaftNode::Options a = Options("a");
  auto state = RaftNode::HasState(a.data_dir);  // Missing dir: no state.
  ASSERT_TRUE(state.ok()) << state.status().message();
  EXPECT_FALSE(*state);

  // Started with no configuration and never contacted: still no state, so
  // it may still bootstrap.
  RaftNode::Options b = Options("b");
  {
    Member m{std::make_unique<LogStateMachine>(), nullptr};
    m.node = std::make_unique<RaftNode>(b, m.sm.get());
    ASSERT_TRUE(m.node->Start().ok());
    m.node->Stop();
  }
  state = RaftNode::HasState(b.data_dir);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(*state);

  // Bootstrapped at run time with a list (Start(peers)): state.
  RaftNode& first = Add(a);
  ASSERT_TRUE(first.Start({{first.Id(), a.address, true}}).ok());
  ASSERT_TRUE(RunUntil([&] { return first.IsLeader(); }));
  EXPECT_EQ(first.Peers().size(), 1u);
  state = RaftNode::HasState(a.data_dir);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(*state);

  // The empty server, added by the leader, now has state too.
  RaftNode& second = Add(b);
  ASSERT_TRUE(second.Start().ok());
  Status s = Wait([&](auto done) {
    first.AddVoter(second.Id(), b.address, io_.get_executor(), done);
  });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(RunUntil([&] { return second.Peers().size() == 2; }));
  state = RaftNode::HasState(b.data_dir);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(*state);
  EXPECT_EQ(first.Start().code(), Code::kFailedPrecondition);
}

TEST_F(ClusterTest, MembersStartedAtDifferentTimesWithOneListElectALeader) {
  // bootstrap-expect: each member bootstraps with the same list when it
  // decides, which may be seconds apart.
  std::vector<RaftNode::Options> opts = {Options("x"), Options("y"),
                                         Options("z")};
  std::vector<RaftNode::Peer> peers;
  for (const auto& o : opts) {
    peers.push_back({RaftNode::IdFromName(o.node_name), o.address, true});
  }
  for (const auto& o : opts) {
    RaftNode& n = Add(o);
    ASSERT_TRUE(n.Start(peers).ok());
    RunUntil([] { return false; }, 400ms);
  }
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  ASSERT_TRUE(ProposeAndWait(*nodes_[Leader()].node, "one").status.ok());
  ASSERT_TRUE(RunUntil([&] { return AllHave(1); }));
  // A restart with the same list does not bootstrap again: state wins.
  const int l = Leader();
  const int f = (l + 1) % 3;
  nodes_[f].node.reset();
  nodes_[f].sm = std::make_unique<LogStateMachine>();
  nodes_[f].node = std::make_unique<RaftNode>(opts[f], nodes_[f].sm.get());
  ASSERT_TRUE(nodes_[f].node->Start(peers).ok());
  ASSERT_TRUE(RunUntil([&] { return nodes_[f].sm->Size() == 1; }));
  EXPECT_EQ(nodes_[f].sm->Log(), nodes_[l].sm->Log());
}

// The snapshot is encoded on a worker thread while commits go on: the
// FSM holds still meanwhile (commits are held, and so are their
// acknowledgements), libraft gets the encoded state plus the commands
// committed since, and that snapshot restores to exactly the state at the
// index libraft recorded for it — on a restarted member and on one that
// installs it from the leader.
TEST_F(ClusterTest, SnapshotEncodedWhileCommitsContinueRestoresTheSameState) {
  StartCluster(3, [](RaftNode::Options& o) {
    o.snapshot_threshold = 64;
    o.snapshot_trailing = 16;
  });
  ASSERT_TRUE(RunUntil([&] { return Leader() >= 0; }));
  const int l = Leader();
  const int f = (l + 1) % 3;
  // Gates go on before any snapshot: set them now, none has reached the
  // threshold yet (only configuration and barrier entries so far).
  SnapshotGate gate;
  nodes_[l].sm->SetSnapshotGate(&gate);
  RaftNode& leader = *nodes_[l].node;

  struct Sent {
    std::string command;
    std::optional<fsm::ApplyResult> result;
  };
  std::vector<Sent> sent;
  sent.reserve(1000);
  auto propose = [&](int n) {
    for (int i = 0; i < n; i++) {
      const size_t k = sent.size();
      sent.push_back({"c" + std::to_string(k), std::nullopt});
      leader.Propose(sent[k].command, io_.get_executor(),
                     [&sent, k](fsm::ApplyResult r) { sent[k].result = std::move(r); });
    }
  };
  auto acknowledged = [&] {
    size_t n = 0;
    for (const Sent& s : sent) n += s.result.has_value();
    return n;
  };

  // Past the threshold: the leader starts encoding and blocks in the gate.
  propose(100);
  ASSERT_TRUE(RunUntil([&] { return gate.Entered(); }));
  const size_t frozen = nodes_[l].sm->Size();
  propose(200);
  // The followers apply all 300; the leader's FSM holds still, and the
  // proposals it has not applied are not acknowledged.
  ASSERT_TRUE(RunUntil([&] {
    return nodes_[f].sm->Size() == 300 && nodes_[(l + 2) % 3].sm->Size() == 300;
  }));
  EXPECT_EQ(nodes_[l].sm->Size(), frozen);
  EXPECT_LE(acknowledged(), frozen);
  EXPECT_LT(leader.AppliedIndex(), leader.CommitIndex());

  gate.Open();
  ASSERT_TRUE(RunUntil([&] { return acknowledged() == sent.size(); }, 60s));
  // Each acknowledgement carries its own apply's result.
  const std::vector<std::string> log = nodes_[l].sm->Log();
  for (const Sent& s : sent) {
    ASSERT_TRUE(s.result->status.ok()) << s.result->status.message();
    const uint64_t index = std::stoull(s.result->payload);
    ASSERT_NE(std::find(log.begin(), log.end(),
                        std::to_string(index) + ":" + s.command),
              log.end());
  }

  // The leader's snapshot: the gated encoding plus the commands that
  // committed meanwhile, together exactly its log up to libraft's index.
  size_t checked = 0, with_tail = 0;
  ASSERT_TRUE(RunUntil([&] {
    checked = with_tail = 0;
    for (const SnapshotFile& file : SnapshotFiles(opts_[l].data_dir)) {
      size_t tail = 0;
      const std::vector<std::string> lines = EnvelopeLines(file.bytes, &tail);
      std::vector<std::string> expected;
      for (const std::string& line : log) {
        if (LineIndex(line) <= file.index) expected.push_back(line);
      }
      EXPECT_EQ(lines, expected) << "snapshot at " << file.index;
      checked++;
      with_tail += tail > 0;
    }
    return with_tail > 0;
  }));
  EXPECT_GE(checked, 1u);

  // A member that restarts from its own snapshot, after falling far enough
  // behind that the leader compacted past it, converges on the same state.
  nodes_[f].node->Stop();
  nodes_[f].node.reset();
  propose(400);
  ASSERT_TRUE(RunUntil([&] { return acknowledged() == sent.size(); }, 60s));
  nodes_[f].sm = std::make_unique<LogStateMachine>();
  nodes_[f].node = std::make_unique<RaftNode>(opts_[f], nodes_[f].sm.get());
  ASSERT_TRUE(nodes_[f].node->Start().ok());
  ASSERT_TRUE(RunUntil([&] {
    return nodes_[f].sm->Log() == nodes_[l].sm->Log();
  }, 60s));
  for (const Sent& s : sent) ASSERT_TRUE(s.result->status.ok());
  EXPECT_EQ(nodes_[l].sm->Size(), sent.size());
}

}  // namespace
}  // namespace sider::consensus
