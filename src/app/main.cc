// main(): the `sider` command line. Subcommands: dev, server, version,
// members, operator raft list-peers|remove-peer|transfer-leader.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <tuple>

#include "app/options.h"
#include "app/version.h"
#include "cli/commands.h"
#include "cli/snapshot_cmd.h"
#include "base/duration.h"

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

  // Consul's session_ttl_min; tests lower it to see sessions expire fast.
  std::string dev_ttl_min = "10s";
  dev_cmd->add_option("--session-ttl-min", dev_ttl_min,
                      "Shortest session TTL accepted (Go duration)")
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

  server_cmd->add_option("--bootstrap-expect", server.bootstrap_expect,
                         "Bootstrap a new cluster once this many servers "
                         "(found through --join) are up; the same N on each");
  server_cmd->add_option("--join", server.join,
                         "HTTP address of another server (repeatable); "
                         "retried with backoff until this server is a member");
  server_cmd->add_flag("--non-voter", server.non_voter,
                       "Join as a non-voting read replica (a Raft standby)");
  server_cmd->add_flag("--forward-reads", server.forward_reads,
                       "On a follower, forward default-mode reads to the "
                       "leader instead of serving them after a read index");
  std::string election_timeout = "300ms", heartbeat_timeout = "30ms",
              reconnect_delay = "150ms", leader_loss_stagger = "20ms",
              node_ttl = "5s",
              node_heartbeat_interval = "1s";
  server_cmd->add_option("--raft-election-timeout", election_timeout,
                         "Raft election timeout (Go duration)")
      ->capture_default_str();
  server_cmd->add_option("--raft-heartbeat-timeout", heartbeat_timeout,
                         "Raft heartbeat interval (Go duration)")
      ->capture_default_str();
  server_cmd->add_option("--raft-reconnect-delay", reconnect_delay,
                         "Delay between Raft reconnection attempts (Go "
                         "duration)")
      ->capture_default_str();

  server_cmd->add_option("--raft-leader-loss-stagger", leader_loss_stagger,
                         "On a refused connection to the leader, start an "
                         "election after this times the follower's rank "
                         "instead of the election timeout; 0 turns it off "
                         "(Go duration)")
      ->capture_default_str();
  server_cmd->add_option("--node-ttl", node_ttl,
                         "How long the leader waits for a server's heartbeat "
                         "before marking its checks critical (Go duration)")
      ->capture_default_str();
  server_cmd->add_option("--node-heartbeat-interval", node_heartbeat_interval,
                         "How often a server reports to the leader (Go "
                         "duration)")
      ->capture_default_str();

  server_cmd->add_option("--raft-snapshot-threshold",
                         server.raft_snapshot_threshold,
                         "Raft log entries between snapshots (lower values "
                         "are for tests)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  server_cmd->add_option("--raft-snapshot-trailing",
                         server.raft_snapshot_trailing,
                         "Raft log entries kept after a snapshot (lower "
                         "values are for tests)")
      ->capture_default_str();

  std::string server_ttl_min = "10s";
  server_cmd->add_option("--session-ttl-min", server_ttl_min,
                         "Shortest session TTL accepted (Go duration)")
      ->capture_default_str();

  app.add_subcommand("version", "Print the version")->callback([] {
    std::printf("Sider v%s\n", sider::app::kVersion);
  });

  // Client commands over the HTTP API (cli/commands.h).
  std::string cli_http_addr = "127.0.0.1:8500";
  auto* members_cmd = app.add_subcommand(
      "members", "List the servers of the cluster and their status");
  members_cmd->add_option("--http-addr", cli_http_addr,
                          "HTTP API address of a server")
      ->capture_default_str();
  auto* operator_cmd =
      app.add_subcommand("operator", "Cluster operator commands");
  operator_cmd->require_subcommand(1);
  auto* raft_cmd = operator_cmd->add_subcommand(
      "raft", "Inspect and change the Raft configuration");
  raft_cmd->require_subcommand(1);
  raft_cmd->add_option("--http-addr", cli_http_addr,
                       "HTTP API address of a server")
      ->capture_default_str();
  auto* list_peers_cmd = raft_cmd->add_subcommand(
      "list-peers", "Show the Raft configuration");
  std::string peer_id, peer_address;
  auto* remove_peer_cmd = raft_cmd->add_subcommand(
      "remove-peer", "Remove a server from the Raft configuration");
  remove_peer_cmd->add_option("--id,-i", peer_id,
                              "Raft ID (or node name) of the server");
  remove_peer_cmd->add_option("--address,-a", peer_address,
                              "Raft address (host:port) of the server");
  std::string transfer_id;
  auto* transfer_cmd = raft_cmd->add_subcommand(
      "transfer-leader", "Hand leadership to another voter");
  transfer_cmd->add_option("--id,-i", transfer_id,
                           "Raft ID (or node name) of the new leader "
                           "(default: any up-to-date voter)");
  for (auto* c : {list_peers_cmd, remove_peer_cmd, transfer_cmd}) {
    c->add_option("--http-addr", cli_http_addr,
                  "HTTP API address of a server")
        ->capture_default_str();
  }

  // Backups (cli/snapshot_cmd.h, docs/backup.md).
  auto* snapshot_cmd =
      app.add_subcommand("snapshot", "Save, restore and inspect backups");
  snapshot_cmd->require_subcommand(1);
  std::string snapshot_file;
  bool snapshot_stale = false;
  auto* snap_save_cmd = snapshot_cmd->add_subcommand(
      "save", "Save the whole state to FILE (verified)");
  snap_save_cmd->add_flag("--stale", snapshot_stale,
                          "Let any server answer from its own state");
  auto* snap_restore_cmd = snapshot_cmd->add_subcommand(
      "restore", "Replace the whole state with FILE, on every server");
  auto* snap_inspect_cmd = snapshot_cmd->add_subcommand(
      "inspect", "Verify FILE and print its index, term and table sizes");
  for (auto* c : {snap_save_cmd, snap_restore_cmd, snap_inspect_cmd}) {
    c->add_option("file", snapshot_file, "Snapshot archive")->required();
    if (c != snap_inspect_cmd) {
      c->add_option("--http-addr", cli_http_addr,
                    "HTTP API address of a server")
          ->capture_default_str();
    }
  }

  CLI11_PARSE(app, argc, argv);

  if (snap_save_cmd->parsed()) {
    return sider::cli::SnapshotSave(cli_http_addr, snapshot_file,
                                    snapshot_stale);
  }
  if (snap_restore_cmd->parsed()) {
    return sider::cli::SnapshotRestore(cli_http_addr, snapshot_file);
  }
  if (snap_inspect_cmd->parsed()) {
    return sider::cli::SnapshotInspect(snapshot_file);
  }

  if (members_cmd->parsed()) return sider::cli::Members(cli_http_addr);
  if (list_peers_cmd->parsed()) return sider::cli::ListPeers(cli_http_addr);
  if (remove_peer_cmd->parsed()) {
    return sider::cli::RemovePeer(cli_http_addr, peer_id, peer_address);
  }
  if (transfer_cmd->parsed()) {
    return sider::cli::TransferLeader(cli_http_addr, transfer_id);
  }

  for (auto [text, out, flag] :
       {std::tuple{&election_timeout, &server.raft_election_timeout,
                   "--raft-election-timeout"},
        std::tuple{&heartbeat_timeout, &server.raft_heartbeat_timeout,
                   "--raft-heartbeat-timeout"},
        std::tuple{&reconnect_delay, &server.raft_reconnect_delay,
                   "--raft-reconnect-delay"},
        std::tuple{&node_ttl, &server.node_ttl, "--node-ttl"},
        std::tuple{&node_heartbeat_interval, &server.node_heartbeat_interval,
                   "--node-heartbeat-interval"}}) {
    auto d = sider::ParseGoDuration(*text);
    if (!d.ok() || d->count() <= 0) {
      std::fprintf(stderr, "%s: invalid duration \"%s\"\n", flag,
                   text->c_str());
      return 2;
    }
    *out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (auto d = sider::ParseGoDuration(leader_loss_stagger);
      !d.ok() || d->count() < 0) {
    std::fprintf(stderr,
                 "--raft-leader-loss-stagger: invalid duration \"%s\"\n",
                 leader_loss_stagger.c_str());
    return 2;
  } else {
    server.raft_leader_loss_stagger =
        std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (server.node_heartbeat_interval >= server.node_ttl) {
    std::fprintf(stderr,
                 "--node-heartbeat-interval must be below --node-ttl\n");
    return 2;
  }
  if (server.raft_heartbeat_timeout >= server.raft_election_timeout) {
    std::fprintf(stderr,
                 "--raft-heartbeat-timeout must be below "
                 "--raft-election-timeout\n");
    return 2;
  }

  for (auto [text, out] : {std::pair{&dev_ttl_min, &dev.session_ttl_min},
                           std::pair{&server_ttl_min, &server.session_ttl_min}}) {
    auto d = sider::ParseGoDuration(*text);
    if (!d.ok() || d->count() <= 0) {
      std::fprintf(stderr, "--session-ttl-min: invalid duration \"%s\"\n",
                   text->c_str());
      return 2;
    }
    *out = *d;
  }

  if (dev_cmd->parsed()) {
    dev.bootstrap = true;
    return sider::app::RunServer(dev);
  }
  if (server_cmd->parsed()) return sider::app::RunServer(server);
  return 0;
}
