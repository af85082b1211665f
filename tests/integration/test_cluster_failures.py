"""High availability under failures, with real `sider server` processes:

* kill -9 of the leader while 8 clients write continuously: every write
  acknowledged to a client is on every server once the cluster has
  converged (same applied index, same state), old leader restarted;
* SIGSTOP of the leader for longer than the election timeout, then SIGCONT:
  a new leader is elected meanwhile and takes writes, the deposed leader
  never answers a default-mode (linearizable) read with its stale state,
  it steps down, nothing acknowledged is lost;
* a follower down while the leader compacts its log well past it: on
  restart it catches up through a snapshot install.

Loopback only; every wait and loop is bounded; processes are stopped by PID
(cluster_lib)."""

import base64
import collections
import glob
import os
import re
import threading
import time

import requests

import cluster_lib
import sider_testlib as lib

CONVERGE_DEADLINE = 60.0
REQUEST_TIMEOUT = 5.0


# ---- clients ----------------------------------------------------------------

class Writer(threading.Thread):
    """One client writing `PUT /v1/kv/<prefix>/<wid>/<n>` = "<wid>-<n>" for
    n = 0, 1, ... until stopped. Each request goes to the next server in
    round-robin order; a connection error, timeout or non-200/true answer is
    retried (same key and value: idempotent) on the next server. A write
    counts as acknowledged only on 200 with body `true`."""

    def __init__(self, wid, servers, prefix, stop, timeout=REQUEST_TIMEOUT):
        super().__init__(name="writer-%d" % wid, daemon=True)
        self.wid = wid
        self.servers = list(servers)
        self.prefix = prefix
        self.stop_event = stop
        self.timeout = timeout
        self.acked = {}          # key -> value
        self.ack_log = []        # (monotonic time, server name)
        self.errors = collections.Counter()
        self.sessions = {}

    def _session(self, srv):
        s = self.sessions.get(srv.name)
        if s is None:
            s = self.sessions[srv.name] = requests.Session()
        return s

    def _drop(self, srv):
        s = self.sessions.pop(srv.name, None)
        if s is not None:
            s.close()

    def run(self):
        rr = self.wid
        n = 0
        while not self.stop_event.is_set() and n < 1_000_000:
            key = "%s/%d/%d" % (self.prefix, self.wid, n)
            value = "%d-%d" % (self.wid, n)
            for _ in range(10_000):  # bounded retries of one key
                if self.stop_event.is_set():
                    break
                srv = self.servers[rr % len(self.servers)]
                rr += 1
                try:
                    r = self._session(srv).put(
                        srv.api.url("/v1/kv/" + key), data=value,
                        timeout=self.timeout)
                except requests.RequestException as e:
                    self.errors[type(e).__name__] += 1
                    self._drop(srv)
                    time.sleep(0.01)
                    continue
                if r.status_code == 200 and r.text.strip() == "true":
                    self.acked[key] = value
                    self.ack_log.append((time.monotonic(), srv.name))
                    break
                self.errors["HTTP %d" % r.status_code] += 1
                time.sleep(0.01)
            n += 1
        for name in list(self.sessions):
            self.sessions.pop(name).close()


class Storm:
    def __init__(self, servers, prefix, writers=8, timeout=REQUEST_TIMEOUT):
        self.stop_event = threading.Event()
        self.writers = [Writer(i, servers, prefix, self.stop_event, timeout)
                        for i in range(writers)]

    def start(self):
        for w in self.writers:
            w.start()
        return self

    def stop(self):
        self.stop_event.set()
        for w in self.writers:
            w.join(timeout=w.timeout * 3 + 10)
        alive = [w.name for w in self.writers if w.is_alive()]
        assert not alive, "writers did not stop: %r" % alive

    def acked(self):
        out = {}
        for w in self.writers:
            out.update(w.acked)
        return out

    def ack_times(self):
        return sorted(t for w in self.writers for t, _ in w.ack_log)

    def acks_between(self, t0, t1=float("inf")):
        return sum(1 for t in self.ack_times() if t0 <= t < t1)

    def errors(self):
        c = collections.Counter()
        for w in self.writers:
            c.update(w.errors)
        return dict(c)

    def wait_acks(self, count, timeout, since=0.0):
        return lib.wait_until(lambda: self.acks_between(since) >= count,
                              timeout, interval=0.05,
                              desc="%d acknowledged writes" % count)


# ---- reading each replica's own state ----------------------------------------

