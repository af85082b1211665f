#include "server/cluster_info.h"

#include <charconv>

#include "consensus/raft_node.h"
#include "store/catalog_store.h"

namespace sider::server {

ClusterInfo::ClusterInfo(const consensus::RaftNode& raft,
                         const store::CatalogStore& catalog,
                         const NodeIdentity& self, const Clock& clock)
    : raft_(raft), catalog_(catalog), self_(self), clock_(clock) {
  WriterLock lock(&mu_);
  known_[self_.raft_address] = Known{self_.name, SelfHttpAddress(), {}};
}

std::string ClusterInfo::SelfHttpAddress() const {
  return self_.address + ":" + std::to_string(self_.http_port);
}

bool ClusterInfo::KnownLeader() const { return !raft_.LeaderAddress().empty(); }
std::string ClusterInfo::LeaderAddress() const { return raft_.LeaderAddress(); }
uint64_t ClusterInfo::LastContactMs() const { return raft_.LastContactMs(); }
bool ClusterInfo::IsLeader() const { return raft_.IsLeader(); }
uint64_t ClusterInfo::AppliedIndex() const { return raft_.AppliedIndex(); }

std::string ClusterInfo::LeaderHttpAddress() const {
  if (raft_.IsLeader()) return SelfHttpAddress();
  const std::string leader = raft_.LeaderAddress();
  if (leader.empty()) return "";
  if (leader == self_.raft_address) return SelfHttpAddress();
  ReaderLock lock(&mu_);
  auto it = known_.find(leader);
  return it == known_.end() ? "" : it->second.http_address;
}

std::vector<std::string> ClusterInfo::PeerAddresses() const {
  std::vector<std::string> out;
  for (const auto& p : raft_.Peers()) {
    if (p.voter) out.push_back(p.address);
  }
  return out;
}

ServerInfo ClusterInfo::Describe(uint64_t id, const std::string& raft_address,
                                 bool voter, const std::string& leader_address,
                                 Clock::TimePoint now) const {
  ServerInfo s;
  s.raft_id = id;
  s.raft_address = raft_address;
  s.voter = voter;
  s.leader = !leader_address.empty() && leader_address == raft_address;
  s.self = id == raft_.Id();
  if (auto it = known_.find(raft_address); it != known_.end()) {
    s.node = it->second.node;
    s.http_address = it->second.http_address;
    s.alive = it->second.last_ok != Clock::TimePoint{} &&
              now - it->second.last_ok <= kAliveWindow;
  }
  if (s.self) {
    s.alive = true;
  } else if (s.leader && !raft_.IsLeader() &&
             raft_.LastContactMs() <=
                 static_cast<uint64_t>(kAliveWindow.count())) {
    s.alive = true;
  }
  return s;
}

std::vector<ServerInfo> ClusterInfo::Servers() const {
  const auto peers = raft_.Peers();
  const std::string leader = raft_.LeaderAddress();
  const auto now = clock_.Now();
  std::vector<ServerInfo> out;
  ReaderLock lock(&mu_);
  for (const auto& p : peers) {
    out.push_back(Describe(p.id, p.address, p.voter, leader, now));
  }
  return out;
}

std::optional<ServerInfo> ClusterInfo::ServerByRaftAddress(
    std::string_view address) const {
  for (ServerInfo& s : Servers()) {
    if (s.raft_address == address) return std::move(s);
  }
  return std::nullopt;
}

std::optional<ServerInfo> ClusterInfo::ServerById(uint64_t raft_id) const {
  for (ServerInfo& s : Servers()) {
    if (s.raft_id == raft_id) return std::move(s);
  }
  return std::nullopt;
}

std::optional<ServerInfo> ClusterInfo::FindServer(
    std::string_view name_id_or_address) const {
  const std::string_view key = name_id_or_address;
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  const bool numeric = ec == std::errc() && end == key.data() + key.size();
  for (ServerInfo& s : Servers()) {
    if ((numeric && s.raft_id == id) || s.raft_address == key ||
        (!s.node.empty() && s.node == key)) {
      return std::move(s);
    }
  }
  return std::nullopt;
}

void ClusterInfo::Remember(std::string_view raft_address, std::string node,
                           std::string http_address) {
  if (raft_address.empty()) return;
  WriterLock lock(&mu_);
  auto it = known_.find(raft_address);
  if (it == known_.end()) {
    it = known_.emplace(std::string(raft_address), Known{}).first;
  }
  if (!node.empty()) it->second.node = std::move(node);
  if (!http_address.empty()) it->second.http_address = std::move(http_address);
}

void ClusterInfo::RefreshFromCatalog() {
  auto nodes = catalog_.Nodes(nullptr);
  {
    ReaderLock lock(&mu_);
    if (nodes.index == catalog_index_) return;
  }
  WriterLock lock(&mu_);
  catalog_index_ = nodes.index;
  for (const structs::Node& n : nodes.value) {
    auto role = n.meta.find(kMetaRole);
    auto raft = n.meta.find(kMetaRaftAddr);
    auto http = n.meta.find(kMetaHttpAddr);
    if (role == n.meta.end() || role->second != "server" ||
        raft == n.meta.end() || raft->second.empty()) {
      continue;
    }
    Known& k = known_[raft->second];
    k.node = n.name;
    if (http != n.meta.end() && !http->second.empty()) {
      k.http_address = http->second;
    }
  }
}

void ClusterInfo::RecordContact(std::string_view raft_address, bool reachable) {
  const auto now = clock_.Now();
  WriterLock lock(&mu_);
  auto it = known_.find(raft_address);
  if (it == known_.end()) {
    it = known_.emplace(std::string(raft_address), Known{}).first;
  }
  if (reachable) {
    it->second.last_ok = now;
  }
}

}  // namespace sider::server
