"""python-consul 0.7.1 (Debian python3-consul) works against Sider unchanged.

That client sends lowercase JSON keys ({"name":..,"check":{"ttl":..}}) and
uses GET for /v1/agent/check/pass|warn|fail/:id and for
/v1/agent/service|check/deregister/:id (the Consul 0.x verbs). Consul 1.x
answers those GETs with 405; Sider accepts them so this client keeps working.
"""

import functools
import time
from concurrent.futures import ThreadPoolExecutor

import consul
import pytest

from sider_testlib import uniq


def make_client(server):
    cl = consul.Consul(host="127.0.0.1", port=server.http_port)
    # python-consul sets no HTTP timeout; bound every call of the suite.
    sess = cl.http.session
    for verb in ("get", "put", "delete", "post"):
        setattr(sess, verb, functools.partial(getattr(sess, verb), timeout=60))
    return cl


@pytest.fixture
def c(server):
    return make_client(server)


def test_status_and_agent_self(c, server):
    assert c.status.leader() == "127.0.0.1:%d" % server.raft_port
    assert c.status.peers() == ["127.0.0.1:%d" % server.raft_port]
    me = c.agent.self()
    assert me["Config"]["Datacenter"] == "dc1"
    assert c.catalog.datacenters() == ["dc1"]


def test_register_pass_discover_deregister(c):
    name, sid = uniq("py"), uniq("py-id")
    assert c.agent.service.register(name, service_id=sid, port=8080,
                                    tags=["primary", "v2"],
                                    check=consul.Check.ttl("10s")) is True
    assert c.agent.services()[sid]["Service"] == name

    idx, nodes = c.health.service(name, passing=True)
    assert int(idx) > 0
    assert nodes == []  # new TTL check is critical

    assert c.agent.check.ttl_pass("service:" + sid, notes="warmed up") is True
    idx, nodes = c.health.service(name, passing=True)
    assert [n["Service"]["ID"] for n in nodes] == [sid]
    assert nodes[0]["Service"]["Port"] == 8080

    idx, services = c.catalog.services()
    assert sorted(services[name]) == ["primary", "v2"]
    idx, inst = c.catalog.service(name)
    assert [(i["ServiceID"], i["ServicePort"]) for i in inst] == [(sid, 8080)]
    idx, inst = c.catalog.service(name, tag="v2")
    assert len(inst) == 1
    idx, inst = c.catalog.service(name, tag="nope")
    assert inst == []

    assert c.agent.checks()["service:" + sid]["Output"] == "warmed up"
    assert c.agent.check.ttl_warn("service:" + sid, notes="slow") is True
    assert c.agent.checks()["service:" + sid]["Status"] == "warning"
    assert c.agent.check.ttl_fail("service:" + sid) is True
    assert c.agent.checks()["service:" + sid]["Status"] == "critical"

    assert c.agent.service.deregister(sid) is True
    assert sid not in c.agent.services()
    idx, inst = c.catalog.service(name)
    assert inst == []


def test_blocking_health_service_wakes_on_ttl_pass(c, server):
    name = uniq("py-block")
    c.agent.service.register(name, service_id=name, check=consul.Check.ttl("30s"))
    idx, nodes = c.health.service(name, passing=True)
    assert nodes == []

    watcher = make_client(server)  # its own HTTP session, in its own thread

    def watch(index):
        # Re-watch on wake-ups that do not show the instance yet (bounded).
        t0 = time.monotonic()
        for _ in range(10):
            index, nodes = watcher.health.service(name, index=index, wait="20s", passing=True)
            if nodes:
                return index, nodes, time.monotonic() - t0
        raise AssertionError("never saw the instance pass")

    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(watch, idx)
        time.sleep(0.4)
        c.agent.check.ttl_pass("service:" + name)
        new_idx, nodes, took = fut.result(timeout=60)
    assert int(new_idx) > int(idx)
    assert [n["Service"]["ID"] for n in nodes] == [name]
    assert took < 10

    # No change: a blocking call returns after its wait with the same index.
    t0 = time.monotonic()
    same_idx, _ = c.health.service(name, index=new_idx, wait="1s", passing=True)
    assert time.monotonic() - t0 >= 0.7
    assert same_idx == new_idx
    c.agent.service.deregister(name)


def test_check_register_and_deregister(c, tcp_target):
    name = uniq("py-chk")
    c.agent.service.register(name, service_id=name)
    cid = uniq("py-tcp")
    assert c.agent.check.register("tcp probe", check_id=cid, service_id=name,
                                  check=consul.Check.tcp("127.0.0.1", tcp_target.port,
                                                         "1s")) is True
    deadline = time.monotonic() + 15
    status = None
    for _ in range(300):
        status = c.agent.checks().get(cid, {}).get("Status")
        if status == "passing" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == "passing"
    assert c.agent.checks()[cid]["ServiceID"] == name
    assert c.agent.check.deregister(cid) is True
    assert cid not in c.agent.checks()
    c.agent.service.deregister(name)


def test_service_maintenance_via_client(c):
    name = uniq("py-maint")
    c.agent.service.register(name, service_id=name)
    assert c.agent.service.maintenance(name, "true", "deploy") is True
    assert c.agent.checks()["_service_maintenance:" + name]["Status"] == "critical"
    _, nodes = c.health.service(name, passing=True)
    assert nodes == []
    assert c.agent.service.maintenance(name, "false") is True
    _, nodes = c.health.service(name, passing=True)
    assert [n["Service"]["ID"] for n in nodes] == [name]
    c.agent.service.deregister(name)


def test_catalog_register_and_deregister_via_client(c):
    node, name = uniq("py-node"), uniq("py-ext")
    assert c.catalog.register(node, "10.5.5.5",
                              service={"Service": name, "ID": name, "Port": 5432,
                                       "Tags": ["db"]},
                              check={"Node": node, "CheckID": "service:" + name,
                                     "Name": "pg", "Status": "passing",
                                     "ServiceID": name}) is True
    _, inst = c.catalog.service(name)
    assert [(i["Node"], i["Address"], i["ServicePort"]) for i in inst] == \
        [(node, "10.5.5.5", 5432)]
    _, nodes = c.health.service(name, passing=True)
    assert len(nodes) == 1
    assert c.catalog.deregister(node, service_id=name) is True
    _, inst = c.catalog.service(name)
    assert inst == []
    assert c.catalog.deregister(node) is True
    _, nodes = c.catalog.nodes()
    assert node not in [n["Node"] for n in nodes]


def test_legacy_get_verbs_used_by_python_consul_are_accepted(server):
    api = server.api
    name = uniq("get-verbs")
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "30s"}})
    cid = "service:" + name
    for verb, status in (("pass", "passing"), ("warn", "warning"), ("fail", "critical")):
        r = api.get("/v1/agent/check/%s/%s" % (verb, cid), params={"note": verb})
        assert r.status_code == 200, (verb, r.status_code, r.text)
        assert api.check(cid)["Status"] == status
    extra = uniq("get-chk")
    r = api.put("/v1/agent/check/register", json={"ID": extra, "Name": "x", "TTL": "30s"})
    assert r.status_code == 200
    r = api.get("/v1/agent/check/deregister/%s" % extra)
    assert r.status_code == 200, r.text
    assert api.check(extra) is None
    r = api.get("/v1/agent/service/deregister/%s" % name)
    assert r.status_code == 200, r.text
    assert name not in api.agent_services()
