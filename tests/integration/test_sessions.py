"""Sessions: create/renew/destroy/info/list/node with Consul's shapes and
error texts; TTL expiry (TTL x 2) releasing or deleting exactly the
session's keys and waking their watchers; invalidation by a critical check
and by node deregistration; lock-delay; lock safety under contention; and
python-consul used unchanged.

Expiry tests run against a server started with --session-ttl-min=1s so that
a "1s" session expires after ~2s instead of Consul's minimum 10s x 2."""

import base64
import re
import threading
import time

import consul
import pytest

import sider_testlib as lib
from sider_testlib import acquire, create_session, index_of, kv_entry, uniq, wait_until

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def fast(sider_bin, tmp_path_factory):
    """A server that accepts session TTLs down to 1s."""
    base = tmp_path_factory.mktemp("sider-fast-sessions")
    srv = lib.SiderServer(sider_bin, base / "data", base / "sider.log", name="fast-sessions")
    srv.extra_args = ["--session-ttl-min", "1s"]
    srv.start()
    yield srv
    srv.stop()


def info(api, sid):
    r = api.get("/v1/session/info/%s" % sid)
    assert r.status_code == 200, r.text
    index_of(r)
    return r.json()


# ---- shapes and defaults -------------------------------------------------

def test_create_with_defaults_and_info_shape(api):
    r = api.put("/v1/session/create")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"ID"}
    sid = r.json()["ID"]
    assert UUID_RE.match(sid), sid
    (s,) = info(api, sid)
    assert s["ID"] == sid
    assert s["Node"] == api.node_name()
    assert s["NodeChecks"] == ["serfHealth"]
    assert s["Behavior"] == "release"
    assert s["LockDelay"] == 15 * 10 ** 9
    assert s["TTL"] == ""
    assert s["Name"] == ""
    assert s["CreateIndex"] > 0 and s["ModifyIndex"] == s["CreateIndex"]
    for field in ("ServiceChecks",):
        assert field in s
    assert api.put("/v1/session/destroy/%s" % sid).json() is True
    assert info(api, sid) == []


def test_create_with_every_field(api):
    sid = create_session(api, Name="svc-lock", TTL="15s", Behavior="delete",
                         LockDelay="3s", Checks=[])
    (s,) = info(api, sid)
    assert (s["Name"], s["TTL"], s["Behavior"], s["LockDelay"]) == (
        "svc-lock", "15s", "delete", 3 * 10 ** 9)
    assert not s["NodeChecks"]
    api.put("/v1/session/destroy/%s" % sid)


@pytest.mark.parametrize("lock_delay,expect_ns", [
    (7, 7 * 10 ** 9),                 # a number below 1000 is seconds
    (2500000000, 2500000000),         # otherwise nanoseconds
    ("1.5s", 1500000000),
    ("0s", 0),
])
def test_lock_delay_as_number_or_duration(api, lock_delay, expect_ns):
    sid = create_session(api, LockDelay=lock_delay, Checks=[])
    assert info(api, sid)[0]["LockDelay"] == expect_ns
    api.put("/v1/session/destroy/%s" % sid)


@pytest.mark.parametrize("ttl", ["10s", "86400s", "1.5m", "24h", "0.5h"])
def test_ttl_range_accepts_consul_bounds_and_fractions(api, ttl):
    sid = create_session(api, TTL=ttl, Checks=[])
    assert info(api, sid)[0]["TTL"] == ttl
    api.put("/v1/session/destroy/%s" % sid)


@pytest.mark.parametrize("ttl,text", [
    ("9s", "Invalid Session TTL '9000000000', must be between [10s=24h0m0s]"),
    ("86401s", "Invalid Session TTL '86401000000000', must be between [10s=24h0m0s]"),
    ("abc", "Session TTL 'abc' invalid"),
    ("10", "Session TTL '10' invalid"),
])
def test_ttl_out_of_range_or_malformed_is_400_with_consul_text(api, ttl, text):
    before = api.ok_json("/v1/session/list")
    r = api.put("/v1/session/create", json={"TTL": ttl, "Checks": []})
    assert r.status_code == 400, r.text
    assert text in r.text
    assert api.ok_json("/v1/session/list") == before


