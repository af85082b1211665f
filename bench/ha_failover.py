#!/usr/bin/env python3
"""High-availability figures of a 3-server Sider cluster on loopback
(the HA issue's figures; not run in CI).

  throughput  wrk -t2 -c64: durable registrations (PUT
              /v1/agent/service/register, a new instance per request) sent
              to the leader and to a follower (forwarded); health query of
              a 10-instance service (GET /v1/health/service/web?passing) in
              default (linearizable) and ?stale mode, on the leader and on a
              follower
  failover    kill -9 of the leader while 8 clients write through the other
              two servers: time from the SIGKILL to the first acknowledged
              write sent after it (so committed by the new leader); N
              trials, the old leader restarted and caught up between trials
  catchup     a follower kill -9'd while 100,000 writes (wrk, KV PUTs)
              commit; time from its restart to its applied index equal to
              the leader's

Usage: bench/ha_failover.py [--sider BIN] [--only throughput|failover|catchup]
                            [--trials 5] [--catchup-writes 100000]
                            [--duration 10]
Default binary: build/h-hatest-rel/src/app/sider (RelWithDebInfo). Prints
one `RESULT <figure> ...` line per figure, each with the load average at
that moment: the figures are only meaningful next to it on a shared machine.
Loopback only; every process started is stopped by its PID.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import requests  # noqa: E402

import cluster_lib  # noqa: E402
import sider_testlib as lib  # noqa: E402

WRK_REPORT = os.path.join(ROOT, "bench", "wrk", "report.lua")


def loadavg():
    with open("/proc/loadavg") as f:
        return "/".join(f.read().split()[:3])


def result(name, text):
    print("RESULT %-28s %s  [loadavg %s, %d cores]"
          % (name, text, loadavg(), os.cpu_count()), flush=True)


def note(text):
    print("# " + text, flush=True)


def put_ok(srv, key, value, timeout=5):
    try:
        r = srv.api.put("/v1/kv/" + key, data=value, timeout=timeout)
    except requests.RequestException:
        return False
    return r.status_code == 200 and r.text.strip() == "true"


def wait_writable(cluster, timeout=60):
    for s in cluster.running():
        lib.wait_until(lambda s=s: put_ok(s, "_ready/" + s.name, "1"),
                       timeout, desc="a write through %s" % s.name)


def wait_same_index(servers, timeout=120):
    def same():
        idx = {cluster_lib.applied_index(s) for s in servers}
        return len(idx) == 1 and idx.pop()
    return lib.wait_until(same, timeout, interval=0.05,
                          desc="equal applied indexes")


SERVER_ARGS = []  # --server-arg: extra flags for every server.


def make_cluster(binary, base, tag):
    c = cluster_lib.Cluster(binary, os.path.join(base, tag), 3,
                            extra_args=["--log-level", "warn"] + SERVER_ARGS)
    try:
        c.start()
        wait_writable(c)
    except BaseException:
        c.stop_all()
        raise
    return c


# ---- throughput (wrk) ---------------------------------------------------------

REGISTER_LUA = """
-- As bench/wrk/register.lua, with a run-specific ID prefix so that every
-- request registers a new instance.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local id = string.format("%s-%%d-%%d", tid, counter)
  local body = string.format(
    '{"Name":"bench-reg","ID":"%%s","Port":8080,"Tags":["v1"],' ..
    '"Check":{"TTL":"600s"}}', id)
  return wrk.format("PUT", "/v1/agent/service/register",
                    {["Content-Type"] = "application/json"}, body)
end
local bad = 0
function response(status, headers, body)
  if status ~= 200 and bad < 3 then
    bad = bad + 1
    io.stderr:write(string.format("non-200 answer %%d: %%s\\n", status, body))
  end
