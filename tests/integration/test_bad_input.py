"""Bad input on every write endpoint is rejected with the right 4xx, and a
rejected write leaves the catalog exactly as it was."""

import json

import pytest

import sider_testlib as lib
from sider_testlib import index_of, uniq

CANARY = uniq("canary")  # a service that exists, for update/pass targets
CANARY_CHECK = "service:" + CANARY
GHOST = uniq("ghost")    # a name nothing is registered under
N = uniq("bad")          # name used inside rejected bodies

BIG = 2 * 1024 * 1024    # 2 MiB: must exceed the request body limit


def j(obj):
    return json.dumps(obj).encode()


def padded(obj_prefix, size):
    """Valid JSON of about `size` bytes: whitespace padding inside an object,
    so only the size is wrong with it."""
    return obj_prefix + b" " * size + b"}"


@pytest.fixture(scope="module", autouse=True)
def canary(server):
    api = server.api
    api.register_service({"Name": CANARY, "ID": CANARY, "Port": 1,
                          "Check": {"TTL": "10m", "Status": "passing"}})
    return CANARY


def snapshot(api):
    r = api.get("/v1/catalog/services")
    return {
        "services_index": index_of(r),
        "catalog_services": r.json(),
        "agent_services": api.agent_services(),
        "agent_checks": {k: (v["Status"], v["Output"], v.get("Notes"))
                         for k, v in api.agent_checks().items()},
        "nodes": sorted(n["Node"] for n in api.ok_json("/v1/catalog/nodes")),
        "health_index": index_of(api.get("/v1/health/state/any")),
    }


def send(server, method, path, body=b""):
    return lib.raw_request("127.0.0.1", server.http_port, method, path, body)


SR = "/v1/agent/service/register"
CR = "/v1/agent/check/register"
CU = "/v1/agent/check/update/"

