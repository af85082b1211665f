"""Followers serve default-mode reads from their own state after a read
index from the leader (docs/consistency.md, "Read index"), and stay
linearizable: a write acknowledged anywhere is visible at once in a default
read anywhere, and a follower whose leader has stopped answering never
serves stale data.

Real `sider server` processes on loopback (cluster_lib.Cluster). Every
wait and loop is bounded.
"""

import base64
import threading
import time

import pytest
import requests

import cluster_lib
import sider_testlib as lib

REQUEST_TIMEOUT = 10.0
LEADER_WAIT = 2.0  # ClusterDispatch::Options::leader_wait.


def _value(resp):
    return base64.b64decode(resp.json()[0]["Value"] or "").decode()


@pytest.fixture
def make_started_cluster(make_cluster):
    def make(n=3):
        c = make_cluster(n)
        c.start()
        cluster_lib.wait_writable(c)
        return c

    return make


def test_a_write_acknowledged_on_one_node_is_read_at_once_on_another(
        make_started_cluster):
    c = make_started_cluster(3)
    leader = c.wait_leader()
    nodes = [leader] + c.followers()
    sessions = {n.name: requests.Session() for n in nodes}

    def put(n, key, value):
        r = sessions[n.name].put(n.api.url("/v1/kv/" + key), data=value,
                                 timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200 and r.text.strip() == "true", r.text

    def get(n, path):
        return sessions[n.name].get(n.api.url(path), timeout=REQUEST_TIMEOUT)

    # Writes through every node, each read at once on the next node: with a
    # follower as the reader two times in three.
    for i in range(300):
        writer, reader = nodes[i % 3], nodes[(i + 1) % 3]
        put(writer, "fr/k", "v%d" % i)
        r = get(reader, "/v1/kv/fr/k")
        assert r.status_code == 200, (i, reader.name, r.status_code, r.text)
        assert _value(r) == "v%d" % i, (
            "write %d through %s not seen on %s" % (i, writer.name, reader.name))
        assert r.headers["X-Consul-KnownLeader"] == "true"
        assert int(r.headers["X-Consul-Index"]) > 0
    # The catalog too, and a blocking query on a follower still blocks
    # and wakes on the next change.
    follower = c.followers()[0]
    name = lib.uniq("fr-svc")
    assert leader.api.put("/v1/catalog/register", json={
        "Node": name, "Address": "127.0.0.7",
        "Service": {"Service": name, "Port": 7}}).status_code == 200
    r = follower.api.get("/v1/catalog/service/" + name)
    assert r.status_code == 200 and [s["ServicePort"] for s in r.json()] == [7]
    index = int(r.headers["X-Consul-Index"])
    result = {}

    def blocking():
        result["r"] = follower.api.get(
            "/v1/catalog/service/%s?index=%d&wait=20s" % (name, index),
            timeout=30)
    t = threading.Thread(target=blocking, daemon=True)
    t.start()
    time.sleep(0.5)
    assert "r" not in result, "a blocking query returned without a change"
    assert leader.api.put("/v1/catalog/register", json={
        "Node": name, "Address": "127.0.0.7",
        "Service": {"Service": name, "Port": 8}}).status_code == 200
    t.join(timeout=25)
    assert not t.is_alive()
    r = result["r"]
    assert r.status_code == 200
    assert [s["ServicePort"] for s in r.json()] == [8]
    assert int(r.headers["X-Consul-Index"]) > index


def test_a_follower_of_a_stopped_leader_never_serves_stale_default_reads(
        make_started_cluster):
    c = make_started_cluster(3)
    old = c.wait_leader()
    followers = c.followers()
    cluster_lib.put_acked([old], "fr/stop", "v1")
    for f in followers:
        r = f.api.get("/v1/kv/fr/stop", timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200 and _value(r) == "v1"

    # Readers on both followers, default mode, from before the stop until
    # well after the new leader acknowledged v2.
    stop = threading.Event()
    reads = []  # (started, finished, follower, status, value or text)
    lock = threading.Lock()

    def reader(f):
        s = requests.Session()
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                r = s.get(f.api.url("/v1/kv/fr/stop"), timeout=15)
                got = (r.status_code,
                       _value(r) if r.status_code == 200 else r.text)
            except requests.RequestException as e:
                got = (0, repr(e))
            with lock:
                reads.append((t0, time.monotonic(), f.name) + got)

    threads = [threading.Thread(target=reader, args=(f,), daemon=True)
               for f in followers]
    for t in threads:
        t.start()
    t_acked = None
    try:
        time.sleep(0.3)
        old.sigstop()
        t_stop = time.monotonic()
        new = lib.wait_until(
            lambda: (lambda l: l if l is not None and l is not old else None)(
                cluster_lib.leader_among(followers)),
            30, interval=0.05, desc="a new leader among the followers")
        cluster_lib.put_acked([new], "fr/stop", "v2")
        t_acked = time.monotonic()
        time.sleep(2.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        old.sigcont()
    assert not any(t.is_alive() for t in threads)

    after = [r for r in reads if r[0] > t_acked]
    print("stopped leader: v2 acknowledged %.2fs after the stop; %d reads, "
          "%d started after it: %r" % (
              t_acked - t_stop, len(reads), len(after),
              sorted({(r[3], r[4][:40]) for r in reads})))
    assert len(after) >= 10
    for started, finished, name, status, got in reads:
        # Bounded: the leader wait, plus one read-index request's timeout
        # and an answer from the new leader.
        assert finished - started < LEADER_WAIT + 3.0, (
            name, status, got, finished - started)
        if status == 200:
            assert got in ("v1", "v2"), (name, got)
            if started > t_acked:
                assert got == "v2", (
                    "%s served a stale default read %.2fs after v2 was "
                    "acknowledged" % (name, started - t_acked))
        else:
            assert status == 500 and "No cluster leader" in got, (
                name, status, got)
    # Once the new leader is settled every follower read succeeds with v2.
    assert all(r[3] == 200 and r[4] == "v2" for r in after[-4:]), after[-4:]