end
"""


def wrk(url, script, duration, tmp):
    """Runs wrk -t2 -c64; returns the RESULT fields (dict of str)."""
    with open(WRK_REPORT) as f:
        report = f.read()
    path = os.path.join(tmp, "wrk-%d.lua" % time.monotonic_ns())
    with open(path, "w") as f:
        f.write(script + "\n" + report)
    load = loadavg()
    p = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % duration, "--latency",
                        "-s", path, url], capture_output=True, text=True,
                       timeout=duration + 60)
    line = next((l for l in p.stdout.splitlines() if l.startswith("RESULT")),
                None)
    if line is None:
        raise RuntimeError("wrk failed: %s %s" % (p.stdout, p.stderr))
    for l in p.stderr.splitlines()[:6]:
        note("wrk: " + l)
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    fields["load_before"] = load
    return fields


def fmt(f):
    return ("%s req/s  p50 %s ms  p99 %s ms  errors %s (non2xx %s)  "
            "load before %s" % (f["rps"], f["p50_ms"], f["p99_ms"],
                                f["errors"], f["non2xx"], f["load_before"]))


def throughput(binary, base, duration, tmp):
    # Registrations and health reads on separate clusters: /v1/health/service
    # costs grow with the number of checks on the instances' node, and the
    # registration runs leave tens of thousands on the leader's and the
    # follower's nodes.
    cluster = make_cluster(binary, base, "register")
    try:
        leader = cluster.wait_leader()
        follower = [s for s in cluster.servers if s is not leader][0]
        note("leader %s, follower %s" % (leader.http_addr, follower.http_addr))
        for tag, srv in (("leader", leader), ("follower", follower)):
            script = REGISTER_LUA % ("reg-" + tag)
            result("register via %s" % tag,
                   fmt(wrk("http://" + srv.http_addr, script, duration, tmp)))
    finally:
        cluster.stop_all()
    cluster = make_cluster(binary, base, "health")
    try:
        leader = cluster.wait_leader()
        follower = [s for s in cluster.servers if s is not leader][0]
        for i in range(10):
            r = leader.api.put("/v1/agent/service/register", json={
                "Name": "web", "ID": "web-%d" % i, "Port": 8000 + i,
                "Tags": ["v1"],
                "Check": {"TTL": "600s", "Status": "passing"}}, timeout=10)
            assert r.status_code == 200, r.text
        for srv in cluster.servers:
            lib.wait_until(lambda srv=srv: len(srv.api.ok_json(
                "/v1/health/service/web?passing&stale")) == 10, 30,
                desc="10 passing instances on %s" % srv.name)
        for tag, srv in (("leader", leader), ("follower", follower)):
            for mode, query in (("default", "?passing"),
                                ("stale", "?passing&stale")):
                url = "http://%s/v1/health/service/web%s" % (srv.http_addr,
                                                           query)
                result("health %s via %s" % (mode, tag),
                       fmt(wrk(url, "", duration, tmp)))
    finally:
        cluster.stop_all()


# ---- failover ---------------------------------------------------------------

def failover(binary, base, trials):
    cluster = make_cluster(binary, base, "failover")
    times = []
    try:
        for trial in range(trials):
            leader = cluster.wait_leader()
            others = [s for s in cluster.servers if s is not leader]
            wait_same_index(cluster.servers)
            time.sleep(1.0)
            stop = threading.Event()
            acks = []  # (sent, acked)
            lock = threading.Lock()

            def writer(wid):
                sess = requests.Session()
                n = 0
                while not stop.is_set() and n < 10_000_000:
                    srv = others[(wid + n) % len(others)]
                    key = "ha/fo/%d/%d/%d" % (trial, wid, n)
                    n += 1
                    sent = time.monotonic()
                    try:
                        r = sess.put(srv.api.url("/v1/kv/" + key), data="x",
                                     timeout=5)
                    except requests.RequestException:
                        sess.close()
                        sess = requests.Session()
                        continue
                    if r.status_code == 200 and r.text.strip() == "true":
                        with lock:
                            acks.append((sent, time.monotonic()))
                sess.close()

            threads = [threading.Thread(target=writer, args=(w,), daemon=True)
                       for w in range(8)]
            for t in threads:
                t.start()
            lib.wait_until(lambda: len(acks) >= 100, 30,
                           desc="writes flowing")
            t_kill = time.monotonic()
            os.kill(leader.pid(), signal.SIGKILL)

            def first_after():
                with lock:
                    after = [a for s, a in acks if s >= t_kill]
                return min(after) if after else None
            first = lib.wait_until(first_after, 30, interval=0.01,
                                   desc="an acknowledged write after the kill")
            time.sleep(0.5)
            first = first_after()
            stop.set()
            for t in threads:
                t.join(timeout=15)
            took = first - t_kill
            times.append(took)
            new = cluster_lib.leader_among(others)
            note("trial %d: killed %s, new leader %s, first ack +%.3fs, "
                 "loadavg %s" % (trial + 1, leader.name,
                                 new.name if new else "?", took, loadavg()))
            leader.kill9()  # reap it
            leader.start(wait=False)
            cluster.wait_leader()
            wait_same_index(cluster.servers)
        result("failover first ack",
               "median %.3f s  max %.3f s  over %d trials: %s"
               % (statistics.median(times), max(times), len(times),
                  " ".join("%.3f" % t for t in times)))
    finally:
        cluster.stop_all()


# ---- catch-up ---------------------------------------------------------------

KV_PUT_LUA = """
-- As bench/wrk/kv_put.lua: a different 100-byte value every request.
local n = 100000
local i = 0
local pad = string.rep("x", 100)
function request()
  i = i + 1
  local body = string.format("%012d", i) .. string.sub(pad, 13)
  return wrk.format("PUT", "/v1/kv/catchup/" .. (i % n), nil, body)