CASES = [
    # -- /v1/agent/service/register
    ("svc: malformed JSON", "PUT", SR, b'{"Name": "%s",' % N.encode(), 400),
    ("svc: JSON array, not object", "PUT", SR, j([N]), 400),
    ("svc: empty body", "PUT", SR, b"", 400),
    ("svc: Port as string", "PUT", SR, j({"Name": N, "Port": "abc"}), 400),
    ("svc: Port as float", "PUT", SR, j({"Name": N, "Port": 1.5}), 400),
    ("svc: Tags as string", "PUT", SR, j({"Name": N, "Tags": "primary"}), 400),
    ("svc: Tags with a number", "PUT", SR, j({"Name": N, "Tags": ["a", 1]}), 400),
    ("svc: Meta value not a string", "PUT", SR, j({"Name": N, "Meta": {"k": 1}}), 400),
    ("svc: missing Name", "PUT", SR, j({"ID": N, "Port": 1}), 400),
    ("svc: empty Name", "PUT", SR, j({"Name": "", "ID": N}), 400),
    ("svc: invalid TTL duration", "PUT", SR,
     j({"Name": N, "Check": {"TTL": "banana"}}), 400),
    ("svc: invalid Interval duration", "PUT", SR,
     j({"Name": N, "Check": {"HTTP": "http://127.0.0.1:1/", "Interval": "soon"}}), 400),
    ("svc: HTTP check without Interval", "PUT", SR,
     j({"Name": N, "Check": {"HTTP": "http://127.0.0.1:1/"}}), 400),
    ("svc: TTL and Interval together", "PUT", SR,
     j({"Name": N, "Check": {"TTL": "10s", "Interval": "10s"}}), 400),
    ("svc: invalid DeregisterCriticalServiceAfter", "PUT", SR,
     j({"Name": N, "Check": {"TTL": "10s", "DeregisterCriticalServiceAfter": "later"}}), 400),
    ("svc: bad check Status", "PUT", SR,
     j({"Name": N, "Check": {"TTL": "10s", "Status": "bogus"}}), 400),
    ("svc: second of Checks invalid (all-or-nothing)", "PUT", SR,
     j({"Name": N, "Checks": [{"TTL": "10s"}, {"TTL": "nope"}]}), 400),
    ("svc: Check as string", "PUT", SR, j({"Name": N, "Check": "ttl"}), 400),
    # -- /v1/agent/check/register
    ("chk: malformed JSON", "PUT", CR, b'{"Name": ', 400),
    ("chk: missing Name", "PUT", CR, j({"ID": N, "TTL": "10s"}), 400),
    ("chk: no check type", "PUT", CR, j({"Name": N, "ID": N}), 400),
    ("chk: bad Status", "PUT", CR, j({"Name": N, "TTL": "10s", "Status": "bogus"}), 400),
    ("chk: invalid TTL", "PUT", CR, j({"Name": N, "TTL": "forever"}), 400),
    ("chk: Args as string", "PUT", CR,
     j({"Name": N, "Args": "/bin/true", "Interval": "1s"}), 400),
    ("chk: unknown ServiceID", "PUT", CR,
     j({"Name": N, "TTL": "10s", "ServiceID": GHOST}), 404),
    # -- /v1/agent/check/update/:id
    ("upd: malformed JSON", "PUT", CU + CANARY_CHECK, b"{{", 400),
    ("upd: bad Status", "PUT", CU + CANARY_CHECK, j({"Status": "bogus"}), 400),
    ("upd: missing Status", "PUT", CU + CANARY_CHECK, j({"Output": "x"}), 400),
    ("upd: Output as number", "PUT", CU + CANARY_CHECK,
     j({"Status": "warning", "Output": 5}), 400),
    ("upd: unknown check", "PUT", CU + GHOST, j({"Status": "passing"}), 404),
    # -- pass / warn / fail / deregister of unknown ids
    ("pass: unknown check", "PUT", "/v1/agent/check/pass/" + GHOST, b"", 404),
    ("warn: unknown check", "PUT", "/v1/agent/check/warn/" + GHOST, b"", 404),
    ("fail: unknown check", "PUT", "/v1/agent/check/fail/" + GHOST, b"", 404),
    ("dereg: unknown service", "PUT", "/v1/agent/service/deregister/" + GHOST, b"", 404),
    ("dereg: unknown check", "PUT", "/v1/agent/check/deregister/" + GHOST, b"", 404),
    # -- maintenance
    ("svc maint: no enable", "PUT", "/v1/agent/service/maintenance/" + CANARY, b"", 400),
    ("svc maint: enable=maybe", "PUT",
     "/v1/agent/service/maintenance/%s?enable=maybe" % CANARY, b"", 400),
    ("svc maint: unknown service", "PUT",
     "/v1/agent/service/maintenance/%s?enable=true" % GHOST, b"", 404),
    ("node maint: no enable", "PUT", "/v1/agent/maintenance", b"", 400),
    ("node maint: enable=perhaps", "PUT", "/v1/agent/maintenance?enable=perhaps", b"", 400),
    # -- /v1/catalog/register and /v1/catalog/deregister
    ("cat reg: malformed JSON", "PUT", "/v1/catalog/register", b'{"Node"', 400),
    ("cat reg: missing Node", "PUT", "/v1/catalog/register",
     j({"Address": "10.9.9.9", "Service": {"Service": N}}), 400),
    ("cat reg: missing Address", "PUT", "/v1/catalog/register",
     j({"Node": N, "Service": {"Service": N}}), 400),
    ("cat reg: Service.Port as string", "PUT", "/v1/catalog/register",
     j({"Node": N, "Address": "10.9.9.9", "Service": {"Service": N, "Port": "abc"}}), 400),
    ("cat reg: Service without name", "PUT", "/v1/catalog/register",
     j({"Node": N, "Address": "10.9.9.9", "Service": {"ID": N}}), 400),
    ("cat reg: NodeMeta value not a string", "PUT", "/v1/catalog/register",
     j({"Node": N, "Address": "10.9.9.9", "NodeMeta": {"a": []}}), 400),
    ("cat dereg: malformed JSON", "PUT", "/v1/catalog/deregister", b"nope", 400),
    ("cat dereg: missing Node", "PUT", "/v1/catalog/deregister", j({"ServiceID": CANARY}), 400),
    # -- wrong method
    ("405: DELETE service/register", "DELETE", SR, b"", 405),
    ("405: GET service/register", "GET", SR, b"", 405),
    ("405: GET check/register", "GET", CR, b"", 405),
    ("405: POST catalog/services", "POST", "/v1/catalog/services", b"{}", 405),
    ("405: PUT catalog/services", "PUT", "/v1/catalog/services", b"{}", 405),
    ("405: GET catalog/register", "GET", "/v1/catalog/register", b"", 405),
    ("405: DELETE check/pass", "DELETE", "/v1/agent/check/pass/" + CANARY_CHECK, b"", 405),
    ("405: DELETE health/service", "DELETE", "/v1/health/service/" + CANARY, b"", 405),
    ("405: POST status/leader", "POST", "/v1/status/leader", b"", 405),
    # -- unknown paths
    ("404: /v1/nope", "GET", "/v1/nope", b"", 404),
    ("404: /v2/catalog/services", "GET", "/v2/catalog/services", b"", 404),
    ("404: /v1/agent/servicez", "GET", "/v1/agent/servicez", b"", 404),
    ("404: PUT /v1/agents/service/register", "PUT", "/v1/agents/service/register",
     j({"Name": N}), 404),
    # -- body over the limit
    ("413: service register 2MiB", "PUT", SR, padded(b'{"Name": "%s"' % N.encode(), BIG), 413),
    ("413: check register 2MiB", "PUT", CR,
     padded(b'{"Name": "%s", "TTL": "10s"' % N.encode(), BIG), 413),
    ("413: check update 2MiB", "PUT", CU + CANARY_CHECK,
     padded(b'{"Status": "critical"', BIG), 413),
    ("413: catalog register 2MiB", "PUT", "/v1/catalog/register",
     padded(b'{"Node": "%s", "Address": "10.9.9.9"' % N.encode(), BIG), 413),
]


