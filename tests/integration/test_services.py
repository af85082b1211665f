"""Service registration through the agent and the catalog, and every read
endpoint that must show it (Consul HTTP API shapes)."""

import pytest

from sider_testlib import uniq, wait_until


def full_registration(name, sid, http_url, tcp_addr):
    return {
        "ID": sid,
        "Name": name,
        "Tags": ["primary", "v1"],
        "Address": "127.0.0.1",
        "Port": 8080,
        "Meta": {"version": "1.2.3", "team": "core"},
        "Weights": {"Passing": 10, "Warning": 1},
        "Check": {"CheckID": sid + "-ttl", "Name": "ttl", "TTL": "30s",
                  "Status": "passing"},
        "Checks": [
            {"CheckID": sid + "-http", "Name": "http", "HTTP": http_url,
             "Interval": "1s", "Timeout": "1s"},
            {"CheckID": sid + "-tcp", "Name": "tcp", "TCP": tcp_addr,
             "Interval": "1s", "Timeout": "1s"},
            {"CheckID": sid + "-args", "Name": "args",
             "Args": ["/bin/sh", "-c", "echo fine; exit 0"], "Interval": "1s"},
        ],
    }


def test_register_with_all_check_types_is_visible_everywhere(api, http_target, tcp_target):
    name, sid = uniq("web"), uniq("web-id")
    node = api.node_name()
    api.register_service(full_registration(name, sid, http_target.url, tcp_target.addr))
    check_ids = {sid + s for s in ("-ttl", "-http", "-tcp", "-args")}

    # /v1/agent/services
    svc = api.agent_services()[sid]
    assert svc["ID"] == sid
    assert svc["Service"] == name
    assert sorted(svc["Tags"]) == ["primary", "v1"]
    assert svc["Meta"] == {"version": "1.2.3", "team": "core"}
    assert svc["Port"] == 8080
    assert svc["Address"] == "127.0.0.1"
    assert svc["Weights"] == {"Passing": 10, "Warning": 1}

    # /v1/agent/service/:id
    one = api.ok_json("/v1/agent/service/%s" % sid)
    assert (one["ID"], one["Service"], one["Port"]) == (sid, name, 8080)
    assert one["Meta"]["version"] == "1.2.3"

    # /v1/agent/checks: all four, bound to the service, with Consul's types
    checks = api.agent_checks()
    assert check_ids <= set(checks)
    types = {cid: checks[cid].get("Type") for cid in check_ids}
    assert types == {sid + "-ttl": "ttl", sid + "-http": "http",
                     sid + "-tcp": "tcp", sid + "-args": "script"}
    for cid in check_ids:
        assert checks[cid]["ServiceID"] == sid
        assert checks[cid]["ServiceName"] == name
        assert checks[cid]["Node"] == node

    # /v1/catalog/services: name -> tags
    r = api.get("/v1/catalog/services")
    assert r.status_code == 200
    assert sorted(r.json()[name]) == ["primary", "v1"]

    # /v1/catalog/service/:name
    inst = api.ok_json("/v1/catalog/service/%s" % name)
    assert len(inst) == 1
    e = inst[0]
    assert e["Node"] == node
    assert e["ServiceID"] == sid
    assert e["ServiceName"] == name
    assert sorted(e["ServiceTags"]) == ["primary", "v1"]
    assert e["ServicePort"] == 8080
    assert e["ServiceAddress"] == "127.0.0.1"
    assert e["ServiceMeta"] == {"version": "1.2.3", "team": "core"}
    assert e["ServiceWeights"] == {"Passing": 10, "Warning": 1}
    assert e["Datacenter"] == "dc1"
    assert e["CreateIndex"] > 0 and e["ModifyIndex"] >= e["CreateIndex"]

    # /v1/catalog/node/:node
    nd = api.ok_json("/v1/catalog/node/%s" % node)
    assert nd["Services"][sid]["Service"] == name

    # /v1/health/checks/:service
    hc = api.ok_json("/v1/health/checks/%s" % name)
    assert {c["CheckID"] for c in hc} == check_ids

    # /v1/health/node/:node includes the service's checks
    hn = api.ok_json("/v1/health/node/%s" % node)
    assert check_ids <= {c["CheckID"] for c in hn}

    # All four checks become passing, and then the instance is passing.
    def all_passing():
        cs = api.agent_checks()
        return all(cs[c]["Status"] == "passing" for c in check_ids)
    wait_until(all_passing, 20, desc="TTL/HTTP/TCP/Args checks all passing")
    entries = api.ok_json("/v1/health/service/%s?passing" % name)
    assert [x["Service"]["ID"] for x in entries] == [sid]
    ent = entries[0]
    assert ent["Node"]["Node"] == node
    assert ent["Service"]["Service"] == name
    assert ent["Service"]["Port"] == 8080
    assert check_ids <= {c["CheckID"] for c in ent["Checks"]}

    # /v1/health/state/passing and /any contain them
    passing = {c["CheckID"] for c in api.ok_json("/v1/health/state/passing")}
    anyst = {c["CheckID"] for c in api.ok_json("/v1/health/state/any")}
    assert check_ids <= passing
    assert check_ids <= anyst

    # Deregister removes the service and its checks everywhere.
    api.deregister_service(sid)
    assert sid not in api.agent_services()
    assert not check_ids & set(api.agent_checks())
    assert name not in api.ok_json("/v1/catalog/services")
    assert api.ok_json("/v1/catalog/service/%s" % name) == []
    assert api.ok_json("/v1/health/service/%s" % name) == []
    assert api.ok_json("/v1/health/checks/%s" % name) == []
    assert api.get("/v1/agent/service/%s" % sid).status_code == 404


