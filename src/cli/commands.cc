#include "cli/commands.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/http_client.h"

namespace sider::cli {
namespace {

using nlohmann::json;

// Percent-encodes a query value.
std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        c == ':') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Runs a call; on failure prints "Error ...: <why>" and returns nullopt.
std::optional<CliReply> Call(const std::string& http_addr,
                             const std::string& method,
                             const std::string& target, const char* what) {
  auto r = HttpCall(http_addr, method, target);
  if (!r.ok()) {
    std::fprintf(stderr, "Error %s: %s\n", what, r.status().message().c_str());
    return std::nullopt;
  }
  if (r->status != 200) {
    std::fprintf(stderr, "Error %s: Unexpected response code: %u (%s)\n", what,
                 r->status, r->body.c_str());
    return std::nullopt;
  }
  return *r;
}

// Prints rows as columns separated by two spaces (Consul's columnize).
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); i++) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace

int Members(const std::string& http_addr) {
  auto r = Call(http_addr, "GET", "/v1/agent/members",
                "retrieving members");
  if (!r) return 1;
  try {
    std::vector<std::vector<std::string>> rows = {
        {"Node", "Address", "Status", "Type", "Build", "Protocol", "DC"}};
    for (const json& m : json::parse(r->body)) {
      const json tags = m.value("Tags", json::object());
      const int status = m.value("Status", 0);
      const char* status_name = status == 1   ? "alive"
                                : status == 2 ? "leaving"
                                : status == 3 ? "left"
                                : status == 4 ? "failed"
                                              : "none";
      rows.push_back({Str(m, "Name"),
                      Str(m, "Addr") + ":" + Str(m, "Port"), status_name,
                      Str(tags, "role") == "consul" ? "server" : "client",
                      Str(tags, "build"), Str(tags, "vsn"), Str(tags, "dc")});
    }
    PrintTable(rows);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error decoding members: %s\n", e.what());
    return 1;
  }
  return 0;
}

int ListPeers(const std::string& http_addr) {
  auto r = Call(http_addr, "GET", "/v1/operator/raft/configuration",
                "getting peers");
  if (!r) return 1;
  try {
    std::vector<std::vector<std::string>> rows = {
        {"Node", "ID", "Address", "State", "Voter", "RaftProtocol"}};
    const json conf = json::parse(r->body);
    for (const json& s : conf.at("Servers")) {
      rows.push_back({Str(s, "Node"), Str(s, "ID"), Str(s, "Address"),
                      s.value("Leader", false) ? "leader" : "follower",
                      s.value("Voter", false) ? "true" : "false",
                      Str(s, "ProtocolVersion")});
    }
    PrintTable(rows);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error decoding the configuration: %s\n", e.what());
    return 1;
  }
  return 0;
}

int RemovePeer(const std::string& http_addr, const std::string& id,
               const std::string& address) {
  if (id.empty() == address.empty()) {
    std::fprintf(stderr, "Error: give exactly one of -id or -address\n");
    return 1;
  }
  const std::string target =
      "/v1/operator/raft/peer?" +
      (id.empty() ? "address=" + Escape(address) : "id=" + Escape(id));
  if (!Call(http_addr, "DELETE", target, "removing peer")) return 1;
  std::printf("Removed peer with %s \"%s\"\n", id.empty() ? "address" : "id",
              id.empty() ? address.c_str() : id.c_str());
  return 0;
}

int TransferLeader(const std::string& http_addr, const std::string& id) {
  std::string target = "/v1/operator/raft/transfer-leader";
  if (!id.empty()) target += "?id=" + Escape(id);
  if (!Call(http_addr, "POST", target, "transferring leadership")) return 1;
  std::printf("Success\n");
  return 0;
}

}  // namespace sider::cli
