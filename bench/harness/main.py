"""bench/run: Sider side by side with etcd and ZooKeeper (docs/benchmarks.md).

Starts a cluster of each selected system on loopback, drives each workload
with sider-loadgen `--runs` times, prints Markdown tables of medians with
min–max and Sider/peer ratios, and writes them to --out. Every process it
starts is stopped by PID on exit, on failure, and on Ctrl-C / SIGTERM.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import clusters  # noqa: E402
import machine  # noqa: E402
import workloads as wl  # noqa: E402
from procs import Procs  # noqa: E402
from report import Table  # noqa: E402

ALL = ["register", "heartbeat", "discover", "fanout", "scale", "failover"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(ALL), help="comma list of " + ",".join(ALL))
    p.add_argument("--systems", default="sider,etcd,zk")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run")
    p.add_argument("--count", type=int, default=2_000_000, help="max operations per run")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--threads", type=int, default=1, help="loadgen I/O threads")
    p.add_argument("--pool", type=int, default=1000, help="heartbeat: instances renewed in turn")
    p.add_argument("--sider-nodes", type=int, default=3)
    p.add_argument("--fanout-k", default="1000,10000")
    p.add_argument("--scale-sizes", default="100000,1000000")
    p.add_argument("--scale-timeout", type=float, default=1800.0)
    p.add_argument("--failover-window", type=float, default=10.0)
    p.add_argument("--smoke", action="store_true",
                   help="1 s per workload, Sider only, one node, small K and sizes, 1 run")
    p.add_argument("--sider-bin", default=os.environ.get(
        "SIDER_BIN", os.path.join(REPO, "build/release/src/app/sider")))
    p.add_argument("--loadgen", default=os.environ.get("SIDER_LOADGEN"))
    p.add_argument("--out", default=os.path.join(REPO, "bench/results/latest.md"))
    a = p.parse_args(argv)
    if a.smoke:
        a.systems, a.runs, a.duration, a.sider_nodes = "sider", 1, 1.0, 1
        a.fanout_k, a.scale_sizes, a.failover_window = "200", "2000", 3.0
        a.pool = 50
    if a.loadgen is None:
        a.loadgen = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(a.sider_bin)))), "bench/loadgen/sider-loadgen")
    a.only = [w for w in a.only.split(",") if w]
    a.systems = [s for s in a.systems.split(",") if s]
    bad = [w for w in a.only if w not in ALL] + [s for s in a.systems if s not in clusters.SYSTEMS]
    if bad:
        p.error("unknown workload or system: %s" % ", ".join(bad))
    for path in (a.sider_bin, a.loadgen):
        if not os.access(path, os.X_OK):
            p.error("no executable at %s (build: cmake --build ... --target sider sider-loadgen)" % path)
    return a


class Ctx:
    """What every workload needs: options, paths, the Procs registry."""

    def __init__(self, a, procs, workdir):
        self.__dict__.update(vars(a))
        self.procs, self.workdir = procs, workdir
        self.fanout_timeout = 180.0


def fresh_cluster(ctx, a, system, notes):
    cluster = clusters.make(system, ctx.procs, ctx.workdir,
                            a.sider_nodes if system == "sider" else 3, a.sider_bin)
    cluster.start()
    notes.setdefault("clusters", {})[system] = (cluster.version(), cluster.settings())
    notes.setdefault("sizes", {})[system] = cluster.size
    return cluster


def attempt(what, fn):
    """One repetition; a failure is logged and leaves its figures blank."""
    try:
        return fn()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        log("%s FAILED: %s" % (what, str(e)[-1500:]))
        return None


THROUGHPUT_METRICS = (("ops/s", "ops_per_s"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
                      ("server CPU ms/op", "server_cpu_ms_per_op"),
                      ("loadgen CPU s", "loadgen_cpu_s"), ("errors", "errors"))
FANOUT_METRICS = (("write ms (sent→ack)", "write_ms"), ("p50 ms", "p50_ms"),
                  ("p99 ms", "p99_ms"), ("max ms", "max_ms"),
                  ("write sent → last notified ms", "sent_to_last_ms"), ("notified", "notified"),
                  ("server RSS before MiB", "rss_before_mib"),
                  ("server RSS parked MiB", "rss_parked_mib"))


def throughput(ctx, a, system, tables, notes):
    """register, heartbeat, discover (and its stale variant): each on a
    fresh cluster, so one workload's data does not slow the next."""
    plan = []
    for w in ("register", "heartbeat", "discover"):
        if w in a.only and not (w == "heartbeat" and system == "zk"):
            plan.append([(w, False)] + ([(w, True)] if w == "discover" else []))
    for group in plan:
        cluster = fresh_cluster(ctx, a, system, notes)
        try:
            for workload, stale in group:
                label = workload + (" (stale)" if stale else "")
                for run in range(a.runs):
                    r = attempt("%s %s run %d" % (system, label, run),
                                lambda: wl.run_throughput(ctx, cluster, workload, run, stale))
                    for metric, key in THROUGHPUT_METRICS:
                        tables["throughput"].add(label, metric, system, r and r[key])
                    log("%s %s run %d: %s" % (system, label, run, r))
        finally:
            cluster.stop()


