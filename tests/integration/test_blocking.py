"""The blocking-query contract: X-Consul-Index, ?index=&wait=, wake-ups,
wait formats, consistency flags and the leader headers."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sider_testlib import index_of, park_until, uniq

# Consul adds up to wait/16 of random jitter to a blocking wait.
JITTER = 1.0 + 1.0 / 16


def test_every_reply_carries_a_nonzero_x_consul_index_including_404s(api):
    name = uniq("idx")
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "30s"}})
    node = api.node_name()
    requests_to_make = [
        ("GET", "/v1/catalog/services", 200),
        ("GET", "/v1/catalog/service/%s" % name, 200),
        ("GET", "/v1/catalog/service/%s" % uniq("absent"), 200),
        ("GET", "/v1/catalog/nodes", 200),
        ("GET", "/v1/catalog/node/%s" % node, 200),
        ("GET", "/v1/health/service/%s" % name, 200),
        ("GET", "/v1/health/service/%s" % uniq("absent"), 200),
        ("GET", "/v1/health/checks/%s" % name, 200),
        ("GET", "/v1/health/node/%s" % node, 200),
        ("GET", "/v1/health/state/any", 200),
        ("GET", "/v1/health/state/critical", 200),
        ("GET", "/v1/agent/service/%s" % uniq("absent"), 404),
        ("GET", "/v1/no/such/endpoint", 404),
        ("PUT", "/v1/agent/check/pass/%s" % uniq("absent"), 404),
    ]
    for method, path, code in requests_to_make:
        r = api.request(method, path)
        assert r.status_code == code, "%s %s -> %d" % (method, path, r.status_code)
        index_of(r)  # present, integer, > 0
    api.deregister_service(name)


def test_index_grows_with_every_write(api):
    name = uniq("grow")
    seen = [index_of(api.get("/v1/catalog/services"))]
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "30s"}})
    seen.append(index_of(api.get("/v1/catalog/services")))
    api.check_pass("service:" + name)
    seen.append(index_of(api.get("/v1/health/service/%s" % name)))
    api.deregister_service(name)
    seen.append(index_of(api.get("/v1/catalog/services")))
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


def test_blocking_query_without_change_returns_after_wait_with_same_index(api):
    name = uniq("idle")
    api.register_service({"Name": name, "ID": name,
                          "Check": {"TTL": "10m", "Status": "passing"}})
    r = api.get("/v1/health/service/%s" % name)
    idx = index_of(r)
    t0 = time.monotonic()
    r = api.get("/v1/health/service/%s" % name, params={"index": idx, "wait": "2s"},
                timeout=20)
    took = time.monotonic() - t0
    assert r.status_code == 200
    assert took >= 1.5, "returned after %.2fs, before the 2s wait" % took
    assert took < 2 * JITTER + 4, "returned only after %.2fs" % took
    assert index_of(r) == idx
    assert [e["Service"]["ID"] for e in r.json()] == [name]
    api.deregister_service(name)


def test_wait_in_milliseconds_is_honoured(api):
    r = api.get("/v1/catalog/services")
    idx = index_of(r)
    t0 = time.monotonic()
    r = api.get("/v1/catalog/services", params={"index": idx, "wait": "1500ms"},
                timeout=20)
    took = time.monotonic() - t0
    assert r.status_code == 200
    assert 1.2 <= took < 1.5 * JITTER + 4, took
    assert index_of(r) == idx


def test_parked_health_query_is_woken_by_registration(api):
    name = uniq("wake-reg")
    r = api.get("/v1/health/service/%s" % name)
    assert r.status_code == 200 and r.json() == []
    idx = index_of(r)
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(park_until, api, "/v1/health/service/%s" % name, idx,
                        lambda body: len(body) == 1, "30s", 30)
        time.sleep(0.4)
        api.register_service({"Name": name, "ID": name})
        r, took, wakeups = fut.result(timeout=60)
    assert took >= 0.3, "returned at once (%.2fs): the query did not park" % took
    assert wakeups <= 3, "query returned %d times: it does not park" % wakeups
    assert took < 10, "woke only after %.1fs" % took
    assert index_of(r) > idx
    assert [e["Service"]["ID"] for e in r.json()] == [name]
    api.deregister_service(name)


def test_parked_passing_query_is_woken_by_check_pass(api):
    name = uniq("wake-pass")
    api.register_service({"Name": name, "ID": name, "Check": {"TTL": "30s"}})
    r = api.get("/v1/health/service/%s?passing" % name)
    assert r.json() == []
    idx = index_of(r)
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(park_until, api, "/v1/health/service/%s?passing" % name, idx,
                        lambda body: len(body) == 1, "30s", 30)
        time.sleep(0.4)
        api.check_pass("service:" + name)
        r, took, wakeups = fut.result(timeout=60)
    assert took >= 0.3
    assert wakeups <= 3, "query returned %d times: it does not park" % wakeups
    assert took < 10, "woke only after %.1fs" % took
    assert index_of(r) > idx
    api.deregister_service(name)


def test_parked_catalog_services_query_is_woken_by_new_service(api):
    name = uniq("wake-cat")
    idx = index_of(api.get("/v1/catalog/services"))
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(park_until, api, "/v1/catalog/services", idx,
                        lambda body: name in body, "30s", 30)
        time.sleep(0.4)
        api.register_service({"Name": name, "ID": name, "Tags": ["t1"]})
        r, took, _ = fut.result(timeout=60)
    assert took < 10
    assert r.json()[name] == ["t1"]
    assert index_of(r) > idx
    api.deregister_service(name)


def test_parked_query_is_woken_by_deregistration(api):
    name = uniq("wake-dereg")
    api.register_service({"Name": name, "ID": name})
    idx = index_of(api.get("/v1/catalog/service/%s" % name))
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(park_until, api, "/v1/catalog/service/%s" % name, idx,
                        lambda body: body == [], "30s", 30)
        time.sleep(0.4)
        api.deregister_service(name)
        r, took, _ = fut.result(timeout=60)
    assert took < 10
    assert index_of(r) > idx


def test_index_zero_or_below_current_returns_immediately(api):
    for q in ({"index": "0", "wait": "30s"}, {"index": "1", "wait": "30s"}):
        t0 = time.monotonic()
        r = api.get("/v1/catalog/services", params=q, timeout=40)
        assert r.status_code == 200
        assert time.monotonic() - t0 < 5, q


@pytest.mark.parametrize("wait", ["9.88s", "120000ms", "1m", "1.5s", "300ms", "1h"])
def test_wait_formats_are_accepted(api, wait):
    # index=1 is below the current index, so the query answers at once; the
    # point is that the wait value parses (Go time.ParseDuration syntax).
    # Values above Consul's 10 minute cap are clamped, not rejected.
    r = api.get("/v1/catalog/services", params={"index": "1", "wait": wait}, timeout=40)
    assert r.status_code == 200, (wait, r.text)


@pytest.mark.parametrize("wait", ["abc", "10", "5x", "s", "1.2.3s"])
def test_invalid_wait_is_rejected_with_400(api, wait):
    idx = index_of(api.get("/v1/catalog/services"))
    r = api.get("/v1/catalog/services", params={"index": idx, "wait": wait})
    assert r.status_code == 400, (wait, r.status_code, r.text)
    assert "Invalid wait time" in r.text


@pytest.mark.parametrize("index", ["abc", "-1", "1.5"])
def test_invalid_index_is_rejected_with_400(api, index):
    r = api.get("/v1/catalog/services", params={"index": index})
    assert r.status_code == 400, (index, r.status_code, r.text)
    assert "Invalid index" in r.text


def test_stale_and_consistent_together_is_400(api):
    r = api.get("/v1/catalog/services?stale&consistent")
    assert r.status_code == 400
    assert "Cannot specify ?stale with ?consistent" in r.text
    for q in ("?stale", "?consistent"):
        r = api.get("/v1/catalog/services" + q)
        assert r.status_code == 200, q
        index_of(r)


def test_known_leader_and_last_contact_headers(api):
    for path in ("/v1/catalog/services", "/v1/health/state/any",
                 "/v1/catalog/nodes", "/v1/catalog/services?stale"):
        r = api.get(path)
        assert r.status_code == 200
        assert r.headers.get("X-Consul-KnownLeader") == "true", path
        lc = r.headers.get("X-Consul-LastContact")
        assert lc is not None and lc.isdigit(), (path, lc)


def test_a_watcher_following_a_write_storm_ends_with_every_instance(api):
    # Concurrent registrations are packed several to a log entry, all at one
    # index. A watcher that follows the service with blocking queries must
    # never see half an entry: it would then park at that index for a change
    # that has already happened, until its long wait ran out. So after the
    # storm its latest answer holds every instance well within that wait.
    name = uniq("storm")
    ids = ["%s-%d" % (name, i) for i in range(400)]
    seen = {"ids": set(), "index": 1}
    give_up = time.monotonic() + 150

    def follow():
        while time.monotonic() < give_up and len(seen["ids"]) < len(ids):
            r = api.get("/v1/health/service/%s?index=%d&wait=90s" % (name, seen["index"]),
                        timeout=120)
            seen["index"] = max(index_of(r), 1)
            seen["ids"] = {e["Service"]["ID"] for e in r.json()}

    with ThreadPoolExecutor(17) as ex:
        watcher = ex.submit(follow)
        writes = [ex.submit(api.register_service, {"Name": name, "ID": i}) for i in ids]
        for w in writes:
            w.result(timeout=60)
        acked = time.monotonic()
        watcher.result(timeout=160)
        caught_up = time.monotonic() - acked
    assert seen["ids"] == set(ids), "watcher stuck at %d of %d instances" % (
        len(seen["ids"]), len(ids))
    assert caught_up < 30, "the watcher caught up only after %.1fs: it was parked " \
        "on a state older than its index" % caught_up
    for i in ids:
        api.deregister_service(i)
