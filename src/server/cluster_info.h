// ClusterInfo: what the HTTP layer (and request forwarding) may know about
// the cluster — leadership, the servers of the Raft configuration and their
// HTTP addresses, liveness — without touching consensus/ itself.
//
// Where the facts come from:
//   * leadership, peers, last contact: RaftNode's atomics (always current);
//   * a server's node name and HTTP address: the catalog (each server is a
//     node with Meta {"sider-role": "server", "sider-raft-addr": R,
//     "sider-http-addr": H}; the leader registers every server it admits),
//     cached here and refreshed by RefreshFromCatalog(); and, before that
//     registration has committed, what Remember() was told by the join
//     handshake (cluster_membership.h);
//   * liveness of other servers: RecordContact(), fed by the membership
//     prober (a periodic GET of each server's /v1/internal/cluster/hello).
//
// Thread safety: every method is thread-safe. Nothing here blocks on I/O;
// lookups are a mutex-guarded map read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "server/node_identity.h"

namespace sider::consensus {
class RaftNode;
}
namespace sider::store {
class CatalogStore;
}

namespace sider::server {

// Catalog Node.Meta keys that describe a server.
inline constexpr char kMetaRole[] = "sider-role";  // "server"
inline constexpr char kMetaRaftAddr[] = "sider-raft-addr";
inline constexpr char kMetaHttpAddr[] = "sider-http-addr";

// One server of the current Raft configuration.
struct ServerInfo {
  uint64_t raft_id = 0;
  std::string raft_address;  // host:port of the Raft transport.
  std::string node;          // Node name; "" until known.
  std::string http_address;  // host:port of its HTTP API; "" until known.
  bool voter = true;         // false: a standby (non-voting read replica).
  bool leader = false;       // This node believes it is the leader.
  bool self = false;         // It is this process.
  // Heard from recently: itself; the leader, on a follower that has
  // contact; any server whose hello answered within kAliveWindow.
  bool alive = false;
};

class ClusterInfo {
 public:
  // A server is "alive" if its last successful contact is this recent.
  static constexpr std::chrono::milliseconds kAliveWindow{5000};

  ClusterInfo(const consensus::RaftNode& raft,
              const store::CatalogStore& catalog, const NodeIdentity& self,
              const Clock& clock);

  // Leadership, as RaftNode sees it.
  bool KnownLeader() const;
  // Raft address of the leader, "" if none is known.
  std::string LeaderAddress() const;
  // HTTP address (host:port) of the leader, for forwarding: this node's own
  // when it leads; "" if no leader is known or its address is not (yet)
  // known. Callers answer "No cluster leader" / retry on "".
  std::string LeaderHttpAddress() const;
  uint64_t LastContactMs() const;
  bool IsLeader() const;
  uint64_t AppliedIndex() const;
  // Raft addresses of the voters (Consul's /v1/status/peers).
  std::vector<std::string> PeerAddresses() const;

  // Every server of the current Raft configuration (voters and standbys),
  // in configuration order, with what is known about each.
  std::vector<ServerInfo> Servers() const;
  std::optional<ServerInfo> ServerByRaftAddress(std::string_view address) const;
  std::optional<ServerInfo> ServerById(uint64_t raft_id) const;
  // By node name, raft id (decimal) or raft address: the operator API's
  // ways of naming a server.
  std::optional<ServerInfo> FindServer(std::string_view name_id_or_address) const;

  const NodeIdentity& self() const { return self_; }
  std::string SelfHttpAddress() const;

  // Feeding (called by the membership manager; any thread).
  // A server's node name and HTTP address, learned from a handshake.
  void Remember(std::string_view raft_address, std::string node,
                std::string http_address);
  // Re-reads server nodes from the catalog if the node table changed.
  void RefreshFromCatalog();
  // The outcome of a liveness probe of the server at `raft_address`.
  void RecordContact(std::string_view raft_address, bool reachable);

 private:
  struct Known {
    std::string node;
    std::string http_address;
    Clock::TimePoint last_ok{};  // Epoch: never.
  };
  ServerInfo Describe(uint64_t id, const std::string& raft_address, bool voter,
                      const std::string& leader_address,
                      Clock::TimePoint now) const SIDER_REQUIRES_SHARED(mu_);

  const consensus::RaftNode& raft_;
  const store::CatalogStore& catalog_;
  const NodeIdentity& self_;
  const Clock& clock_;

  mutable Mutex mu_;
  std::map<std::string, Known, std::less<>> known_ SIDER_GUARDED_BY(mu_);
  uint64_t catalog_index_ SIDER_GUARDED_BY(mu_) = 0;
};

}  // namespace sider::server