def test_service_id_defaults_to_name_and_single_check_id_is_service_colon_id(api):
    name = uniq("defid")
    api.register_service({"Name": name, "Port": 81, "Check": {"TTL": "30s"}})
    assert api.agent_services()[name]["ID"] == name
    c = api.check("service:%s" % name)
    assert c is not None, "single Check must get CheckID service:<id>"
    assert c["ServiceID"] == name
    api.deregister_service(name)


def test_multiple_checks_without_ids_are_numbered_from_one(api):
    name = uniq("multi")
    api.register_service({"Name": name, "ID": name, "Checks": [
        {"TTL": "30s"}, {"TTL": "30s"}]})
    ids = {c for c, v in api.agent_checks().items() if v.get("ServiceID") == name}
    assert ids == {"service:%s:1" % name, "service:%s:2" % name}
    api.deregister_service(name)


def test_lowercase_json_keys_are_accepted_like_consul(api):
    # Consul decodes bodies case-insensitively (Go encoding/json);
    # python-consul sends lowercase keys.
    name = uniq("lower")
    api.register_service({"name": name, "id": name + "-1", "port": 9000,
                          "tags": ["a"], "check": {"ttl": "30s"}})
    svc = api.agent_services()[name + "-1"]
    assert (svc["Service"], svc["Port"], svc["Tags"]) == (name, 9000, ["a"])
    assert api.check("service:%s-1" % name) is not None
    api.deregister_service(name + "-1")


def test_reregistering_same_id_updates_in_place(api):
    name = uniq("rereg")
    api.register_service({"Name": name, "ID": name, "Port": 1, "Tags": ["old"]})
    api.register_service({"Name": name, "ID": name, "Port": 2, "Tags": ["new"]})
    inst = api.ok_json("/v1/catalog/service/%s" % name)
    assert len(inst) == 1
    assert (inst[0]["ServicePort"], inst[0]["ServiceTags"]) == (2, ["new"])
    api.deregister_service(name)


