// sider-loadgen: the load generator of bench/run. One binary, one
// subcommand per workload, every system behind the same flags:
//
//   sider-loadgen register|heartbeat|discover --system sider|etcd|zk
//       --endpoints 127.0.0.1:8500[,...] --clients 64 --duration 10
//       [--count N] [--stale] [--threads 1] [--ack-log FILE] [--hold]
//   sider-loadgen watch-park --system S --endpoints E --watchers K
//       --name fanout --out FILE
//   sider-loadgen watch-trigger --system S --endpoints E --name fanout
//   sider-loadgen fanout-floor --watchers K [--port P] [--threads 2]
//       [--body-bytes 814]   (the machine's floor, see fanout_floor.h)
//
// Each prints one "RESULT key=value ..." line (see run_stats.h) and exits
// non-zero on failure with the reason on stderr.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "fanout_floor.h"
#include "http_driver.h"
#include "watch.h"
#include "workload.h"
#include "zk_driver.h"

namespace sider::bench {
namespace {

struct Flags {
  std::string system = "sider";
  std::string endpoints;
  unsigned clients = 64;
  unsigned threads = 1;
  uint64_t count = UINT64_MAX;
  double duration_s = 10;
  unsigned timeout_ms = 5000;
  unsigned zk_sessions = 8;
  std::string ack_log;
  bool hold = false;
  WorkloadOptions wo;
  WatchOptions watch;
  std::string watch_system = "sider";
  std::string watch_endpoints;
  double watch_timeout_s = 60;
  FloorOptions floor;
  double floor_timeout_s = 60;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "sider-loadgen: %s\n", s.message().c_str());
  return 1;
}

Status WriteAcks(const std::string& path, const RunStats& stats) {
  std::ofstream f(path);
  for (const AckTimes& a : stats.acks) f << a.sent_ns << ' ' << a.acked_ns << '\n';
  f.close();
  if (!f) return Status(Code::kInternal, "cannot write " + path);
  return Status();
}

// Keeps the process (and so ZooKeeper's sessions) alive until the harness
// closes our stdin: the scale workload measures servers holding the data.
void HoldUntilStdinCloses() {
  std::printf("HOLDING\n");
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
}

int RunWorkload(const Flags& f, const std::string& name) {
  auto system = ParseSystem(f.system);
  if (!system.ok()) return Fail(system.status());
  auto workload = ParseWorkload(name);
  if (!workload.ok()) return Fail(workload.status());
  auto endpoints = ParseEndpoints(f.endpoints);
  if (!endpoints.ok()) return Fail(endpoints.status());
  DriverOptions o;
  o.endpoints = *endpoints;
  o.clients = f.clients;
  o.threads = f.threads;
  o.count = f.count;
  o.duration = std::chrono::milliseconds(static_cast<int64_t>(f.duration_s * 1000));
  o.timeout = std::chrono::milliseconds(f.timeout_ms);
  o.record_acks = !f.ack_log.empty();

  const double cpu0 = ProcessCpuSeconds();
  Result<DriverResult> result = Status(Code::kInternal, "not run");
  ZkResult held;  // Keeps --hold sessions open until we return.
  if (*system == System::kZk) {
    auto zk = RunZk(*workload, f.wo, o, f.zk_sessions, f.hold);
    if (!zk.ok()) return Fail(zk.status());
    held = std::move(zk).value();
    result = std::move(held.run);
  } else {
    auto w = *system == System::kSider ? MakeSiderWorkload(*workload, f.wo)
                                       : MakeEtcdWorkload(*workload, f.wo);
    if (!w.ok()) return Fail(w.status());
    result = RunHttp(**w, o);
  }
  if (!result.ok()) return Fail(result.status());
  PrintResult(f.system, name, result->stats, result->seconds,
              ProcessCpuSeconds() - cpu0);
  if (o.record_acks) {
    if (Status s = WriteAcks(f.ack_log, result->stats); !s.ok()) return Fail(s);
  }
  if (f.hold) HoldUntilStdinCloses();
  return result->stats.ops > 0 ? 0 : Fail(Status(Code::kInternal, "no operation succeeded"));
}

int RunWatch(Flags f, bool park) {
  auto system = ParseSystem(f.watch_system);
  if (!system.ok()) return Fail(system.status());
  auto endpoints = ParseEndpoints(f.watch_endpoints);
  if (!endpoints.ok()) return Fail(endpoints.status());
  f.watch.system = *system;
  f.watch.endpoints = *endpoints;
  f.watch.timeout = std::chrono::milliseconds(static_cast<int64_t>(f.watch_timeout_s * 1000));
  Status s = park ? ParkWatchers(f.watch) : TriggerChange(f.watch);
  return s.ok() ? 0 : Fail(s);
}

void AddWorkloadFlags(CLI::App* cmd, Flags& f) {
  cmd->add_option("--system", f.system, "sider, etcd or zk")->capture_default_str();
  cmd->add_option("--endpoints", f.endpoints, "host:port[,host:port...]")->required();
  cmd->add_option("--clients", f.clients, "Concurrent clients (connections or ZK slots)")->capture_default_str();
  cmd->add_option("--threads", f.threads, "Asio I/O threads")->capture_default_str();
  cmd->add_option("--count", f.count, "Stop after this many operations");
  cmd->add_option("--duration", f.duration_s, "Stop after this many seconds")->capture_default_str();
  cmd->add_option("--timeout-ms", f.timeout_ms, "Per-request timeout")->capture_default_str();
  cmd->add_option("--prefix", f.wo.prefix, "Names this run's data apart")->capture_default_str();
  cmd->add_option("--pool", f.wo.pool, "heartbeat: instances renewed in turn")->capture_default_str();
  cmd->add_option("--instances", f.wo.instances, "discover: instances of the service")->capture_default_str();
  cmd->add_option("--ttl", f.wo.ttl_s, "TTL of each instance, seconds")->capture_default_str();
  cmd->add_flag("--stale", f.wo.stale, "discover: Sider ?stale, etcd serializable, ZK without sync");
  cmd->add_option("--zk-sessions", f.zk_sessions, "ZooKeeper sessions the clients share")->capture_default_str();
  cmd->add_option("--ack-log", f.ack_log, "Write 'sent_ns acked_ns' per acknowledged operation");
  cmd->add_flag("--hold", f.hold, "After the run, keep sessions open until stdin closes");
}

void AddWatchFlags(CLI::App* cmd, Flags& f, bool park) {
  cmd->add_option("--system", f.watch_system, "sider, etcd or zk")->capture_default_str();
  cmd->add_option("--endpoints", f.watch_endpoints, "host:port[,host:port...]")->required();
  cmd->add_option("--name", f.watch.name, "Service / prefix watched")->capture_default_str();
  if (!park) return;
  cmd->add_option("--watchers", f.watch.watchers, "Watchers to park")->capture_default_str();
  cmd->add_option("--timeout", f.watch_timeout_s, "Seconds for the whole run")->capture_default_str();
  cmd->add_option("--out", f.watch.out_path, "File for the notification times")->required();
}

}  // namespace
}  // namespace sider::bench