@pytest.mark.parametrize("body,text", [
    (b"{", "decode"),
    (b"[1]", "decode"),
    (b'{"Behavior": "explode"}', "Invalid Behavior setting 'explode'"),
    (b'{"LockDelay": "forever"}', "LockDelay"),
    (b'{"LockDelay": "2m"}', "Lock Delay"),
    (b'{"Node": "no-such-node"}', "Missing node registration"),
    (b'{"Checks": ["no-such-check"]}', "Missing check 'no-such-check' registration"),
    (b'{"Name": 5}', "Name"),
])
def test_bad_create_bodies_are_400(api, body, text):
    r = api.put("/v1/session/create", data=body)
    assert r.status_code == 400, (body, r.status_code, r.text)
    assert text in r.text, r.text


def test_session_endpoints_reject_missing_ids_and_wrong_methods(api):
    for path in ("/v1/session/destroy/", "/v1/session/renew/"):
        assert api.put(path).status_code == 400, path
    assert api.get("/v1/session/info/").status_code == 400
    assert api.get("/v1/session/create").status_code == 405
    assert api.get("/v1/session/renew/x").status_code == 405
    assert api.get("/v1/session/info/%s" % uniq("nope")).json() == []


def test_list_and_node_show_the_session(api):
    sid = create_session(api, Name="listed")
    ids = [s["ID"] for s in api.ok_json("/v1/session/list")]
    assert sid in ids
    node = api.node_name()
    assert sid in [s["ID"] for s in api.ok_json("/v1/session/node/%s" % node)]
    assert api.ok_json("/v1/session/node/%s" % uniq("other")) == []
    api.put("/v1/session/destroy/%s" % sid)
    assert sid not in [s["ID"] for s in api.ok_json("/v1/session/list")]


def test_session_list_blocks_until_a_session_is_created(api):
    r = api.get("/v1/session/list")
    idx = index_of(r)
    out = []
    t = threading.Thread(target=lambda: out.append(api.get(
        "/v1/session/list", params={"index": idx, "wait": "20s"}, timeout=40)))
    t.start()
    time.sleep(0.3)
    sid = create_session(api)
    t.join(timeout=30)
    assert sid in [s["ID"] for s in out[0].json()]
    assert index_of(out[0]) > idx
    api.put("/v1/session/destroy/%s" % sid)


def test_renew_returns_the_session_and_404_once_destroyed(api):
    sid = create_session(api, TTL="30s", Checks=[])
    r = api.put("/v1/session/renew/%s" % sid)
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["ID"] == sid
    api.put("/v1/session/destroy/%s" % sid)
    r = api.put("/v1/session/renew/%s" % sid)
    assert r.status_code == 404
    assert "Session id '%s' not found" % sid in r.text


# ---- expiry ---------------------------------------------------------------

def _park(api, path, index, out, wait="30s"):
    t0 = time.monotonic()
    r = api.get(path, params={"index": index, "wait": wait}, timeout=45)
    out.append((r, time.monotonic() - t0))


def test_ttl_expiry_deletes_exactly_the_sessions_keys_and_wakes_watchers(fast):
    api = fast.api
    base = uniq("eph")
    mine = create_session(api, TTL="1s", Behavior="delete", LockDelay="0s", Checks=[])
    other = create_session(api, TTL="60s", Behavior="delete", LockDelay="0s", Checks=[])
    assert acquire(api, "%s/a" % base, mine, b"1")
    assert acquire(api, "%s/b" % base, mine, b"2")
    assert acquire(api, "%s/c" % base, other, b"3")
    api.put("/v1/kv/%s/d" % base, data=b"plain")
    idx = index_of(api.get("/v1/kv/%s/?recurse" % base))
    out = []
    t = threading.Thread(target=_park, args=(api, "/v1/kv/%s/?recurse" % base, idx, out))
    t.start()
    t0 = time.monotonic()
    wait_until(lambda: info(api, mine) == [], timeout=10, desc="session expiry")
    took = time.monotonic() - t0
    assert 1.5 <= took <= 5, "expired after %.2fs; want TTL x 2 = 2s" % took
    t.join(timeout=30)
    (r, _), = out
    keys = sorted(e["Key"] for e in r.json())
    assert keys == ["%s/c" % base, "%s/d" % base], keys
    renew = api.put("/v1/session/renew/%s" % mine)
    assert renew.status_code == 404
    api.put("/v1/session/destroy/%s" % other)


