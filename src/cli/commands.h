// The client subcommands: each calls one server's HTTP API, prints what
// Consul's CLI prints for the same command, and returns the process exit
// code (0 ok, 1 the API or the connection failed, with a message on
// stderr).
//
// Threading: main thread of the CLI process; output to stdout/stderr.
#pragma once

#include <string>

namespace sider::cli {

// `sider members`: Node  Address  Status  Type  Build  Protocol  DC
int Members(const std::string& http_addr);
// `sider operator raft list-peers`:
// Node  ID  Address  State  Voter  RaftProtocol
int ListPeers(const std::string& http_addr);
// `sider operator raft remove-peer -id=ID | -address=ADDR`
int RemovePeer(const std::string& http_addr, const std::string& id,
               const std::string& address);
// `sider operator raft transfer-leader [-id=ID]`
int TransferLeader(const std::string& http_addr, const std::string& id);

}  // namespace sider::cli