def kv_dump(srv, prefix=""):
    """{key: value bytes} of this server's own state under `prefix`."""
    r = srv.api.get("/v1/kv/%s?recurse&stale" % prefix, timeout=30)
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, "%s: kv dump -> %d %s" % (
        srv.name, r.status_code, r.text[:300])
    return {e["Key"]: base64.b64decode(e["Value"] or "")
            for e in r.json()}


def catalog_dump(srv):
    r = srv.api.get("/v1/catalog/nodes?stale", timeout=10)
    assert r.status_code == 200, r.text
    return sorted((n["Node"], n["ModifyIndex"]) for n in r.json())


def replica_view(srv):
    """(applied index, (state-hash index, hash) or None, kv, catalog), read
    between two equal applied-index readings; None if the server applied a
    command in between."""
    i1 = cluster_lib.applied_index(srv)
    h = cluster_lib.state_hash(srv)
    kv = kv_dump(srv)
    cat = catalog_dump(srv)
    i2 = cluster_lib.applied_index(srv)
    if i1 != i2:
        return None
    return i1, h, kv, cat


def wait_converged(servers, timeout=CONVERGE_DEADLINE):
    """Until every server reports the same applied index and the same state
    (state hash when the server has the endpoint, and always the KV and
    catalog contents read with ?stale). Returns {name: view}."""
    last = {}

    def check():
        views = {}
        for s in servers:
            try:
                v = replica_view(s)
            except AssertionError as e:  # e.g. 5xx while starting
                last["why"] = str(e)[:300]
                return None
            if v is None:
                last["why"] = "%s applied entries while being read" % s.name
                return None
            views[s.name] = v
        idx = {n: v[0] for n, v in views.items()}
        last["indexes"] = idx
        if len(set(idx.values())) != 1:
            last["why"] = "applied indexes differ: %r" % idx
            return None
        # The state-hash Index is Raft's last applied entry (barriers
        # included): equal everywhere once the replicas are quiet.
        hashes = {n: v[1] for n, v in views.items()}
        if len(set(hashes.values())) != 1:
            last["why"] = "state hashes / their indexes differ: %r" % hashes
            return None
        first = next(iter(views.values()))
        for n, v in views.items():
            if v[2] != first[2]:
                diff = set(v[2].items()) ^ set(first[2].items())
                last["why"] = "KV differs on %s (%d items, e.g. %r)" % (
                    n, len(diff), sorted(diff)[:5])
                return None
            if v[3] != first[3]:
                last["why"] = "catalog differs on %s" % n
                return None
        return views

    try:
        views = lib.wait_until(check, timeout, interval=0.25,
                               desc="replicas converged")
        print("converged: %r" % {n: (v[0], v[1], len(v[2]))
                                 for n, v in views.items()})
        return views
    except AssertionError as e:
        raise AssertionError("%s; last: %s" % (e, last.get("why"))) from None


def assert_all_acked_present(acked, views, prefix):
    for name, (index, _, kv, _) in views.items():
        missing = [k for k in acked if k not in kv]
        wrong = [k for k in acked if k in kv and kv[k] != acked[k].encode()]
        assert not missing and not wrong, (
            "%s at index %d: %d of %d acknowledged writes missing (e.g. %r), "
            "%d with a wrong value (e.g. %r)"
            % (name, index, len(missing), len(acked), sorted(missing)[:10],
               len(wrong), [(k, kv[k]) for k in sorted(wrong)[:5]]))
        stray = [k for k in kv if k.startswith(prefix + "/")
                 and not re.fullmatch(re.escape(prefix) + r"/\d+/\d+", k)]
        assert not stray, "%s: unexpected keys %r" % (name, stray[:5])


put_acked = cluster_lib.put_acked
wait_writable = cluster_lib.wait_writable


def new_leader_among(servers, old, timeout=30):
    def check():
        l = cluster_lib.leader_among(servers)
        return l if l is not None and l is not old else None
    return lib.wait_until(check, timeout, interval=0.05,
                          desc="a new leader among %r"
                               % [s.name for s in servers])


# ---- tests -------------------------------------------------------------------

