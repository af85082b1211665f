"""Any node serves any request; leader-only duties (docs/consistency.md).

Three real `sider server` processes on loopback (cluster_lib.Cluster:
--bootstrap-expect 3, each --joins the others). Every wait is bounded.
"""

import time

import pytest
import requests

import cluster_lib
import sider_testlib as lib

NODE_TTL = 5.0  # run_server.cc's kNodeTtl.


def _forwarding_works(c):
    """Every server forwards a write to the leader (which needs the
    leader's HTTP address from the catalog)."""
    for n in c.running():
        w = n.api.put("/v1/catalog/register", timeout=5, json={
            "Node": "_formed-" + n.name, "Address": "127.0.0.9"})
        if w.status_code != 200:
            return False
    return True


def _make_cluster(sider_bin, tmp_path_factory, name):
    c = cluster_lib.Cluster(sider_bin, tmp_path_factory.mktemp(name), 3)
    try:
        c.start()
        c.wait_members(["n1", "n2", "n3"])
        lib.wait_until(lambda: _forwarding_works(c), 60, interval=0.2,
                       desc="every server forwards to the leader")
    except BaseException:
        c.stop_all()
        raise
    return c


@pytest.fixture(scope="module")
def cluster(sider_bin, tmp_path_factory):
    c = _make_cluster(sider_bin, tmp_path_factory, "cc-shared")
    yield c
    c.stop_all()


@pytest.fixture
def own_cluster(sider_bin, tmp_path_factory, request):
    c = _make_cluster(sider_bin, tmp_path_factory, "cc-" + request.node.name[:30])
    yield c
    c.stop_all()


# ---- forwarding -----------------------------------------------------------

def test_follower_forwards_writes_with_status_and_body_unchanged(cluster):
    leader = cluster.wait_leader()
    follower = cluster.followers()[0]
    name = lib.uniq("fwd")
    body = {"Node": name, "Address": "127.0.0.2",
            "Service": {"Service": name, "Port": 80}}
    r = follower.api.put("/v1/catalog/register", json=body)
    assert r.status_code == 200, r.text
    assert r.text == "true"
    assert int(r.headers["X-Consul-Index"]) > 0
    # An error answer comes back unchanged too: same status and text as
    # the leader gives for the same request.
    bad = {"Node": name, "Address": "127.0.0.2",
           "Check": {"CheckID": "c", "Name": "c", "ServiceID": "missing"}}
    from_leader = leader.api.put("/v1/catalog/register", json=bad)
    from_follower = follower.api.put("/v1/catalog/register", json=bad)
    assert from_leader.status_code >= 400
    assert from_follower.status_code == from_leader.status_code
    assert from_follower.text == from_leader.text
    assert from_follower.headers.get("Content-Type") == \
        from_leader.headers.get("Content-Type")


def test_default_reads_on_a_follower_see_its_own_writes(cluster):
    follower = cluster.followers()[-1]
    for i in range(20):
        name = lib.uniq("ryw")
        r = follower.api.put("/v1/catalog/register", json={
            "Node": name, "Address": "127.0.0.3",
            "Service": {"Service": name, "Port": 1000 + i}})
        assert r.status_code == 200, r.text
        # Default mode is linearizable: the write is visible at once, from
        # the follower that forwarded it.
        got = follower.api.get("/v1/catalog/service/" + name)
        assert got.status_code == 200
        assert [s["ServicePort"] for s in got.json()] == [1000 + i]
        got = follower.api.get("/v1/catalog/service/%s?consistent" % name)
        assert [s["ServicePort"] for s in got.json()] == [1000 + i]


def test_stale_reads_are_served_locally_with_last_contact(cluster):
    follower = cluster.followers()[0]
    name = lib.uniq("stale")
    assert follower.api.put("/v1/catalog/register", json={
        "Node": name, "Address": "127.0.0.4",
        "Service": {"Service": name}}).status_code == 200
    got = lib.wait_until(
        lambda: (lambda r: r if r.status_code == 200 and r.json() else None)(
            follower.api.get("/v1/catalog/service/%s?stale" % name)),
        10, desc="the write replicated to the follower")
    assert got.headers["X-Consul-KnownLeader"] == "true"
    contact = got.headers["X-Consul-LastContact"]
    assert contact.isdigit()
    assert int(contact) < 5000  # Heartbeats arrive every 30 ms.
    # max_stale generous enough: still served here, still fine.
    r = follower.api.get("/v1/catalog/service/%s?stale&max_stale=10s" % name)
    assert r.status_code == 200 and r.json()