int main(int argc, char** argv) {
  using namespace sider::bench;
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"sider-loadgen: registry workloads against Sider, etcd and ZooKeeper"};
  app.require_subcommand(1);
  Flags f;
  std::string chosen;
  for (const char* name : {"register", "heartbeat", "discover"}) {
    auto* cmd = app.add_subcommand(name, std::string("Closed-loop ") + name + " workload");
    AddWorkloadFlags(cmd, f);
    cmd->callback([&chosen, name] { chosen = name; });
  }
  auto* park = app.add_subcommand("watch-park", "Park watchers, report notification times");
  AddWatchFlags(park, f, true);
  auto* trigger = app.add_subcommand("watch-trigger", "Change the watched service once");
  AddWatchFlags(trigger, f, false);
  auto* floor = app.add_subcommand(
      "fanout-floor", "Hold K parked requests, then answer them all as cheaply as possible");
  floor->add_option("--watchers", f.floor.watchers, "Requests to hold")->capture_default_str();
  floor->add_option("--port", f.floor.port, "Listen port on 127.0.0.1 (0: any)")->capture_default_str();
  floor->add_option("--threads", f.floor.threads, "Sending threads")->capture_default_str();
  floor->add_option("--body-bytes", f.floor.body_bytes, "Reply body size")->capture_default_str();
  floor->add_option("--timeout", f.floor_timeout_s, "Seconds to wait for the watchers")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (park->parsed()) return RunWatch(f, true);
  if (trigger->parsed()) return RunWatch(f, false);
  if (floor->parsed()) {
    f.floor.timeout = std::chrono::milliseconds(static_cast<int64_t>(f.floor_timeout_s * 1000));
    sider::Status s = RunFanoutFloor(f.floor);
    return s.ok() ? 0 : Fail(s);
  }
  return RunWorkload(f, chosen);
}
