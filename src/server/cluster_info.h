// ClusterInfo: what the HTTP layer may know about consensus — leadership,
// peers, last contact — without touching consensus/ itself.
//
// Thread safety: every method is thread-safe (it reads RaftNode's atomics).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sider::consensus {
class RaftNode;
}

namespace sider::server {

class ClusterInfo {
 public:
  explicit ClusterInfo(const consensus::RaftNode& raft) : raft_(raft) {}

  bool KnownLeader() const;
  // Raft address of the leader, "" if none is known.
  std::string LeaderAddress() const;
  uint64_t LastContactMs() const;
  bool IsLeader() const;
  std::vector<std::string> PeerAddresses() const;

 private:
  const consensus::RaftNode& raft_;
};

}  // namespace sider::server
