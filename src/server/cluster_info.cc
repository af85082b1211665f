#include "server/cluster_info.h"

#include "consensus/raft_node.h"

namespace sider::server {

bool ClusterInfo::KnownLeader() const { return !raft_.LeaderAddress().empty(); }
std::string ClusterInfo::LeaderAddress() const { return raft_.LeaderAddress(); }
uint64_t ClusterInfo::LastContactMs() const { return raft_.LastContactMs(); }
bool ClusterInfo::IsLeader() const { return raft_.IsLeader(); }

std::vector<std::string> ClusterInfo::PeerAddresses() const {
  std::vector<std::string> out;
  for (const auto& p : raft_.Peers()) {
    if (p.voter) out.push_back(p.address);
  }
  return out;
}

}  // namespace sider::server