def test_ttl_expiry_with_release_keeps_keys_but_clears_the_holder(fast):
    api = fast.api
    key = uniq("rel")
    sid = create_session(api, TTL="1s", LockDelay="0s", Checks=[])
    assert acquire(api, key, sid, b"v")
    before = kv_entry(api, key)
    assert before["Session"] == sid and before["LockIndex"] == 1
    wait_until(lambda: "Session" not in (kv_entry(api, key) or {"Session": 1}),
               timeout=10, desc="release on expiry")
    after = kv_entry(api, key)
    assert after["LockIndex"] == 1
    assert base64.b64decode(after["Value"]) == b"v"
    assert after["ModifyIndex"] > before["ModifyIndex"]


def test_renewing_keeps_a_session_alive_past_twice_its_ttl(fast):
    api = fast.api
    sid = create_session(api, TTL="1s", Checks=[])
    end = time.monotonic() + 4
    while time.monotonic() < end:
        assert api.put("/v1/session/renew/%s" % sid).status_code == 200
        time.sleep(0.3)
    assert info(api, sid) != []
    wait_until(lambda: info(api, sid) == [], timeout=10, desc="expiry after renewals stop")


# ---- invalidation by health and by deregistration -------------------------

def test_a_check_going_critical_invalidates_the_session(fast):
    api = fast.api
    name = uniq("guard")
    api.register_service({"Name": name, "ID": name,
                          "Check": {"TTL": "60s", "Status": "passing"}})
    check = "service:" + name
    sid = create_session(api, Checks=["serfHealth", check], Behavior="delete")
    key = uniq("held")
    assert acquire(api, key, sid, b"x")
    idx = index_of(api.get("/v1/kv/%s" % key))
    out = []
    t = threading.Thread(target=_park, args=(api, "/v1/kv/%s" % key, idx, out))
    t.start()
    time.sleep(0.2)
    api.check_pass(check, verb="fail")
    t.join(timeout=30)
    (r, took), = out
    assert r.status_code == 404 and took < 10
    assert info(api, sid) == []
    api.deregister_service(name)


def test_creating_a_session_on_a_critical_check_is_refused(fast):
    api = fast.api
    name = uniq("crit")
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "60s"}})
    r = api.put("/v1/session/create", json={"Checks": ["service:" + name]})
    assert r.status_code == 400
    assert "Check 'service:%s' is in critical state" % name in r.text
    api.deregister_service(name)


def test_node_deregistration_invalidates_its_sessions(fast):
    api = fast.api
    node = uniq("node")
    r = api.put("/v1/catalog/register", json={"Node": node, "Address": "10.1.2.3"})
    assert r.status_code == 200
    sid = create_session(api, Node=node, Checks=[], Behavior="release")
    assert info(api, sid)[0]["Node"] == node
    key = uniq("nodekey")
    assert acquire(api, key, sid, b"x")
    assert api.put("/v1/catalog/deregister", json={"Node": node}).status_code == 200
    assert info(api, sid) == []
    assert "Session" not in kv_entry(api, key)


# ---- lock-delay -----------------------------------------------------------

def test_lock_delay_after_invalidation_but_not_after_release(fast):
    api = fast.api
    key = uniq("delay")
    a = create_session(api, LockDelay="2s", Checks=[])
    b = create_session(api, LockDelay="2s", Checks=[])
    # An explicit release starts no lock-delay.
    assert acquire(api, key, a)
    r = api.put("/v1/kv/%s" % key, params={"release": a})
    assert r.json() is True
    assert acquire(api, key, b)
    api.put("/v1/kv/%s" % key, params={"release": b})
    # Invalidation (destroy) does.
    assert acquire(api, key, a)
    t0 = time.monotonic()
    api.put("/v1/session/destroy/%s" % a)
    assert acquire(api, key, b) is False
    wait_until(lambda: acquire(api, key, b), timeout=10, interval=0.05,
               desc="acquire after lock-delay")
    took = time.monotonic() - t0
    assert 1.8 <= took <= 4, "acquired %.2fs after the destroy; lock-delay is 2s" % took
    api.put("/v1/session/destroy/%s" % b)