def test_kill9_leader_during_write_storm_loses_no_acknowledged_write(
        make_cluster):
    cluster = make_cluster(3)
    old = cluster.start()
    wait_writable(cluster)

    storm = Storm(cluster.servers, "storm").start()
    try:
        storm.wait_acks(200, 60)
        t_kill = time.monotonic()
        acks_before = storm.acks_between(0, t_kill)
        cluster.kill9(old)
        others = [s for s in cluster.servers if s is not old]
        new = new_leader_among(others, old)
        t_elected = time.monotonic()
        # Writes continue on the new leader (through either live server).
        storm.wait_acks(50, 30, since=t_elected)
        time.sleep(3)
        old.start(wait=False)
        cluster.wait_leader()
        storm.wait_acks(50, 30, since=time.monotonic())
        time.sleep(1)
    finally:
        storm.stop()
    acked = storm.acked()
    print("acked %d writes (%d before the kill, %d after), new leader %s "
          "seen by both survivors %.2fs after the kill; client errors %r"
          % (len(acked), acks_before, storm.acks_between(t_kill), new.name,
             t_elected - t_kill, storm.errors()))
    assert acks_before >= 200
    assert storm.acks_between(t_kill) >= 100

    views = wait_converged(cluster.servers)
    assert_all_acked_present(acked, views, "storm")


def _kv_value(resp):
    return base64.b64decode(resp.json()[0]["Value"] or "")


