"""The recipes of docs/recipes.md, call for call: leader election (with two
real contender processes, one killed with SIGKILL, takeover measured),
ephemeral instance keys, the DISABLED marker, and a resource tree listed
level by level.

The contenders use python-consul for KV and renewals; they create their
session over plain HTTP because python-consul refuses TTLs under 10s, and
the module's server runs with --session-ttl-min=1s so a takeover takes
seconds, not 20+."""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

import sider_testlib as lib
from sider_testlib import create_session, index_of, kv_entry, uniq, wait_until

TTL_S = 1.0
LOCK_DELAY_S = 1.0


@pytest.fixture(scope="module")
def fast(sider_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("sider-recipes")
    srv = lib.SiderServer(sider_bin, base / "data", base / "sider.log", name="recipes")
    srv.extra_args = ["--session-ttl-min", "1s"]
    srv.start()
    yield srv
    srv.stop()


def kvput(api, key, data=b"", **params):
    r = api.put("/v1/kv/%s" % key, data=data, params=params or None)
    assert r.status_code == 200, (key, params, r.status_code, r.text)
    return r.json()


# ---- 1. leader election ----------------------------------------------------

def test_recipe_leader_election_calls(fast):
    api = fast.api
    ns = uniq("app")
    a = create_session(api, Name=ns + "-leader", TTL="10s", Behavior="delete",
                       LockDelay="1s", Checks=[])
    b = create_session(api, Name=ns + "-leader", TTL="10s", Behavior="delete",
                       LockDelay="1s", Checks=[])
    assert kvput(api, "%s/leader" % ns, b"node-a:8080", acquire=a) is True
    assert kvput(api, "%s/leader" % ns, b"node-b:8080", acquire=b) is False
    assert kvput(api, "%s/initialized" % ns, b"node-a", cas=0) is True
    assert kvput(api, "%s/initialized" % ns, b"node-b", cas=0) is False
    # Follower watch: wakes (404) when the leader steps down and the key goes.
    r = api.get("/v1/kv/%s/leader" % ns)
    idx = index_of(r)
    out = []
    t = threading.Thread(target=lambda: out.append(api.get(
        "/v1/kv/%s/leader" % ns, params={"index": idx, "wait": "30s"}, timeout=45)))
    t.start()
    assert api.put("/v1/session/renew/%s" % a).status_code == 200
    # Fenced write while leader, then step down.
    fence = [{"KV": {"Verb": "check-session", "Key": "%s/leader" % ns, "Session": a}},
             {"KV": {"Verb": "set", "Key": "%s/config/epoch" % ns,
                     "Value": base64.b64encode(b"7").decode()}}]
    assert api.put("/v1/txn", json=fence).status_code == 200
    assert kvput(api, "%s/leader" % ns, release=a) is True
    assert api.put("/v1/session/destroy/%s" % a).json() is True
    t.join(timeout=40)
    # behavior=delete + destroy: the key is gone; an explicit release first
    # means no lock-delay, so b takes over at once.
    assert out[0].status_code in (200, 404)
    assert kvput(api, "%s/leader" % ns, b"node-b:8080", acquire=b) is True
    # The old leader's fenced write is now refused.
    assert api.put("/v1/txn", json=fence).status_code == 409
    assert api.put("/v1/session/renew/%s" % a).status_code == 404
    api.put("/v1/session/destroy/%s" % b)


CONTENDER = r'''
import sys, time, requests, consul
port, key, name, ttl, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
base = "http://127.0.0.1:%s" % port
c = consul.Consul(host="127.0.0.1", port=int(port))
sid = requests.put(base + "/v1/session/create", json={
    "Name": name, "TTL": "%gs" % ttl, "Behavior": "delete", "LockDelay": delay,
    "Checks": []}, timeout=10).json()["ID"]
print("SESSION", sid, flush=True)
leader, index, last_renew = False, None, time.monotonic()
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if time.monotonic() - last_renew >= ttl / 2:
        c.session.renew(sid)
        last_renew = time.monotonic()
    if leader:
        time.sleep(0.05)
        continue
    if c.kv.put(key, name, acquire=sid):
        leader = True
        print("LEADER", name, flush=True)
        continue
    index, data = c.kv.get(key, index=index, wait="%dms" % int(ttl * 200))
    if data is None:
        time.sleep(0.1)  # key gone but still in its lock-delay: retry soon
'''


class Contender:
    def __init__(self, script, port, key, name):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(port), key, name, str(TTL_S),
             "%gs" % LOCK_DELAY_S],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.leader_at = None
        self.session = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("LEADER") and self.leader_at is None:
                self.leader_at = time.monotonic()
            if line.startswith("SESSION"):
                self.session = line.split()[1]

    def kill9(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill9()


def test_leader_election_takeover_after_sigkill(fast, tmp_path):
    api = fast.api
    script = tmp_path / "contender.py"
    script.write_text(CONTENDER)
    key = uniq("election") + "/leader"
    a = Contender(script, fast.http_port, key, "a")
    b = None
    try:
        wait_until(lambda: a.leader_at, timeout=15, desc="a leads; a says %r" % a.lines)
        b = Contender(script, fast.http_port, key, "b")
        wait_until(lambda: b.session, timeout=15, desc="b running; b says %r" % b.lines)
        time.sleep(2 * TTL_S)  # b is parked on the key; a keeps renewing
        assert b.leader_at is None, "two leaders: %r %r" % (a.lines, b.lines)
        assert kv_entry(api, key)["Session"] == a.session
        t0 = time.monotonic()
        a.kill9()
        bound = 2 * TTL_S + LOCK_DELAY_S + 1.0
        wait_until(lambda: b.leader_at, timeout=bound + 10,
                   desc="b takes over; b says %r" % b.lines)
        took = b.leader_at - t0
        print("takeover after SIGKILL: %.2fs (bound %.1fs)" % (took, bound))
        assert took <= bound, "takeover took %.2fs > %.1fs" % (took, bound)
        # The dead leader's session is gone, b holds the key.
        assert api.get("/v1/session/info/%s" % a.session).json() == []
        assert kv_entry(api, key)["Session"] == b.session
    finally:
        a.stop()
        if b:
            b.stop()


# ---- 2. ephemeral instance keys -----------------------------------------

def test_recipe_instance_registry_with_ephemeral_keys(fast):
    api = fast.api
    ns = uniq("reg")
    prefix = "%s/states/proxynodes/" % ns
    alive = create_session(api, Name="proxy 10.0.0.5@4242", TTL="10s",
                           Behavior="delete", LockDelay="0s", Checks=[])
    dying = create_session(api, Name="proxy 10.0.0.6@977", TTL="1s",
                           Behavior="delete", LockDelay="0s", Checks=[])
    k1 = prefix + "10.0.0.5@4242@%s" % uuid.uuid4()
    k2 = prefix + "10.0.0.6@977@%s" % uuid.uuid4()
    meta = json.dumps({"port": 8443, "version": "2.4.1"}).encode()
    assert kvput(api, k1, meta, acquire=alive) is True
    assert kvput(api, k2, meta, acquire=dying) is True
    r = api.get("/v1/kv/%s?keys&separator=/" % prefix)
    assert r.json() == sorted([k1, k2])
    idx = index_of(api.get("/v1/kv/%s?recurse" % prefix))
    # `dying` stops renewing (never renewed): its key vanishes and wakes us.
    deadline = time.monotonic() + 15
    entries = None
    while time.monotonic() < deadline:
        api.put("/v1/session/renew/%s" % alive)
        r = api.get("/v1/kv/%s?recurse" % prefix, params={"index": idx, "wait": "2s"},
                    timeout=20)
        idx = index_of(r)
        entries = [e["Key"] for e in r.json()]
        if entries == [k1]:
            break
    assert entries == [k1]
    assert api.put("/v1/session/destroy/%s" % alive).json() is True
    assert api.get("/v1/kv/%s?keys&separator=/" % prefix).status_code == 404


# ---- 3. the DISABLED marker ---------------------------------------------

def test_recipe_disabled_marker_seen_by_a_watcher(fast):
    api = fast.api
    ns = uniq("svc")
    sid = create_session(api, TTL="10s", Behavior="delete", LockDelay="0s", Checks=[])
    inst = "10.0.0.5@4242@%s" % uuid.uuid4()
    assert kvput(api, "%s/states/proxynodes/%s" % (ns, inst), b"{}", acquire=sid)
    watch = "/v1/kv/%s/states/?recurse" % ns
    idx = index_of(api.get(watch))
    seen = []

    def in_service(entries):
        nodes = {e["Key"].rsplit("/", 1)[1] for e in entries
                 if "/proxynodes/" in e["Key"]}
        disabled = {e["Key"].rsplit("/", 1)[1] for e in entries
                    if "/disabled/" in e["Key"] and e["Value"]
                    and base64.b64decode(e["Value"]) == b"DISABLED"}
        return sorted(nodes - disabled)

    def watcher():
        i = idx
        for _ in range(20):
            r = api.get(watch, params={"index": i, "wait": "10s"}, timeout=30)
            if index_of(r) != i:
                seen.append(in_service(r.json()))
            i = index_of(r)
            if len(seen) >= 2:
                return

    t = threading.Thread(target=watcher)
    t.start()
    time.sleep(0.3)
    assert kvput(api, "%s/states/disabled/%s" % (ns, inst), b"DISABLED") is True
    wait_until(lambda: len(seen) >= 1, timeout=10, desc="watcher sees DISABLED")
    r = api.delete("/v1/kv/%s/states/disabled/%s" % (ns, inst))
    assert r.status_code == 200 and r.json() is True
    t.join(timeout=30)
    assert seen == [[], [inst]], seen
    api.put("/v1/session/destroy/%s" % sid)


# ---- 4. resource tree ---------------------------------------------------

def test_recipe_resource_tree_listed_level_by_level(fast):
    api = fast.api
    ns = uniq("res")
    root = "%s/resources" % ns
    nodes = {
        "machines/m-7f3a": {"host": "db1", "rack": "r4"},
        "machines/m-7f3a/metrics/cpu": {"unit": "%"},
        "machines/m-7f3a/metrics/disk": {"unit": "GB"},
        "machines/m-91c2": {"host": "db2", "rack": "r5"},
        "alert-policies/p-0012": {"metric": "cpu", "above": 90},
    }
    for path, data in nodes.items():
        assert kvput(api, "%s/%s" % (root, path), json.dumps(data).encode(), cas=0) is True
    # A second create with the same ID is refused.
    assert kvput(api, "%s/machines/m-7f3a" % root, b"{}", cas=0) is False

    def level(path):
        r = api.get("/v1/kv/%s/?keys&separator=/" % path)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    assert level(root) == ["%s/alert-policies/" % root, "%s/machines/" % root]
    assert level(root + "/machines") == [
        "%s/machines/m-7f3a" % root, "%s/machines/m-7f3a/" % root,
        "%s/machines/m-91c2" % root]
    assert level(root + "/machines/m-7f3a/metrics") == [
        "%s/machines/m-7f3a/metrics/cpu" % root, "%s/machines/m-7f3a/metrics/disk" % root]
    raw = api.get("/v1/kv/%s/machines/m-7f3a?raw" % root)
    assert json.loads(raw.content) == {"host": "db1", "rack": "r4"}
    # Optimistic update with cas=ModifyIndex.
    e = kv_entry(api, "%s/machines/m-91c2" % root)
    assert kvput(api, "%s/machines/m-91c2" % root, b'{"host":"db2b"}',
                 cas=e["ModifyIndex"]) is True
    assert kvput(api, "%s/machines/m-91c2" % root, b'{"host":"db2c"}',
                 cas=e["ModifyIndex"]) is False
    # Watch a subtree; delete it exactly with one transaction.
    sub = "/v1/kv/%s/machines/m-7f3a/?recurse" % root
    idx = index_of(api.get(sub))
    out = []
    t = threading.Thread(target=lambda: out.append(api.get(
        sub, params={"index": idx, "wait": "20s"}, timeout=40)))
    t.start()
    time.sleep(0.3)
    r = api.put("/v1/txn", json=[
        {"KV": {"Verb": "delete-tree", "Key": "%s/machines/m-7f3a/" % root}},
        {"KV": {"Verb": "delete", "Key": "%s/machines/m-7f3a" % root}}])
    assert r.status_code == 200, r.text
    t.join(timeout=30)
    assert out and out[0].status_code == 404
    assert level(root + "/machines") == ["%s/machines/m-91c2" % root]
