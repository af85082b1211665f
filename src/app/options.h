// Command-line options of the `sider` binary and the server composition
// root that turns them into running modules.
//
// Thread safety: RunServer is called once from main() and blocks until
// SIGINT/SIGTERM; it owns every thread it starts and joins them all.
#pragma once

#include <string>

namespace sider::app {

struct ServerOptions {
  std::string node_name;
  std::string data_dir = "./sider-data";
  std::string http_addr = "127.0.0.1:8500";
  std::string raft_addr = "127.0.0.1:8300";
  std::string datacenter = "dc1";
  std::string log_level = "info";
  bool bootstrap = false;
  unsigned io_threads = 0;  // 0: one per core.
};

// Returns the process exit code.
int RunServer(const ServerOptions& options);

}  // namespace sider::app