def fanout(ctx, a, system, tables, notes):
    cluster = fresh_cluster(ctx, a, system, notes)
    try:
        for k in [int(x) for x in a.fanout_k.split(",")]:
            for run in range(a.runs):
                r = attempt("%s fanout K=%d run %d" % (system, k, run),
                            lambda: wl.run_fanout(ctx, cluster, k, run))
                for metric, key in FANOUT_METRICS:
                    tables["fanout"].add("K=%d" % k, metric, system, r and r[key])
                log("%s fanout K=%d run %d: %s" % (system, k, run, r))
    finally:
        cluster.stop()
    if system == "sider":
        fanout_floor(ctx, a, tables)


FLOOR_METRICS = (("first send → last notified ms", "max_ms"), ("p50 ms", "p50_ms"),
                 ("sending ms", "send_ms"), ("notified", "notified"))


def fanout_floor(ctx, a, tables):
    """The same watchers answered by a sender that does nothing else: what
    the kernel and the watcher processes cost on this machine."""
    for k in [int(x) for x in a.fanout_k.split(",")]:
        for run in range(a.runs):
            r = attempt("floor fanout K=%d run %d" % (k, run),
                        lambda: wl.run_fanout_floor(ctx, k, run))
            for metric, key in FLOOR_METRICS:
                tables["fanout_floor"].add("K=%d" % k, metric, "floor", r and r[key])
            log("floor fanout K=%d run %d: %s" % (k, run, r))


def scale(ctx, a, system, tables):
    t = tables["scale"]
    for n in [int(x) for x in a.scale_sizes.split(",")]:
        cluster = fresh_cluster(ctx, a, system, {})
        try:
            r = attempt("%s scale n=%d" % (system, n), lambda: wl.run_scale(ctx, cluster, n))
        finally:
            cluster.stop()
        if r is None:
            continue
        for metric, key in (("loaded", "loaded"), ("load ops/s", "load_ops_per_s"),
                            ("RSS bytes/instance (max member)", "rss_bytes_per_instance"),
                            ("discover ops/s with n loaded", "discover_ops_per_s"),
                            ("discover p99 ms with n loaded", "discover_p99_ms"),
                            ("snapshot MiB", "snapshot_mib"), ("restart-to-serving s", "restart_s")):
            t.add("n=%d" % n, metric, system, r[key])
        log("%s scale n=%d: %s" % (system, n, r))


def failover(ctx, a, system, tables):
    t = tables["failover"]
    for run in range(a.runs):
        cluster = clusters.make(system, ctx.procs, ctx.workdir, a.sider_nodes if system == "sider" else 3, a.sider_bin)
        if cluster.size < 3:
            log("%s: failover needs 3 members; this build runs %d" % (system, cluster.size))
            return
        cluster.start()
        try:
            r = attempt("%s failover run %d" % (system, run), lambda: wl.run_failover(ctx, cluster))
        finally:
            cluster.stop()
        if r is None:
            continue
        t.add("kill -9 leader", "first ack on new leader ms", system, r["failover_ms"])
        log("%s failover run %d: %s" % (system, run, r))


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def main(argv):
    a = parse_args(argv)
    procs = Procs()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tables = {
        "throughput": Table("Throughput and latency (%d clients, %g s per run)" % (a.clients, a.duration)),
        "fanout": Table("Watch fan-out: write acknowledged → watcher notified",
                        "Times are from the writer's receipt of its acknowledgement to each "
                        "watcher's notification; negative means the watcher heard first."),
        "fanout_floor": Table(
            "Fan-out floor of this machine (sider-loadgen fanout-floor)",
            "The same watcher processes, answered by a program that only writes "
            "a reply of Sider's size to each held socket from two threads; times "
            "from its first write.", systems=["floor"]),
        "scale": Table("Scale"),
        "failover": Table("Failover"),
    }
    notes = {"load_before": machine.loadavg()}
    with tempfile.TemporaryDirectory(prefix="sider-bench-") as workdir:
        ctx = Ctx(a, procs, workdir)
        try:
            for system in a.systems:
                throughput(ctx, a, system, tables, notes)
                if "fanout" in a.only:
                    fanout(ctx, a, system, tables, notes)
                if "scale" in a.only:
                    scale(ctx, a, system, tables)
                if "failover" in a.only:
                    failover(ctx, a, system, tables)
        finally:
            procs.stop_all()
    notes["load_after"] = machine.loadavg()
    text = machine.header(a, notes, notes.get("sizes", {}), "bench/run " + " ".join(shlex.quote(x) for x in argv))
    text += "\n".join(t.render(a.systems) for t in tables.values() if t.order)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    log("results written to %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
