"""Service and node maintenance mode (/v1/agent/service/maintenance/:id,
/v1/agent/maintenance), Consul semantics: a critical check named
_service_maintenance:<id> / _node_maintenance appears while enabled."""

from sider_testlib import uniq


def test_service_maintenance_adds_critical_check_and_disabling_removes_it(api):
    name = uniq("maint")
    api.register_service({"Name": name, "ID": name,
                          "Check": {"TTL": "30s", "Status": "passing"}})
    assert api.health_ids(name, passing=True) == [name]
    mcid = "_service_maintenance:" + name

    r = api.put("/v1/agent/service/maintenance/%s" % name,
                params={"enable": "true", "reason": "upgrading to v2"})
    assert r.status_code == 200, r.text
    c = api.check(mcid)
    assert c is not None, "no %s check while in maintenance" % mcid
    assert c["Status"] == "critical"
    assert c["Notes"] == "upgrading to v2"
    assert c["ServiceID"] == name
    assert api.health_ids(name, passing=True) == []
    assert api.health_ids(name) == [name]  # still registered
    assert mcid in {x["CheckID"] for x in api.ok_json("/v1/health/checks/%s" % name)}
    assert mcid in {x["CheckID"] for x in api.ok_json("/v1/health/state/critical")}

    # Enabling twice is idempotent: still exactly one maintenance check.
    r = api.put("/v1/agent/service/maintenance/%s" % name, params={"enable": "true"})
    assert r.status_code == 200
    assert [k for k in api.agent_checks() if k == mcid] == [mcid]

    r = api.put("/v1/agent/service/maintenance/%s" % name, params={"enable": "false"})
    assert r.status_code == 200, r.text
    assert api.check(mcid) is None
    assert api.health_ids(name, passing=True) == [name]
    api.deregister_service(name)


def test_service_maintenance_on_unknown_service_is_404(api):
    r = api.put("/v1/agent/service/maintenance/%s" % uniq("ghost"),
                params={"enable": "true"})
    assert r.status_code == 404


def test_deregistering_service_in_maintenance_removes_maintenance_check(api):
    name = uniq("maint-dereg")
    api.register_service({"Name": name, "ID": name})
    r = api.put("/v1/agent/service/maintenance/%s" % name, params={"enable": "true"})
    assert r.status_code == 200
    api.deregister_service(name)
    assert api.check("_service_maintenance:" + name) is None


def test_node_maintenance_makes_every_instance_non_passing(fresh_server):
    api = fresh_server.api
    a, b = uniq("nm-a"), uniq("nm-b")
    api.register_service({"Name": a, "ID": a})
    api.register_service({"Name": b, "ID": b})
    assert api.health_ids(a, passing=True) == [a]

    r = api.put("/v1/agent/maintenance", params={"enable": "true", "reason": "kernel"})
    assert r.status_code == 200, r.text
    c = api.check("_node_maintenance")
    assert c is not None
    assert c["Status"] == "critical"
    assert c["Notes"] == "kernel"
    assert c["ServiceID"] == ""
    node = api.node_name()
    assert "_node_maintenance" in {x["CheckID"] for x in
                                   api.ok_json("/v1/health/node/%s" % node)}
    assert api.health_ids(a, passing=True) == []
    assert api.health_ids(b, passing=True) == []

    r = api.put("/v1/agent/maintenance", params={"enable": "false"})
    assert r.status_code == 200, r.text
    assert api.check("_node_maintenance") is None
    assert api.health_ids(a, passing=True) == [a]
    assert api.health_ids(b, passing=True) == [b]