# ---- lock safety under contention -----------------------------------------

def test_lock_contention_never_two_holders_and_lock_index_strictly_grows(fast):
    api = fast.api
    key = uniq("mutex")
    n = 8
    sessions = [create_session(api, LockDelay="0s", Checks=[]) for _ in range(n)]
    state = {"holder": None, "violations": [], "indexes": [], "acquired": [0] * n}
    guard = threading.Lock()
    stop = time.monotonic() + 3.0

    def contender(i):
        sid = sessions[i]
        for _ in range(10000):
            if time.monotonic() > stop:
                return
            if not acquire(api, key, sid, str(i).encode()):
                continue
            e = kv_entry(api, key)
            with guard:
                if state["holder"] is not None:
                    state["violations"].append((state["holder"], i))
                state["holder"] = i
                state["indexes"].append(e["LockIndex"])
                state["acquired"][i] += 1
            if e["Session"] != sid:
                state["violations"].append(("server says", e["Session"], sid))
            time.sleep(0.002)
            with guard:
                state["holder"] = None
            r = api.put("/v1/kv/%s" % key, params={"release": sid})
            assert r.json() is True

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not state["violations"], state["violations"][:5]
    idx = state["indexes"]
    assert len(idx) >= 10, "only %d acquisitions" % len(idx)
    assert idx == sorted(idx) and len(set(idx)) == len(idx), idx[:50]
    assert sum(1 for c in state["acquired"] if c) >= 2, state["acquired"]
    for sid in sessions:
        api.put("/v1/session/destroy/%s" % sid)


def test_lock_delay_is_honoured_under_contention(fast):
    api = fast.api
    key = uniq("delayrace")
    holder = create_session(api, LockDelay="1500ms", Checks=[])
    others = [create_session(api, LockDelay="0s", Checks=[]) for _ in range(4)]
    assert acquire(api, key, holder)
    api.put("/v1/session/destroy/%s" % holder)
    t0 = time.monotonic()
    won = []

    def spin(sid):
        for _ in range(2000):
            if won or time.monotonic() - t0 > 10:
                return
            if acquire(api, key, sid):
                won.append((time.monotonic() - t0, sid))
                return
            time.sleep(0.01)

    threads = [threading.Thread(target=spin, args=(s,)) for s in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert won, "nobody acquired after the lock-delay"
    first = min(won)[0]
    assert first >= 1.4, "acquired %.2fs after invalidation, lock-delay 1.5s" % first
    assert kv_entry(api, key)["Session"] in [s for _, s in won]
    for sid in others:
        api.put("/v1/session/destroy/%s" % sid)


# ---- python-consul --------------------------------------------------------

def test_python_consul_sessions_and_locks(server):
    c = consul.Consul(host="127.0.0.1", port=server.http_port)
    sid = c.session.create(name="pc", behavior="delete", ttl=10, lock_delay=0,
                           checks=[])
    assert UUID_RE.match(sid)
    key = uniq("pclock")
    assert c.kv.put(key, "me", acquire=sid) is True
    other = c.session.create(lock_delay=0, checks=[])
    assert c.kv.put(key, "them", acquire=other) is False
    _, data = c.kv.get(key)
    assert data["Session"] == sid and data["Value"] == b"me"
    renewed = c.session.renew(sid)
    assert renewed["ID"] == sid
    _, s = c.session.info(sid)
    assert s["Behavior"] == "delete" and s["TTL"] == "10s"
    _, listed = c.session.list()
    assert sid in [x["ID"] for x in listed]
    _, mine = c.session.node(api_node(c))
    assert sid in [x["ID"] for x in mine]
    assert c.session.destroy(sid) is True
    _, gone = c.kv.get(key)
    assert gone is None  # behavior delete
    with pytest.raises(consul.NotFound):
        c.session.renew(sid)
    c.session.destroy(other)


def api_node(c):
    return c.agent.self()["Config"]["NodeName"]
