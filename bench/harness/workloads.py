"""The six workloads of the benchmark issue, driven through sider-loadgen.

Contract: each run_* function takes a started cluster (or starts its own
when it must: scale and failover change or kill members), runs one
repetition and returns a dict of figures (floats; None where a figure does
not apply). Every child process goes through the cluster's Procs, so the
harness's cleanup stops it. Server CPU is the sum over live members of
utime+stime deltas from /proc; RSS is summed over members.
"""

import math
import os
import subprocess
import time

from procs import cpu_seconds, rss_kib, wait_until

WATCHERS_PER_PROCESS = {"sider": 2500, "etcd": 2500, "zk": 500}


def parse_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) if _num(v) else v
                    for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    raise RuntimeError("no RESULT line in loadgen output:\n" + text[-2000:])


def _num(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def server_cpu(cluster):
    return sum(cpu_seconds(p) for p in cluster.pids())


def server_rss_mib(cluster):
    return sum(rss_kib(p) for p in cluster.pids()) / 1024.0


def loadgen(ctx, args, timeout):
    """Runs sider-loadgen to completion; returns its parsed RESULT."""
    argv = [ctx.loadgen] + args
    if not args[0].startswith("watch-"):
        argv += ["--threads", str(ctx.threads)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                   r.stderr[-2000:]))
    return parse_result(r.stdout)


def run_throughput(ctx, cluster, workload, run, stale=False, duration=None):
    """register / heartbeat / discover: ops/s, p50, p99, CPU per op."""
    prefix = "%s%d%s" % (workload[:3], run, "s" if stale else "")
    duration = duration or ctx.duration
    args = [workload, "--system", cluster.system, "--endpoints", cluster.endpoints(),
            "--clients", str(ctx.clients), "--duration", str(duration),
            "--count", str(ctx.count), "--prefix", prefix, "--pool", str(ctx.pool)]
    if stale:
        args.append("--stale")
    c0 = server_cpu(cluster)
    res = loadgen(ctx, args, timeout=duration + 300)
    cpu = server_cpu(cluster) - c0
    ops = res["ops"]
    return {"ops_per_s": res["ops_per_s"], "p50_ms": res["p50_ms"],
            "p99_ms": res["p99_ms"], "errors": res["errors"],
            "server_cpu_ms_per_op": 1000.0 * cpu / ops if ops else None,
            "loadgen_cpu_s": res["loadgen_cpu_s"], "server_cpu_s": cpu,
            "secs": res["secs"]}