@pytest.mark.parametrize("desc,method,path,body,expect", CASES,
                         ids=[c[0] for c in CASES])
def test_rejected_write_returns_4xx_and_leaves_catalog_unchanged(
        server, desc, method, path, body, expect):
    api = server.api
    before = snapshot(api)
    status, headers, reply = send(server, method, path, body)
    assert status == expect, "%s: %s %s -> %d %r (expected %d)" % (
        desc, method, path, status, reply[:300], expect)
    if expect != 413:
        assert reply.strip(), "%s: error reply should say what is wrong" % desc
    after = snapshot(api)
    assert after == before, "%s changed the catalog" % desc
    # The server is still healthy after the rejection.
    assert api.get("/v1/status/leader").status_code == 200


def test_rejected_check_update_leaves_check_status_and_output(server):
    api = server.api
    before = api.check(CANARY_CHECK)
    status, _, _ = send(server, "PUT", CU + CANARY_CHECK, j({"Status": "bogus",
                                                            "Output": "nope"}))
    assert status == 400
    assert api.check(CANARY_CHECK) == before


def test_moderately_large_body_under_the_limit_is_accepted(server):
    # The limit must not be absurdly low: 64 KiB of JSON is fine.
    name = uniq("big-ok")
    status, _, reply = send(server, "PUT", SR,
                            padded(b'{"Name": "%s", "ID": "%s"' % (name.encode(), name.encode()),
                                   64 * 1024))
    assert status == 200, reply[:300]
    assert name in server.api.agent_services()
    server.api.deregister_service(name)


def test_error_replies_carry_consul_messages(server):
    """Exact texts Consul prints (clients and operators grep for them)."""
    api = server.api
    cases = [
        (SR, {"Port": 1}, 400, "Missing service name"),
        (CR, {"TTL": "10s"}, 400, "Missing check name"),
        (CU + CANARY_CHECK, {"Status": "bogus"}, 400, "Invalid check status"),
        (CU + GHOST, {"Status": "passing"}, 404, "Unknown check ID"),
    ]
    for path, body, code, text in cases:
        r = api.put(path, json=body)
        assert r.status_code == code, (path, r.status_code, r.text)
        assert text in r.text, (path, r.text)
    r = api.put("/v1/agent/check/pass/" + GHOST)
    assert r.status_code == 404 and "Unknown check ID" in r.text, r.text
    r = api.put("/v1/agent/service/deregister/" + GHOST)
    assert r.status_code == 404 and "Unknown service ID" in r.text, r.text
    r = api.put(SR, data=b"{oops")
    assert r.status_code == 400 and "Request decode failed" in r.text, r.text
