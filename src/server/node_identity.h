// NodeIdentity: who this server is in the catalog (Consul's agent/self
// Config and Member). Filled once at start-up by app/ and read-only after.
//
// Thread safety: an immutable value after construction.
#pragma once

#include <string>

namespace sider::server {

struct NodeIdentity {
  std::string name;        // Node name in the catalog.
  std::string id;          // UUID, persisted in the data dir.
  std::string address;     // Advertised address (host of the HTTP address).
  std::string datacenter = "dc1";
  std::string raft_address;
  uint16_t http_port = 8500;
  std::string version;
};

}  // namespace sider::server