def test_agent_registration_through_a_follower_lands_on_it_and_its_check_runs_there(cluster):
    follower = cluster.followers()[0]
    target = lib.StatusHTTPServer(status=200)
    try:
        name = lib.uniq("agentfwd")
        r = follower.api.put("/v1/agent/service/register", json={
            "Name": name, "Port": 8080,
            "Check": {"HTTP": target.url, "Interval": "1s"}})
        assert r.status_code == 200, r.text
        rows = lib.wait_until(
            lambda: follower.api.get("/v1/catalog/service/" + name).json(),
            10, desc="the service in the catalog")
        assert rows[0]["Node"] == follower.name
        # The follower's own agent view has it (local read, replicated).
        lib.wait_until(lambda: name in follower.api.get(
            "/v1/agent/services").json(), 10, desc="agent/services on follower")

        def status():
            rows = follower.api.get("/v1/health/checks/" + name).json()
            return rows[0]["Status"] if rows else None
        lib.wait_until(lambda: status() == "passing", 15,
                       desc="the HTTP check passing")
        # The probe runs on the follower and its results reach the leader:
        # a failing target turns the check critical.
        target.status = 500
        lib.wait_until(lambda: status() == "critical", 15,
                       desc="the HTTP check critical")
        # A TTL pass through the follower also lands on its node's check.
        r = follower.api.put("/v1/agent/check/register", json={
            "Name": name + "-ttl", "TTL": "30s", "ServiceID": name})
        assert r.status_code == 200, r.text
        ttl_id = lib.wait_until(lambda: [
            cid for cid, ch in follower.api.get("/v1/agent/checks").json().items()
            if ch["Name"] == name + "-ttl"], 10, desc="the TTL check")[0]
        r = follower.api.put("/v1/agent/check/pass/" + ttl_id)
        assert r.status_code == 200, r.text
        lib.wait_until(
            lambda: follower.api.get("/v1/agent/checks").json()[ttl_id][
                "Status"] == "passing", 10, desc="the TTL check passing")
        hits = target.hits
        assert hits > 0  # Probed by the follower (nobody else runs it).
    finally:
        target.close()


# ---- failures -------------------------------------------------------------

def test_node_failure_detector_marks_a_dead_follower_critical(own_cluster):
    c = own_cluster
    victim = c.followers()[0]
    leader = c.wait_leader()
    name = lib.uniq("dies")
    r = victim.api.put("/v1/agent/service/register",
                       json={"Name": name, "Port": 9})
    assert r.status_code == 200, r.text

    def passing_ids():
        return [row["Service"]["ID"] for row in leader.api.get(
            "/v1/health/service/%s?passing" % name).json()]
    lib.wait_until(lambda: passing_ids() == [name], 10,
                   desc="the service passing")
    serf = lib.wait_until(
        lambda: [ch for ch in leader.api.get(
            "/v1/health/node/" + victim.name).json()
            if ch["CheckID"] == "serfHealth"], 10, desc="serfHealth")
    assert serf[0]["Status"] == "passing"

    t0 = time.monotonic()
    c.kill9(victim)

    def serf_status():
        for ch in leader.api.get("/v1/health/node/" + victim.name).json():
            if ch["CheckID"] == "serfHealth":
                return ch["Status"], ch["Output"]
        return None
    st = lib.wait_until(lambda: (lambda s: s if s and s[0] == "critical"
                                 else None)(serf_status()),
                        NODE_TTL + 10, desc="serfHealth critical")
    took = time.monotonic() - t0
    assert st[1] == "Agent not live or unreachable"
    assert took >= NODE_TTL - 1.5, "marked critical before the node TTL"
    assert passing_ids() == []


def test_without_quorum_writes_and_default_reads_fail_fast_and_stale_serves(own_cluster):
    c = own_cluster
    survivor = c.followers()[0]
    name = lib.uniq("quorum")
    assert survivor.api.put("/v1/catalog/register", json={
        "Node": name, "Address": "127.0.0.5",
        "Service": {"Service": name}}).status_code == 200
    lib.wait_until(lambda: survivor.api.get(
        "/v1/catalog/service/%s?stale" % name).json(), 10,
        desc="replicated to the survivor")
    for n in c.running():
        if n is not survivor:
            c.kill9(n)
    # Let the survivor notice the leader is gone (election timeout), then
    # every request must come back within a few seconds.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if survivor.api.get("/v1/status/leader").json() == "":
            break
        time.sleep(0.1)
    for method, path, kw in [
            ("PUT", "/v1/catalog/register",
             {"json": {"Node": name, "Address": "127.0.0.6"}}),
            ("GET", "/v1/catalog/service/" + name, {}),
            ("GET", "/v1/health/service/%s?consistent" % name, {})]:
        t0 = time.monotonic()
        r = survivor.api.request(method, path, timeout=15, **kw)
        took = time.monotonic() - t0
        assert r.status_code == 500, (method, path, r.status_code, r.text)
        assert "No cluster leader" in r.text
        assert took < 5.0, "%s %s took %.1fs" % (method, path, took)
    r = survivor.api.get("/v1/catalog/service/%s?stale" % name)
    assert r.status_code == 200
    assert r.json()[0]["ServiceName"] == name
    assert r.headers["X-Consul-KnownLeader"] == "false"
    assert int(r.headers["X-Consul-LastContact"]) > 0
