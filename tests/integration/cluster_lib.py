"""Multi-server helpers for the integration suite: a Cluster of real
`sider server` processes on loopback, started with --bootstrap-expect and
--join the way an operator would, with bounded waits for a leader and ways
to stop, kill -9, SIGSTOP/SIGCONT and restart members by PID.

Every process is stopped (by its own PID) at teardown; nothing here binds
outside 127.0.0.1. Reused by the HA tests.
"""

import os
import signal
import subprocess
import time

import requests

import sider_testlib as lib

# Raft timings the tests rely on (the server's defaults, spelled out so a
# change of defaults does not silently change the tests).
ELECTION_TIMEOUT = "300ms"
HEARTBEAT_TIMEOUT = "30ms"
LEADER_DEADLINE = 30.0


class ClusterServer(lib.SiderServer):
    """One `sider server` of a Cluster. `join` is the list of the other
    servers' HTTP addresses; the argv is the same on every start, as an
    operator's unit file would be."""

    def __init__(self, binary, base_dir, name, expect, non_voter=False,
                 extra_args=()):
        os.makedirs(base_dir, exist_ok=True)
        super().__init__(binary, os.path.join(base_dir, "data"),
                         os.path.join(base_dir, "sider.log"), name=name)
        self.expect = expect
        self.non_voter = non_voter
        self.join = []
        self.extra_args = list(extra_args)

    @property
    def http_addr(self):
        return "127.0.0.1:%d" % self.http_port

    @property
    def raft_addr(self):
        return "127.0.0.1:%d" % self.raft_port

    def argv(self):
        args = [self.binary, "server",
                "--node", self.name,
                "--data-dir", self.data_dir,
                "--http-addr", self.http_addr,
                "--raft-addr", self.raft_addr,
                "--raft-election-timeout", ELECTION_TIMEOUT,
                "--raft-heartbeat-timeout", HEARTBEAT_TIMEOUT]
        if self.expect:
            args += ["--bootstrap-expect", str(self.expect)]
        if self.non_voter:
            args.append("--non-voter")
        for addr in self.join:
            args += ["--join", addr]
        return args + self.extra_args

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def sigstop(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def sigcont(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        # A stopped (SIGSTOP) process cannot act on SIGTERM.
        if self.running():
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        super().stop()

    # ---- views of the cluster from this server ---------------------------

    def leader(self):
        """The raft address of the leader this server knows, or ""."""
        r = self.api.get("/v1/status/leader", timeout=2)
        return r.json() if r.status_code == 200 else ""

    def leader_with_timeout(self, timeout):
        r = self.api.get("/v1/status/leader", timeout=timeout)
        return r.json() if r.status_code == 200 else ""

    def configuration(self):
        return self.api.ok_json("/v1/operator/raft/configuration", timeout=5)

    def peers(self):
        return self.api.ok_json("/v1/status/peers", timeout=5)


class Cluster:
    """N servers that form one cluster.

    cluster = Cluster(binary, tmp_path, 3); cluster.start(); ...;
    cluster.stop_all(). Servers get free loopback ports up front so that
    each one's --join list names the others before any starts."""

    def __init__(self, binary, base_dir, n, expect=None, name_prefix="n",
                 extra_args=()):
        self.binary = binary
        self.base_dir = str(base_dir)
        self.expect = n if expect is None else expect
        self.servers = []
        for i in range(n):
            self.add_server(name="%s%d" % (name_prefix, i + 1),
                            expect=self.expect, link=False,
                            extra_args=extra_args)
        self._link()

    def add_server(self, name, expect=0, non_voter=False, link=True,
                   extra_args=()):
        """Create (not start) a server. With link=True it --joins the
        existing servers (and they do not list it: a late joiner)."""
        srv = ClusterServer(self.binary, os.path.join(self.base_dir, name),
                            name, expect, non_voter=non_voter,
                            extra_args=extra_args)
        taken = {p for s in self.servers for p in (s.http_port, s.raft_port)}
        while srv.http_port in taken or srv.raft_port in taken:
            srv.http_port, srv.raft_port = lib.free_port(), lib.free_port()
            srv.api = lib.Api("127.0.0.1", srv.http_port)
        if link:
            srv.join = [s.http_addr for s in self.servers]
        self.servers.append(srv)
        return srv

    def _link(self):
        for s in self.servers:
            s.join = [o.http_addr for o in self.servers if o is not s]

    def by_name(self, name):
        return next(s for s in self.servers if s.name == name)

    # ---- lifecycle --------------------------------------------------------

    def start(self, order=None, wait=True):
        """Start every server (in `order`, a list of indexes, if given)
        without waiting for each; then wait for one leader that all see."""
        for i in (order if order is not None else range(len(self.servers))):
            self.servers[i].start(wait=False)
        if wait:
            return self.wait_leader()
        return None

    def running(self):
        return [s for s in self.servers if s.running()]

    def stop_all(self):
        for s in self.servers:
            s.stop()

    def kill9(self, srv):
        srv.kill9()

    def restart(self, srv, wait=True):
        """kill -9 by PID and start again with the same argv and data."""
        srv.kill9()
        srv.start(wait=False)
        if wait:
            self.wait_leader()
        return srv

    def graceful_restart(self, srv, wait=True):
        srv.terminate()
        srv.start(wait=False)
        if wait:
            self.wait_leader()
        return srv

    # ---- bounded waits ----------------------------------------------------

    def _check_alive(self):
        for s in self.servers:
            if s.proc is not None and s.proc.poll() is not None:
                raise AssertionError("%s exited with %s\n%s"
                                     % (s.name, s.proc.returncode, s.log_tail()))

    def leader_server(self):
        """The running server that all running servers name as leader, or
        None if they do not agree yet."""
        self._check_alive()
        seen = set()
        for s in self.running():
            try:
                seen.add(s.leader())
            except (requests.RequestException, ValueError):
                return None
        if len(seen) != 1 or "" in seen:
            return None
        addr = seen.pop()
        for s in self.running():
            if s.raft_addr == addr:
                return s
        return None

    def wait_leader(self, timeout=LEADER_DEADLINE):
        return lib.wait_until(self.leader_server, timeout,
                              desc="one leader agreed on by all running "
                                   "servers")

    def followers(self):
        leader = self.wait_leader()
        return [s for s in self.running() if s is not leader]

    def wait_members(self, names, timeout=LEADER_DEADLINE, on=None):
        """Until the raft configuration (as `on`, default every running
        server, reports it) holds exactly the servers named."""
        want = sorted(names)

        def ok():
            for s in ([on] if on else self.running()):
                got = sorted(x["Node"] for x in s.configuration()["Servers"])
                if got != want:
                    return None
            return True

        return lib.wait_until(ok, timeout,
                              desc="raft configuration == %r" % (want,))


# ---- writes (HA tests) -------------------------------------------------------

def put_acked(servers, key, value, timeout=30):
    """PUT until some server in `servers` answers 200 true; bounded."""
    def attempt():
        for s in servers:
            try:
                r = s.api.put("/v1/kv/" + key, data=value, timeout=3)
            except requests.RequestException:
                continue
            if r.status_code == 200 and r.text.strip() == "true":
                return s
        return None
    return lib.wait_until(attempt, timeout, interval=0.05,
                          desc="PUT %s acknowledged" % key)


def wait_writable(cluster, timeout=60):
    """Until a write sent to each server is acknowledged (forwarding knows
    the leader's HTTP address everywhere)."""
    for s in cluster.running():
        put_acked([s], "_ready/" + s.name, "1", timeout=timeout)


# ---- replica state (HA tests) ---------------------------------------------

def applied_index(srv, timeout=3):
    """The Raft index this server has applied, from its own state
    (`/v1/operator/raft/configuration?stale` answers locally)."""
    r = srv.api.get("/v1/operator/raft/configuration?stale", timeout=timeout)
    assert r.status_code == 200, "%s: configuration -> %d %s" % (
        srv.name, r.status_code, r.text)
    return int(r.json()["Index"])


def state_hash(srv, timeout=5):
    """(Index, Hash) from this server's own state via
    `GET /v1/operator/state-hash?stale`, or None if the endpoint is absent."""
    r = srv.api.get("/v1/operator/state-hash?stale", timeout=timeout)
    if r.status_code in (404, 405):
        return None
    assert r.status_code == 200, "%s: state-hash -> %d %s" % (
        srv.name, r.status_code, r.text)
    body = r.json()
    return int(body["Index"]), body["Hash"]


def leader_among(servers, timeout=2):
    """The server of `servers` that every one of them names as leader, or
    None (a server that does not answer within `timeout` means None)."""
    seen = set()
    for s in servers:
        try:
            seen.add(s.leader_with_timeout(timeout))
        except (requests.RequestException, ValueError):
            return None
    if len(seen) != 1 or "" in seen:
        return None
    addr = seen.pop()
    return next((s for s in servers if s.raft_addr == addr), None)


def run_cli(binary, *args, timeout=30):
    return subprocess.run([binary, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