def test_sigstopped_leader_steps_down_and_never_serves_stale_default_reads(
        make_cluster):
    cluster = make_cluster(3)
    old = cluster.start()
    wait_writable(cluster)
    put_acked([old], "ha/k", "v1")
    # Default-mode reads of k from the leader (fills any reply cache).
    for _ in range(5):
        r = old.api.get("/v1/kv/ha/k", timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200 and _kv_value(r) == b"v1", r.text

    storm = Storm(cluster.servers, "sig", writers=4, timeout=2.0).start()
    # Clients of the leader alone, patient enough to get the answers to the
    # writes it had in flight when it was stopped (an acknowledgement then
    # must mean the write is kept).
    own = Storm([old], "sigold", writers=2, timeout=30.0).start()
    queued = []
    try:
        storm.wait_acks(50, 60)
        own.wait_acks(20, 60)
        others = [s for s in cluster.servers if s is not old]
        old.sigstop()
        t_stop = time.monotonic()
        new = new_leader_among(others, old)
        t_elected = time.monotonic()
        put_acked([new], "ha/k", "v2")
        storm.wait_acks(20, 30, since=t_elected)
        # Stopped well past the election timeout (300 ms, randomised to
        # 600 ms) in any case.
        time.sleep(max(0.0, 1.5 - (time.monotonic() - t_stop)))

        # A default-mode read that reaches the deposed leader while it is
        # stopped (the kernel queues the connection and the request): it is
        # the first thing the old leader sees when it resumes.
        def queued_read():
            try:
                queued.append(old.api.get("/v1/kv/ha/k", timeout=20))
            except requests.RequestException as e:
                queued.append(e)
        reader = threading.Thread(target=queued_read, daemon=True)
        reader.start()
        time.sleep(0.3)
        old.sigcont()
        t_cont = time.monotonic()
        answers = []
        while time.monotonic() - t_cont < 3.0:
            try:
                answers.append(old.api.get("/v1/kv/ha/k", timeout=10))
            except requests.RequestException as e:
                answers.append(e)
        reader.join(timeout=30)
        assert not reader.is_alive()
        answers = queued + answers

        def describe(a):
            if isinstance(a, Exception):
                return repr(a)
            return "%d %s" % (a.status_code, a.text[:120])
        summary = collections.Counter(describe(a) for a in answers)
        print("stopped %.2fs, new leader %s after %.2fs; default reads of k "
              "on the old leader after SIGCONT: %r"
              % (t_cont - t_stop, new.name, t_elected - t_stop, summary))
        for a in answers:
            if isinstance(a, Exception):
                continue
            if a.status_code == 200:
                assert _kv_value(a) == b"v2", (
                    "deposed leader served a stale default-mode read: %s"
                    % describe(a))
            else:
                assert a.status_code >= 500 or a.status_code in (307, 308), (
                    "unexpected answer from the deposed leader: %s"
                    % describe(a))

        # It steps down and follows the new leader; its default reads are
        # then answered (through the leader) with v2.
        lib.wait_until(lambda: old.leader() == new.raft_addr, 20,
                       desc="%s follows %s" % (old.name, new.name))
        conf = old.api.ok_json("/v1/operator/raft/configuration?stale")
        roles = {x["Node"]: x["Leader"] for x in conf["Servers"]}
        assert roles[old.name] is False and roles[new.name] is True, roles

        def reads_v2():
            r = old.api.get("/v1/kv/ha/k", timeout=REQUEST_TIMEOUT)
            return r.status_code == 200 and _kv_value(r) == b"v2"
        lib.wait_until(reads_v2, 20, desc="v2 read through %s" % old.name)
        storm.wait_acks(20, 30, since=time.monotonic())
        own.wait_acks(5, 30, since=time.monotonic())
    finally:
        if old.running():
            old.sigcont()  # harmless if it already runs
        storm.stop()
        own.stop()

    acked = storm.acked()
    print("acked %d writes; client errors %r; through the old leader only: "
          "acked %d, errors %r" % (len(acked), storm.errors(),
                                   len(own.acked()), own.errors()))
    views = wait_converged(cluster.servers)
    assert_all_acked_present(acked, views, "sig")
    assert_all_acked_present(own.acked(), views, "sigold")
    for name, v in views.items():
        assert v[2].get("ha/k") == b"v2", (name, v[2].get("ha/k"))


SNAP_THRESHOLD = 64
SNAP_TRAILING = 16


def snapshot_indexes(srv):
    """Indexes of the snapshots in the server's libraft dir
    (snapshot-<term>-<index>-<timestamp>)."""
    out = []
    for p in glob.glob(os.path.join(srv.data_dir, "raft", "snapshot-*")):
        m = re.fullmatch(r"snapshot-(\d+)-(\d+)-(\d+)", os.path.basename(p))
        if m:
            out.append(int(m.group(2)))
    return sorted(out)


def test_lagging_follower_catches_up_through_a_snapshot_install(
        make_cluster, sider_bin):
    help_text = cluster_lib.run_cli(sider_bin, "server", "--help").stdout
    assert "--raft-snapshot-threshold" in help_text, help_text
    cluster = make_cluster(3, extra_args=[
        "--raft-snapshot-threshold", str(SNAP_THRESHOLD),
        "--raft-snapshot-trailing", str(SNAP_TRAILING)])
    leader = cluster.start()
    wait_writable(cluster)
    for i in range(20):
        put_acked([leader], "snap/pre/%d" % i, "old-%d" % i)
    lagger = cluster.followers()[0]
    wait_converged(cluster.servers)
    lag_index = cluster_lib.applied_index(lagger)
    cluster.kill9(lagger)

    # Far more entries than threshold + trailing, through both live
    # servers, including deletes and overwrites of what the lagger has.
    live = [s for s in cluster.servers if s is not lagger]
    storm = Storm(live, "snap/w", writers=4).start()
    try:
        lib.wait_until(lambda: storm.acks_between(0) >= 600, 120,
                       interval=0.1, desc="600 writes while a follower is down")
    finally:
        storm.stop()
    for i in range(10):
        r = leader.api.delete("/v1/kv/snap/pre/%d" % i, timeout=10)
        assert r.status_code == 200 and r.text.strip() == "true", r.text
    for i in range(10, 20):
        put_acked([leader], "snap/pre/%d" % i, "new-%d" % i)
    wait_converged(live)
    leader_snaps = snapshot_indexes(leader)
    assert leader_snaps, "the leader took no snapshot (threshold %d)" % (
        SNAP_THRESHOLD)
    # The leader keeps SNAP_TRAILING entries behind its last snapshot: the
    # entries right after the lagger's position are gone from its log.
    assert leader_snaps[-1] - SNAP_TRAILING > lag_index + 1, (
        leader_snaps, lag_index)

    t0 = time.monotonic()
    lagger.start(wait=False)
    views = wait_converged(cluster.servers)
    took = time.monotonic() - t0
    print("lagger %s was at %d; leader snapshots %r; caught up in %.2fs at "
          "index %d; its snapshots now %r"
          % (lagger.name, lag_index, leader_snaps[-3:], took,
             views[lagger.name][0], snapshot_indexes(lagger)[-3:]))
    assert max(snapshot_indexes(lagger) or [0]) > lag_index
    kv = views[lagger.name][2]
    assert_all_acked_present(storm.acked(), views, "snap/w")
    for i in range(10):
        assert "snap/pre/%d" % i not in kv
    for i in range(10, 20):
        assert kv["snap/pre/%d" % i] == b"new-%d" % i
    # And it keeps following: a new write reaches it.
    put_acked([leader], "snap/after", "1")
    lib.wait_until(lambda: kv_dump(lagger, "snap/after").get("snap/after")
                   == b"1", 20, desc="a new write on the caught-up follower")