def test_catalog_service_filters_by_repeated_tag_with_and_semantics(api):
    name = uniq("tags")
    api.register_service({"Name": name, "ID": name + "-a", "Tags": ["x", "y"]})
    api.register_service({"Name": name, "ID": name + "-b", "Tags": ["x"]})
    api.register_service({"Name": name, "ID": name + "-c", "Tags": ["y"]})

    def ids(path, params):
        return sorted(e["ServiceID"] for e in api.ok_json(path, params=params))

    path = "/v1/catalog/service/%s" % name
    assert ids(path, [("tag", "x")]) == [name + "-a", name + "-b"]
    assert ids(path, [("tag", "x"), ("tag", "y")]) == [name + "-a"]
    assert ids(path, [("tag", "nope")]) == []
    assert sorted(api.ok_json("/v1/catalog/services")[name]) == ["x", "y"]

    # Same filter on /v1/health/service (no checks -> passing)
    hp = "/v1/health/service/%s" % name
    got = sorted(e["Service"]["ID"] for e in api.ok_json(hp, params=[("tag", "y")]))
    assert got == [name + "-a", name + "-c"]
    got = sorted(e["Service"]["ID"] for e in
                 api.ok_json(hp, params=[("tag", "x"), ("tag", "y")]))
    assert got == [name + "-a"]
    for s in "abc":
        api.deregister_service(name + "-" + s)


def test_health_service_passing_filter_accepts_flag_forms(api):
    name = uniq("pforms")
    api.register_service({"Name": name, "ID": name + "-ok",
                          "Check": {"TTL": "30s", "Status": "passing"}})
    api.register_service({"Name": name, "ID": name + "-bad", "Check": {"TTL": "30s"}})
    assert api.health_ids(name) == sorted([name + "-ok", name + "-bad"])
    for q in ("?passing", "?passing=1", "?passing=true"):
        got = sorted(e["Service"]["ID"] for e in
                     api.ok_json("/v1/health/service/%s%s" % (name, q)))
        assert got == [name + "-ok"], q
    got = sorted(e["Service"]["ID"] for e in
                 api.ok_json("/v1/health/service/%s?passing=false" % name))
    assert got == sorted([name + "-ok", name + "-bad"])
    for s in ("-ok", "-bad"):
        api.deregister_service(name + s)


def test_health_state_endpoints_partition_checks_by_status(api):
    name = uniq("state")
    api.register_service({"Name": name, "ID": name, "Checks": [
        {"CheckID": name + "-p", "TTL": "30s", "Status": "passing"},
        {"CheckID": name + "-w", "TTL": "30s", "Status": "warning"},
        {"CheckID": name + "-c", "TTL": "30s"}]})

    def ids(state):
        return {c["CheckID"] for c in api.ok_json("/v1/health/state/%s" % state)
                if c.get("ServiceID") == name}

    assert ids("passing") == {name + "-p"}
    assert ids("warning") == {name + "-w"}
    assert ids("critical") == {name + "-c"}
    assert ids("any") == {name + "-p", name + "-w", name + "-c"}
    r = api.get("/v1/health/state/bogus")
    assert r.status_code == 400
    assert api.health_ids(name, passing=True) == []
    api.deregister_service(name)


