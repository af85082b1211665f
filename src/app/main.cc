// main(): the `sider` command line. Subcommands: dev, server, version.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "app/options.h"
#include "app/version.h"

int main(int argc, char** argv) {
  CLI::App app{"Sider: a service registry and coordination service that "
               "speaks Consul's HTTP API"};
  app.require_subcommand(1);

  sider::app::ServerOptions dev;
  auto* dev_cmd = app.add_subcommand(
      "dev", "Run a single-node server (a Raft cluster of one) for "
             "development; data in ./sider-data");
  dev_cmd->add_option("--data-dir", dev.data_dir, "Data directory")
      ->capture_default_str();
  dev_cmd->add_option("--http-addr", dev.http_addr, "HTTP API address")
      ->capture_default_str();
  dev_cmd->add_option("--raft-addr", dev.raft_addr, "Raft transport address")
      ->capture_default_str();
  dev_cmd->add_option("--node", dev.node_name,
                      "Node name (default: the host name)");
  dev_cmd->add_option("--log-level", dev.log_level,
                      "trace, debug, info, warn, error")
      ->capture_default_str();

  sider::app::ServerOptions server;
  auto* server_cmd =
      app.add_subcommand("server", "Run a server: a member of a Raft cluster");
  server_cmd->add_option("--node", server.node_name, "Node name")->required();
  server_cmd->add_option("--data-dir", server.data_dir, "Data directory")
      ->required();
  server_cmd->add_option("--http-addr", server.http_addr, "HTTP API address")
      ->capture_default_str();
  server_cmd->add_option("--raft-addr", server.raft_addr,
                         "Raft transport address")
      ->capture_default_str();
  server_cmd->add_option("--datacenter", server.datacenter, "Datacenter name")
      ->capture_default_str();
  server_cmd->add_flag("--bootstrap", server.bootstrap,
                       "Bootstrap a new cluster with this server as its only "
                       "voter (ignored when the data dir has state)");
  server_cmd->add_option("--log-level", server.log_level,
                         "trace, debug, info, warn, error")
      ->capture_default_str();

  app.add_subcommand("version", "Print the version")->callback([] {
    std::printf("Sider v%s\n", sider::app::kVersion);
  });

  CLI11_PARSE(app, argc, argv);

  if (dev_cmd->parsed()) {
    dev.bootstrap = true;
    return sider::app::RunServer(dev);
  }
  if (server_cmd->parsed()) return sider::app::RunServer(server);
  return 0;
}