def thread_headroom():
    """Threads that may still be created in this PID namespace."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    used = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                used += len(os.listdir("/proc/%s/task" % d))
            except OSError:
                pass
    return pid_max - used


def park_watchers(ctx, system, endpoints, name, k):
    """Starts the watch-park processes for k watchers; returns them once
    every one has parked, with the number parked."""
    per = WATCHERS_PER_PROCESS[system]
    nproc = max(1, math.ceil(k / per))
    parks = []
    for i in range(nproc):
        n = k // nproc + (1 if i < k % nproc else 0)
        out = os.path.join(ctx.workdir, "%s-%s-%d.times" % (system, name, i))
        argv = [ctx.loadgen, "watch-park", "--system", system,
                "--endpoints", endpoints, "--name", name,
                "--watchers", str(n), "--timeout", str(ctx.fanout_timeout), "--out", out]
        p = ctx.procs.start(argv, out + ".log", stdout=subprocess.PIPE)
        parks.append((p, out))
    parked = 0
    for p, out in parks:
        line = p.stdout.readline().decode()
        if not line.startswith("PARKED"):
            p.wait(timeout=30)
            with open(out + ".log", errors="replace") as f:
                raise RuntimeError("watch-park said %r, exit %s: %s"
                                   % (line, p.returncode, f.read()[-500:]))
        parked += int(line.split()[1])
    return parks, parked


def notification_times(ctx, parks, origin_ns):
    """Waits for the watch-park processes; each notification in ms after
    origin_ns (signed), sorted."""
    times = []
    for p, out in parks:
        p.stdout.read()
        p.wait(timeout=ctx.fanout_timeout + 30)
        ctx.procs.forget(p)
        with open(out) as f:
            times += [(int(t) - origin_ns) / 1e6 for t in f if t.strip()]
    times.sort()
    return times


def pick(times, q):
    return times[min(len(times) - 1, int(math.ceil(q * len(times))) - 1)] if times else None


def run_fanout(ctx, cluster, k, run):
    """K parked watchers over several processes; one change; time from the
    write's acknowledgement to each notification. ZooKeeper watchers are a
    session each, two C-client threads per session: a K the PID space
    cannot hold is skipped (all figures None)."""
    if cluster.system == "zk" and 2 * k + 2000 > thread_headroom():
        return {"write_ms": None, "sent_to_last_ms": None, "p50_ms": None, "p99_ms": None, "max_ms": None,
                "parked": None, "notified": None, "rss_before_mib": None,
                "rss_parked_mib": None}
    name = "fan%d-%d" % (k, run)
    rss_before = server_rss_mib(cluster)
    parks, parked = park_watchers(ctx, cluster.system, cluster.endpoints(), name, k)
    time.sleep(1.0)  # Let the servers read the last requests.
    rss_parked = server_rss_mib(cluster)
    trig = loadgen(ctx, ["watch-trigger", "--system", cluster.system,
                         "--endpoints", cluster.endpoints(), "--name", name],
                   timeout=60)
    ack = trig["ack_ns"]
    # Signed: a watcher may hear of the change before the writer has read
    # its own acknowledgement.
    times = notification_times(ctx, parks, ack)
    sent_to_last = (times[-1] + (ack - trig["sent_ns"]) / 1e6) if times else None
    return {"write_ms": (ack - trig["sent_ns"]) / 1e6, "sent_to_last_ms": sent_to_last,
            "p50_ms": pick(times, 0.5), "p99_ms": pick(times, 0.99),
            "max_ms": times[-1] if times else None,
            "parked": parked, "notified": len(times),
            "rss_before_mib": rss_before, "rss_parked_mib": rss_parked}


def run_fanout_floor(ctx, k, run):
    """The machine's floor for the same fan-out: `sider-loadgen
    fanout-floor` holds the same K watchers (Sider's protocol) and writes
    each a reply of Sider's size from two threads, doing nothing else; time
    from its first send to each notification."""
    log = os.path.join(ctx.workdir, "floor-%d-%d.log" % (k, run))
    floor = ctx.procs.start([ctx.loadgen, "fanout-floor", "--watchers", str(k),
                             "--timeout", str(ctx.fanout_timeout)], log,
                            stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    try:
        line = floor.stdout.readline().decode()
        if not line.startswith("LISTENING"):
            raise RuntimeError("fanout-floor said %r" % line)
        endpoint = "127.0.0.1:%s" % line.split()[1]
        parks, parked = park_watchers(ctx, "sider", endpoint, "floor%d-%d" % (k, run), k)
        if not floor.stdout.readline().decode().startswith("PARKED"):
            raise RuntimeError("fanout-floor did not park %d" % k)
        time.sleep(1.0)
        floor.stdin.write(b"go\n")
        floor.stdin.flush()
        res = parse_result(floor.stdout.readline().decode())
        times = notification_times(ctx, parks, res["start_ns"])
    finally:
        floor.stdin.close()
        floor.wait(timeout=30)
        ctx.procs.forget(floor)
    return {"send_ms": (res["end_ns"] - res["start_ns"]) / 1e6,
            "p50_ms": pick(times, 0.5), "max_ms": times[-1] if times else None,
            "parked": parked, "notified": len(times)}


def run_scale(ctx, cluster, n):
    """Loads n instances (register workload, count-bounded) and holds them;
    RSS per instance, and for Sider the snapshot size and restart time."""
    rss0 = {m.name: rss_kib(m.pid) for m in cluster.live()}
    argv = [ctx.loadgen, "register", "--system", cluster.system,
            "--endpoints", cluster.endpoints(), "--clients", str(ctx.clients),
            "--count", str(n), "--duration", str(ctx.scale_timeout),
            "--ttl", "3600", "--prefix", "scale", "--hold",
            "--threads", str(ctx.threads)]
    log = os.path.join(ctx.workdir, "%s-scale-%d.log" % (cluster.system, n))
    p = ctx.procs.start(argv, log, stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    res = parse_result(p.stdout.readline().decode())
    p.stdout.readline()  # HOLDING
    time.sleep(2.0)
    per = [(rss_kib(m.pid) - rss0[m.name]) * 1024.0 / res["ops"] for m in cluster.live()]
    out = {"loaded": res["ops"], "load_ops_per_s": res["ops_per_s"],
           "rss_bytes_per_instance": max(per) if per else None,
           "snapshot_mib": None, "restart_s": None}
    # Reading one 10-instance service among n others: a registry's reads
    # should not grow with the size of the catalog.
    try:
        d = run_throughput(ctx, cluster, "discover", 9, duration=min(ctx.duration, 5.0))
        out["discover_ops_per_s"], out["discover_p99_ms"] = d["ops_per_s"], d["p99_ms"]
    except RuntimeError as e:  # Timeouts here are a finding, not a harness bug.
        out["discover_ops_per_s"], out["discover_p99_ms"] = 0.0, None
        out["discover_error"] = str(e)[-300:]
    if cluster.system == "sider":
        out["snapshot_mib"] = cluster.snapshot_bytes() / 1024.0 ** 2
        cluster.stop()
        t0 = time.monotonic()
        cluster.restart()
        out["restart_s"] = time.monotonic() - t0
    p.stdin.close()
    p.wait(timeout=120)
    ctx.procs.forget(p)
    return out


def run_failover(ctx, cluster):
    """kill -9 of the leader during a register stream: time from the kill to
    the first write sent after it and acknowledged."""
    acks = os.path.join(ctx.workdir, "%s-failover-%d.acks" % (cluster.system, time.monotonic_ns()))
    argv = [ctx.loadgen, "register", "--system", cluster.system,
            "--endpoints", cluster.endpoints(), "--clients", str(ctx.clients),
            "--duration", str(ctx.failover_window), "--prefix", "fo",
            "--ack-log", acks, "--timeout-ms", "2000", "--threads", str(ctx.threads)]
    p = ctx.procs.start(argv, acks + ".log", stdout=subprocess.PIPE)
    time.sleep(min(3.0, ctx.failover_window / 3))
    leader = cluster.leader()
    kill_ns = time.monotonic_ns()
    cluster.kill9(leader)
    res = parse_result(p.stdout.read().decode())
    p.wait(timeout=60)
    ctx.procs.forget(p)
    first = None
    with open(acks) as f:
        for line in f:
            sent, acked = map(int, line.split())
            if sent > kill_ns and (first is None or acked < first):
                first = acked
    return {"failover_ms": (first - kill_ns) / 1e6 if first else None,
            "killed": leader.name, "ops": res["ops"], "errors": res["errors"]}