def test_catalog_register_and_deregister_external_node(api):
    node, name, sid = uniq("ext-node"), uniq("redis"), uniq("redis-id")
    body = {
        "Datacenter": "dc1",
        "Node": node,
        "Address": "10.20.30.40",
        "NodeMeta": {"rack": "r1", "zone": "z9"},
        "Service": {"ID": sid, "Service": name, "Tags": ["primary"],
                    "Address": "10.20.30.41", "Port": 6379,
                    "Meta": {"role": "leader"}},
        "Check": {"Node": node, "CheckID": "service:" + sid, "Name": "redis alive",
                  "Status": "passing", "ServiceID": sid},
    }
    r = api.put("/v1/catalog/register", json=body)
    assert r.status_code == 200, r.text
    assert r.json() is True

    nodes = {n["Node"]: n for n in api.ok_json("/v1/catalog/nodes")}
    assert nodes[node]["Address"] == "10.20.30.40"
    assert nodes[node]["Meta"] == {"rack": "r1", "zone": "z9"}

    filtered = api.ok_json("/v1/catalog/nodes", params={"node-meta": "rack:r1"})
    assert node in [n["Node"] for n in filtered]
    assert api.node_name() not in [n["Node"] for n in filtered]

    nd = api.ok_json("/v1/catalog/node/%s" % node)
    assert nd["Node"]["Address"] == "10.20.30.40"
    assert nd["Services"][sid]["Port"] == 6379

    inst = api.ok_json("/v1/catalog/service/%s" % name, params={"node-meta": "rack:r1"})
    assert [(e["Node"], e["ServiceID"], e["Address"], e["ServiceAddress"])
            for e in inst] == [(node, sid, "10.20.30.40", "10.20.30.41")]
    assert api.ok_json("/v1/catalog/service/%s" % name,
                       params={"node-meta": "rack:r2"}) == []
    both = api.ok_json("/v1/catalog/service/%s" % name,
                       params=[("node-meta", "rack:r1"), ("node-meta", "zone:z9")])
    assert len(both) == 1

    hs = api.ok_json("/v1/health/service/%s?passing" % name)
    assert [e["Service"]["ID"] for e in hs] == [sid]
    assert api.ok_json("/v1/health/service/%s" % name,
                       params={"node-meta": "rack:nope"}) == []
    hn = api.ok_json("/v1/health/node/%s" % node)
    assert {c["CheckID"] for c in hn} == {"service:" + sid}

    # Catalog-registered services on another node are not the agent's own.
    assert sid not in api.agent_services()

    # Deregister just the service, then the node.
    r = api.put("/v1/catalog/deregister", json={"Node": node, "ServiceID": sid})
    assert r.status_code == 200, r.text
    assert r.json() is True
    assert api.ok_json("/v1/catalog/service/%s" % name) == []
    assert node in [n["Node"] for n in api.ok_json("/v1/catalog/nodes")]

    r = api.put("/v1/catalog/deregister", json={"Datacenter": "dc1", "Node": node})
    assert r.status_code == 200, r.text
    assert node not in [n["Node"] for n in api.ok_json("/v1/catalog/nodes")]
    assert api.ok_json("/v1/health/node/%s" % node) == []


def test_catalog_deregister_single_check(api):
    node, name = uniq("ext-chk"), uniq("svc")
    r = api.put("/v1/catalog/register", json={
        "Node": node, "Address": "10.0.0.9",
        "Service": {"ID": name, "Service": name, "Port": 1},
        "Checks": [{"CheckID": "a", "Name": "a", "Status": "passing", "ServiceID": name},
                   {"CheckID": "b", "Name": "b", "Status": "critical", "ServiceID": name}]})
    assert r.status_code == 200, r.text
    assert api.health_ids(name, passing=True) == []
    r = api.put("/v1/catalog/deregister", json={"Node": node, "CheckID": "b"})
    assert r.status_code == 200, r.text
    assert api.health_ids(name, passing=True) == [name]
    api.put("/v1/catalog/deregister", json={"Node": node})


def test_agent_service_of_unknown_id_is_404(api):
    r = api.get("/v1/agent/service/%s" % uniq("nope"))
    assert r.status_code == 404


@pytest.mark.parametrize("verb", ["pass", "warn", "fail"])
def test_ttl_verbs_set_status_and_note_as_output(api, verb):
    name = uniq("verb")
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "30s"}})
    cid = "service:" + name
    api.check_pass(cid, note="note for %s" % verb, verb=verb)
    c = api.check(cid)
    expect = {"pass": "passing", "warn": "warning", "fail": "critical"}[verb]
    assert c["Status"] == expect
    assert c["Output"] == "note for %s" % verb
    api.deregister_service(name)