end
"""


def catchup(binary, base, writes, tmp):
    cluster = make_cluster(binary, base, "catchup")
    try:
        leader = cluster.wait_leader()
        lagger = [s for s in cluster.servers if s is not leader][0]
        wait_same_index(cluster.servers)
        start_index = cluster_lib.applied_index(lagger)
        lagger.kill9()
        with open(WRK_REPORT) as f:
            report = f.read()
        path = os.path.join(tmp, "catchup.lua")
        with open(path, "w") as f:
            f.write(KV_PUT_LUA + "\n" + report)
        t0 = time.monotonic()
        p = subprocess.Popen(["wrk", "-t2", "-c64", "-d600s", "-s", path,
                              "http://" + leader.http_addr],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            lib.wait_until(lambda: cluster_lib.applied_index(leader)
                           - start_index >= writes, 600, interval=0.2,
                           desc="%d writes on the leader" % writes)
        finally:
            p.terminate()
            p.wait(timeout=30)
        write_secs = time.monotonic() - t0
        time.sleep(1.0)
        target = cluster_lib.applied_index(leader)
        note("%d entries written while %s was down, in %.1fs; leader at %d; "
             "loadavg %s" % (target - start_index, lagger.name, write_secs,
                             target, loadavg()))
        t0 = time.monotonic()
        lagger.start(wait=False)

        def caught_up():
            return cluster_lib.applied_index(lagger) >= \
                cluster_lib.applied_index(leader)
        lib.wait_until(caught_up, 300, interval=0.02,
                       desc="%s caught up" % lagger.name)
        took = time.monotonic() - t0
        snaps = sorted(f for f in os.listdir(os.path.join(lagger.data_dir,
                                                          "raft"))
                       if f.startswith("snapshot-") and
                       not f.endswith(".meta"))
        result("catch-up after %d writes" % (target - start_index),
               "%.2f s from restart to applied index == leader's (%d); "
               "lagger's snapshots now %s" % (took, target, snaps[-2:]))
    finally:
        cluster.stop_all()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sider", default=os.path.join(
        ROOT, "build", "h-hatest-rel", "src", "app", "sider"))
    ap.add_argument("--only", choices=["throughput", "failover", "catchup"])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--catchup-writes", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--keep", metavar="DIR",
                    help="put the clusters' dirs under DIR")
    ap.add_argument("--server-arg", action="append", default=[],
                    metavar="FLAG", help="extra flag for every server "
                    "(repeatable), e.g. --server-arg=--forward-reads")
    args = ap.parse_args()
    SERVER_ARGS.extend(args.server_arg)
    args.sider = os.path.abspath(args.sider)
    if not os.access(args.sider, os.X_OK):
        sys.exit("no sider binary at %s" % args.sider)
    note("3 servers on loopback, %d cores, loadavg %s at start (shared, "
         "noisy machine)" % (os.cpu_count(), loadavg()))
    if SERVER_ARGS:
        note("server flags: %s" % " ".join(SERVER_ARGS))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sider-ha-",
                                     dir=args.keep) as base:
        if args.keep:
            note("data dirs and logs under %s (removed at exit)" % base)
        if args.only in (None, "throughput"):
            throughput(args.sider, base, args.duration, base)
        if args.only in (None, "failover"):
            failover(args.sider, base, args.trials)
        if args.only in (None, "catchup"):
            catchup(args.sider, base, args.catchup_writes, base)


if __name__ == "__main__":
    main()
