#!/usr/bin/python3
"""bench/snapshot_stall.py: what Raft snapshots cost a loaded 3-member Sider.

Registers --count instances (sider-loadgen's register workload, bounded by
count and --timeout) on a fresh 3-member cluster, polls
/v1/status/leader every 50 ms meanwhile, and reports: registrations
acknowledged and failed, leader changes seen by the poller and logged by
the members, and each member's snapshot log lines (encode time and, with
background snapshots, the consensus thread's share and its longest loop
gap). Every process it starts is stopped by PID; loopback only.

  bench/snapshot_stall.py --sider-bin build/release/src/app/sider \\
      --loadgen build/release/bench/loadgen/sider-loadgen --count 500000
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness"))
import clusters  # noqa: E402
from procs import Procs  # noqa: E402
from workloads import parse_result  # noqa: E402


def poll_leader(cluster, stop, seen):
    """Appends (t, leader) whenever the answer of member 0 changes."""
    url = "http://%s:%d/v1/status/leader" % (clusters.HOST, cluster.members[0].client_port)
    last = None
    while not stop.is_set():
        try:
            _, body, _ = clusters.http("GET", url, timeout=2.0)
            leader = json.loads(body)
        except Exception:  # A busy member: count it as "no answer".
            leader = "?"
        if leader != last:
            seen.append((time.monotonic(), leader))
            last = leader
        stop.wait(0.05)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sider-bin", required=True)
    p.add_argument("--loadgen", required=True)
    p.add_argument("--count", type=int, default=500000)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--workdir", default=None)
    a = p.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sider-snapstall-")
    procs = Procs()
    clusters.SiderCluster.log_level = "info"
    cluster = clusters.SiderCluster(procs, workdir, 3, a.sider_bin)
    print("load average before:", open("/proc/loadavg").read().strip())
    try:
        cluster.start()
        stop, seen = threading.Event(), []
        poller = threading.Thread(target=poll_leader, args=(cluster, stop, seen))
        poller.start()
        argv = [a.loadgen, "register", "--system", "sider",
                "--endpoints", cluster.endpoints(), "--clients", str(a.clients),
                "--count", str(a.count), "--duration", str(a.timeout),
                "--ttl", "3600", "--prefix", "stall", "--threads", "2"]
        t0 = time.monotonic()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=a.timeout + 60)
        res = parse_result(out.stdout)
        stop.set()
        poller.join()
        print("load average after: ", open("/proc/loadavg").read().strip())
        print("registrations: %d acknowledged, %d failed, %.0f/s over %.1f s; "
              "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (res["ops"], res["errors"], res["ops_per_s"], time.monotonic() - t0,
                 res["p50_ms"], res["p99_ms"], res["max_ms"]))
        changes = [(round(t - t0, 1), l) for t, l in seen]
        print("leader answers of member 0 (s since load start, leader):", changes)
        for m in cluster.members:
            with open(m.log, errors="replace") as f:
                lines = f.read().splitlines()
            ready = [l for l in lines if "is now ready leader" in l]
            snaps = [l for l in lines if re.search(r"consensus: snapshot", l)]
            print("--- %s: %d 'now ready leader' lines, %d snapshot lines"
                  % (m.name, len(ready), len(snaps)))
            for l in ready + snaps[-8:]:
                print("   ", l)
        print("snapshot MiB:", cluster.snapshot_bytes() / 1024.0 ** 2)
    finally:
        cluster.stop()
        procs.stop_all()
    print("logs in", workdir)


if __name__ == "__main__":
    main()
