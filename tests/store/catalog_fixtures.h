// Builders for catalog commands used by the store and fsm tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "structs/catalog.h"

namespace sider::testutil {

inline structs::Node MakeNode(std::string name, std::string address = "10.0.0.1") {
  structs::Node n;
  n.name = std::move(name);
  n.address = std::move(address);
  n.datacenter = "dc1";
  return n;
}

inline structs::Service MakeService(std::string name, std::string id = "",
                                    std::vector<std::string> tags = {}) {
  structs::Service s;
  s.name = std::move(name);
  s.id = std::move(id);
  s.tags = std::move(tags);
  s.port = 8080;
  return s;
}

inline structs::Check MakeCheck(std::string id, structs::HealthStatus status,
                                std::string service_id = "") {
  structs::Check c;
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.status = status;
  c.service_id = std::move(service_id);
  return c;
}

// Registers `svc` (if any) on `node` with `checks`.
inline structs::RegisterCommand Reg(std::string node,
                                    std::optional<structs::Service> svc,
                                    std::vector<structs::Check> checks = {}) {
  structs::RegisterCommand cmd;
  cmd.node = MakeNode(std::move(node));
  cmd.service = std::move(svc);
  cmd.checks = std::move(checks);
  return cmd;
}

inline structs::DeregisterCommand Dereg(std::string node,
                                        std::string service_id = "",
                                        std::string check_id = "") {
  structs::DeregisterCommand cmd;
  cmd.node = std::move(node);
  cmd.service_id = std::move(service_id);
  cmd.check_id = std::move(check_id);
  return cmd;
}

inline structs::UpdateCheckCommand Update(std::string node, std::string check_id,
                                          structs::HealthStatus status,
                                          std::string output = "") {
  structs::UpdateCheckCommand cmd;
  cmd.node = std::move(node);
  cmd.check_id = std::move(check_id);
  cmd.status = status;
  cmd.output = std::move(output);
  return cmd;
}

}  // namespace sider::testutil
