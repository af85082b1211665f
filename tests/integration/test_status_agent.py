"""/v1/status/*, /v1/agent/self, /v1/catalog/datacenters, /v1/catalog/nodes
for a single-node `sider dev`."""

import re

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_status_leader_is_json_string_of_raft_address(server, api):
    r = api.get("/v1/status/leader")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == "127.0.0.1:%d" % server.raft_port


def test_status_peers_lists_the_single_voter(server, api):
    r = api.get("/v1/status/peers")
    assert r.status_code == 200
    assert r.json() == ["127.0.0.1:%d" % server.raft_port]


def test_agent_self_describes_a_dc1_server(api):
    me = api.ok_json("/v1/agent/self")
    cfg = me["Config"]
    assert cfg["Datacenter"] == "dc1"
    assert isinstance(cfg["NodeName"], str) and cfg["NodeName"]
    assert UUID_RE.match(cfg["NodeID"]), cfg["NodeID"]
    assert cfg["Server"] is True
    assert isinstance(me["Member"], dict)
    assert me["Member"]["Name"] == cfg["NodeName"]


def test_catalog_datacenters_is_dc1(api):
    r = api.get("/v1/catalog/datacenters")
    assert r.status_code == 200
    assert r.json() == ["dc1"]


def test_catalog_nodes_contains_the_agent_node(api):
    me = api.ok_json("/v1/agent/self")["Config"]
    r = api.get("/v1/catalog/nodes")
    assert r.status_code == 200
    nodes = {n["Node"]: n for n in r.json()}
    assert me["NodeName"] in nodes
    node = nodes[me["NodeName"]]
    assert node["ID"] == me["NodeID"]
    assert node["Datacenter"] == "dc1"
    assert isinstance(node["Address"], str) and node["Address"]


def test_catalog_node_of_agent_node_has_node_and_services(api):
    name = api.node_name()
    body = api.ok_json("/v1/catalog/node/%s" % name)
    assert body["Node"]["Node"] == name
    assert isinstance(body["Services"], dict)
