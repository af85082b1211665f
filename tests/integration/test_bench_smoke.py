"""Smoke test of the benchmark harness (bench/run --smoke): every workload
for about a second against a one-node Sider, with the real sider-loadgen;
and the harness's promise to stop every process it started on Ctrl-C.

sider-loadgen is found as $SIDER_LOADGEN, or beside $SIDER_BIN's build tree
(build/<preset>/bench/loadgen/sider-loadgen), which every full build makes.
"""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(REPO, "bench", "run")


def loadgen_path(sider_bin):
    env = os.environ.get("SIDER_LOADGEN")
    if env:
        return env
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(sider_bin))))
    return os.path.join(build, "bench", "loadgen", "sider-loadgen")


@pytest.fixture
def bench_env(sider_bin):
    lg = loadgen_path(sider_bin)
    if not os.access(lg, os.X_OK):
        pytest.fail("no sider-loadgen at %s: build the sider-loadgen target "
                    "or set SIDER_LOADGEN" % lg, pytrace=False)
    env = dict(os.environ, SIDER_BIN=sider_bin, SIDER_LOADGEN=lg)
    return env


def cell(table, workload, metric):
    m = re.search(r"^\| %s \| %s \| ([^|]*) \|" % (re.escape(workload), re.escape(metric)),
                  table, re.M)
    assert m, "no row %s / %s in:\n%s" % (workload, metric, table)
    return float(m.group(1).split()[0])


def test_smoke_runs_every_workload_and_prints_numbers(bench_env, tmp_path):
    out = tmp_path / "smoke.md"
    t0 = time.monotonic()
    r = subprocess.run([RUN, "--smoke", "--out", str(out)], env=bench_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    table = out.read_text()
    assert table == r.stdout.rstrip("\n") + "\n" or table in r.stdout
    for w in ("register", "heartbeat", "discover", "discover (stale)"):
        assert cell(table, w, "ops/s") > 0
        assert cell(table, w, "p99 ms") >= cell(table, w, "p50 ms") > 0
        assert cell(table, w, "server CPU ms/op") > 0
        assert cell(table, w, "errors") == 0
    assert cell(table, "K=200", "notified") == 200
    assert cell(table, "K=200", "server RSS parked MiB") > 0
    # The machine's floor: the same 200 watchers answered by fanout-floor.
    assert cell(table, "K=200", "first send → last notified ms") > 0
    assert cell(table.split("Fan-out floor")[1], "K=200", "notified") == 200
    assert cell(table, "n=2000", "loaded") == 2000
    assert cell(table, "n=2000", "restart-to-serving s") > 0
    assert "Sider ran as a single node" in table or "sider:" in table
    assert time.monotonic() - t0 < 90


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_every_process_it_started(bench_env, tmp_path):
    p = subprocess.Popen([RUN, "--smoke", "--out", str(tmp_path / "x.md")],
                         env=bench_env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        kids = []
        while time.monotonic() < deadline and not kids:
            kids = children_of(p.pid)
            time.sleep(0.05)
        assert kids, "bench/run started no process within 30 s"
        time.sleep(0.5)
        kids = children_of(p.pid)
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) != 0
        gone_by = time.monotonic() + 10
        while time.monotonic() < gone_by and any(alive(k) for k in kids):
            time.sleep(0.05)
        assert not [k for k in kids if alive(k)], "left running: %r" % kids
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
