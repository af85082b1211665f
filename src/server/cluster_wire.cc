// The JSON of /v1/internal/cluster/hello and /join (ClusterMembership's
// Encode*/Decode*). Raft ids travel as decimal strings: they use all 64
// bits, beyond what JSON numbers carry safely in many clients.
#include <nlohmann/json.hpp>

#include "server/cluster_membership.h"

namespace sider::server {

using nlohmann::json;
using Peer = consensus::RaftNode::Peer;

std::string ClusterMembership::EncodeHello(const HelloInfo& h) {
  json servers = json::array();
  for (const Peer& p : h.servers) {
    servers.push_back({{"ID", std::to_string(p.id)},
                       {"Address", p.address},
                       {"Voter", p.voter}});
  }
  return json{{"Node", h.node},
              {"NodeID", h.node_id},
              {"RaftID", std::to_string(h.raft_id)},
              {"RaftAddress", h.raft_address},
              {"HTTPAddress", h.http_address},
              {"Datacenter", h.datacenter},
              {"HasState", h.has_state},
              {"Voter", h.voter},
              {"BootstrapExpect", h.bootstrap_expect},
              {"Leader", h.leader_address},
              {"LeaderHTTPAddress", h.leader_http_address},
              {"Servers", servers}}
      .dump();
}

Result<HelloInfo> ClusterMembership::DecodeHello(std::string_view text) {
  try {
    const json j = json::parse(text);
    HelloInfo h;
    h.node = j.at("Node").get<std::string>();
    h.node_id = j.value("NodeID", "");
    h.raft_id = std::stoull(j.at("RaftID").get<std::string>());
    h.raft_address = j.at("RaftAddress").get<std::string>();
    h.http_address = j.value("HTTPAddress", "");
    h.datacenter = j.value("Datacenter", "");
    h.has_state = j.value("HasState", false);
    h.voter = j.value("Voter", true);
    h.bootstrap_expect = j.value("BootstrapExpect", 0u);
    h.leader_address = j.value("Leader", "");
    h.leader_http_address = j.value("LeaderHTTPAddress", "");
    for (const json& s : j.value("Servers", json::array())) {
      h.servers.push_back(Peer{std::stoull(s.at("ID").get<std::string>()),
                               s.at("Address").get<std::string>(),
                               s.value("Voter", true)});
    }
    return h;
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("hello: ") + e.what());
  }
}

std::string ClusterMembership::EncodeJoin(const JoinRequest& r) {
  return json{{"Node", r.node},
              {"NodeID", r.node_id},
              {"RaftID", std::to_string(r.raft_id)},
              {"RaftAddress", r.raft_address},
              {"HTTPAddress", r.http_address},
              {"Address", r.address},
              {"Datacenter", r.datacenter},
              {"Voter", r.voter}}
      .dump();
}

Result<JoinRequest> ClusterMembership::DecodeJoin(std::string_view text) {
  try {
    const json j = json::parse(text);
    JoinRequest r;
    r.node = j.at("Node").get<std::string>();
    r.node_id = j.value("NodeID", "");
    r.raft_id = std::stoull(j.at("RaftID").get<std::string>());
    r.raft_address = j.at("RaftAddress").get<std::string>();
    r.http_address = j.value("HTTPAddress", "");
    r.address = j.value("Address", "");
    r.datacenter = j.value("Datacenter", "");
    r.voter = j.value("Voter", true);
    return r;
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("join: ") + e.what());
  }
}

}  // namespace sider::server
