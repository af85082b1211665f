"""Processes the harness starts, and what /proc says about them.

Contract: every process is started through Procs.start(), which records its
PID; Procs.stop_all() stops exactly those PIDs (SIGTERM, then SIGKILL after
a grace period) and is safe to call twice. main.py calls it from `finally`
and from its SIGINT/SIGTERM handler, so nothing outlives the harness.
Loopback only: free_port() binds 127.0.0.1.
"""

import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds (0.0 if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    """Resident set size of a live process in KiB (0 if it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_until(fn, timeout, interval=0.1, desc="condition"):
    """Polls fn() until truthy; returns its value or raises RuntimeError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except OSError as e:
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise RuntimeError("timed out after %.0fs waiting for %s (last: %r)"
                               % (timeout, desc, last))
        time.sleep(interval)


class Procs:
    """The set of processes this harness started."""

    def __init__(self):
        self._live = {}  # pid -> Popen

    def start(self, argv, log_path, **kw):
        log = open(log_path, "ab")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log,
                             stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
        log.close()
        self._live[p.pid] = p
        return p

    def forget(self, p):
        self._live.pop(p.pid, None)

    def kill9(self, p):
        """SIGKILL one process we started (the failover workload)."""
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        self.forget(p)

    def stop(self, p, grace=10.0):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except ProcessLookupError:
                pass
        self.forget(p)

    def stop_all(self):
        for p in list(self._live.values()):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p in list(self._live.values()):
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._live.clear()
