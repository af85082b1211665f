// ClusterMembership: how a server becomes and stays a member of the Raft
// cluster — the bootstrap-expect handshake, --join with backoff, the
// leader's side of a join (Raft add -> standby -> voter, plus the server's
// catalog node), liveness probes of the other servers, and relaying
// operator calls to the leader. docs/cluster.md is the narrative.
//
// Start-up, by case:
//   * --bootstrap (and `sider dev`), or the data dir has Raft state, or no
//     --bootstrap-expect: RaftNode starts at once (Start()). Then, if
//     --join was given and this server is not in its own configuration,
//     the join loop asks the leader to add it.
//   * --bootstrap-expect N without state: RaftNode is NOT started yet. The
//     discovery loop asks every --join address for its hello and applies
//     DecideBootstrap() (cluster_bootstrap.h) until it bootstraps, starts
//     empty, or joins.
// Every loop retries with backoff (200 ms doubling to 5 s; reset when a
// new server says hello) and logs at most once per state change or 30 s.
//
// Once started, a 1 s tick: refreshes ClusterInfo from the catalog, probes
// the other servers (hello, 1 s timeout) for /v1/agent/members, and on a
// follower makes sure the leader has registered this server's catalog node
// (by re-sending the idempotent join).
//
// Threading: public methods may be called from any thread (HTTP handlers
// run on io threads). Loop state lives on a private strand; callbacks run
// on the io executor. Stop the io_context before destroying this object.
// Errors: HandleJoin answers kUnavailable "not leader" off the leader,
// kConflict when the raft id or address is taken by another server, and
// RaftNode's membership errors.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/asio.h"
#include "base/clock.h"
#include "base/status.h"
#include "server/cluster_bootstrap.h"
#include "server/cluster_http.h"
#include "server/node_identity.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::store {
class CatalogStore;
}

namespace sider::server {

class ClusterInfo;

struct MembershipOptions {
  std::string raft_data_dir;       // For RaftNode::HasState().
  bool bootstrap = false;          // Single-server bootstrap (--bootstrap, dev).
  unsigned bootstrap_expect = 0;   // 0: off.
  std::vector<std::string> join;   // HTTP addresses of other servers.
  bool voter = true;               // false: --non-voter.
  std::chrono::milliseconds min_backoff{200}, max_backoff{5000};
  std::chrono::milliseconds tick{1000};
};

// PUT /v1/internal/cluster/join body.
struct JoinRequest {
  std::string node;
  std::string node_id;
  uint64_t raft_id = 0;
  std::string raft_address;
  std::string http_address;
  std::string address;  // Advertised (catalog) address.
  std::string datacenter;
  bool voter = true;
};

class ClusterMembership {
 public:
  using Done = std::function<void(Status)>;

  ClusterMembership(MembershipOptions options, const NodeIdentity& self,
                    consensus::RaftNode& raft, ClusterInfo& cluster,
                    store::CatalogStore& catalog, asio::io_context& io,
                    Clock& clock);
  ~ClusterMembership();
  ClusterMembership(const ClusterMembership&) = delete;
  ClusterMembership& operator=(const ClusterMembership&) = delete;

  // Starts RaftNode now if the start-up case allows (see above) and arms
  // the loops. A RaftNode start failure is returned (the process exits).
  Status Start();
  // Cancels the loops. Call before stopping the io_context's threads.
  void Stop();

  // GET /v1/internal/cluster/hello. `from` is the caller's HTTP address
  // (may be ""): a discovering server asks again at once.
  HelloInfo Hello(const std::string& from);
  // PUT /v1/internal/cluster/join, on the leader.
  void HandleJoin(JoinRequest req, Done done);
  // Operator calls, on the leader (http/cluster_dispatch.h forwards them
  // there). RemoveServer refuses the leader itself (kFailedPrecondition:
  // transfer leadership first); TransferLeadership with id 0 picks a voter.
  void RemoveServer(uint64_t raft_id, Done done);
  void TransferLeadership(uint64_t raft_id, Done done);

  // The hello and join wire formats (JSON), shared with the handlers.
  static std::string EncodeHello(const HelloInfo& h);
  static Result<HelloInfo> DecodeHello(std::string_view json);
  static std::string EncodeJoin(const JoinRequest& j);
  static Result<JoinRequest> DecodeJoin(std::string_view json);

 private:
  enum class Phase { kDiscover, kJoin, kMember };

  void Arm(std::chrono::milliseconds after);
  void Round();  // On strand_.
  void Discover(int round);
  void OnHellos(int round, std::vector<HelloInfo> replies);
  void JoinRound(int round);
  void SendJoin(int round, std::string target);
  void MemberTick();
  void EnsureRegistered();
  void Probe();
  Status StartRaft(std::vector<consensus::RaftNode::Peer> bootstrap_peers);
  bool InOwnConfiguration() const;
  // In the configuration with another role than options_.voter asks for.
  bool OwnRoleDiffers() const;
  void Backoff(const std::string& why);
  void RegisterServerNode(const JoinRequest& req, Done done);
  JoinRequest SelfJoin() const;
  HelloInfo SelfHello() const;

  const MembershipOptions options_;
  const NodeIdentity& self_;
  consensus::RaftNode& raft_;
  ClusterInfo& cluster_;
  store::CatalogStore& catalog_;
  asio::io_context& io_;
  Clock& clock_;
  asio::strand<asio::io_context::executor_type> strand_;

  // Written on strand_ before RaftNode starts; read by Hello() anywhere.
  std::atomic<bool> raft_started_{false};

  // On strand_ only.
  Phase phase_ = Phase::kMember;
  bool stopped_ = false;
  int round_ = 0;  // Stale replies of an older round are dropped.
  std::chrono::milliseconds backoff_{0};
  std::string last_log_;
  Clock::TimePoint last_log_at_{};
  std::unique_ptr<Clock::Alarm> alarm_;
};

}  // namespace sider::server
