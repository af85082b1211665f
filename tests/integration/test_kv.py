"""KV store: GET/PUT/DELETE /v1/kv/<key> against Consul's contract — entry
shapes, ?raw/?recurse/?keys/?separator, cas (including cas=0), flags, the
512 KiB value limit, blocking queries on keys and prefixes, bad input, and
python-consul used unchanged."""

import base64
import threading
import time

import consul
import pytest

from sider_testlib import index_of, raw_request, uniq

MAX_VALUE = 512 * 1024


def put(api, key, data=b"", expect=200, **params):
    r = api.put("/v1/kv/%s" % key, data=data, params=params or None)
    assert r.status_code == expect, "PUT %s %r -> %d %s" % (key, params, r.status_code, r.text)
    return r


def get(api, key, expect=200, **params):
    r = api.get("/v1/kv/%s" % key, params=params or None)
    assert r.status_code == expect, "GET %s %r -> %d %s" % (key, params, r.status_code, r.text)
    return r


def entry(api, key):
    body = get(api, key).json()
    assert isinstance(body, list) and len(body) == 1, body
    return body[0]


def test_put_then_get_returns_consul_entry_shape(api):
    key = uniq("kv") + "/a"
    r = put(api, key, b"hello", flags=42)
    assert r.text.strip() == "true"
    r = get(api, key)
    assert r.headers["Content-Type"].startswith("application/json")
    (e,) = r.json()
    assert set(e) == {"LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"}, e
    assert e["Key"] == key
    assert base64.b64decode(e["Value"]) == b"hello"
    assert e["Flags"] == 42
    assert e["LockIndex"] == 0
    assert e["CreateIndex"] == e["ModifyIndex"] > 0
    assert index_of(r) == e["ModifyIndex"]


def test_update_keeps_create_index_and_bumps_modify_index(api):
    key = uniq("kv")
    put(api, key, b"1")
    first = entry(api, key)
    put(api, key, b"2")
    second = entry(api, key)
    assert second["CreateIndex"] == first["CreateIndex"]
    assert second["ModifyIndex"] > first["ModifyIndex"]
    assert base64.b64decode(second["Value"]) == b"2"


def test_empty_value_is_null(api):
    key = uniq("kv")
    put(api, key, b"")
    assert entry(api, key)["Value"] is None


def test_raw_returns_the_bytes_unencoded(api):
    key = uniq("kv")
    blob = bytes(range(256))
    put(api, key, blob)
    r = get(api, key, raw="")
    assert r.content == blob
    index_of(r)


def test_missing_key_is_404_with_index(api):
    r = get(api, uniq("absent"), expect=404)
    index_of(r)
    r = get(api, uniq("absent") + "/", expect=404, recurse="")
    index_of(r)
    r = get(api, uniq("absent"), expect=404, raw="")
    index_of(r)


def test_recurse_lists_every_key_under_the_prefix_in_order(api):
    base = uniq("tree")
    for k in ("b", "a", "a/x", "c/d/e"):
        put(api, "%s/%s" % (base, k), k.encode())
    put(api, base + "-sibling", b"not under the prefix")
    for flag in ("", "1", "true", "True"):
        r = api.get("/v1/kv/%s/?recurse%s" % (base, "=" + flag if flag else ""))
        assert r.status_code == 200, (flag, r.status_code, r.text)
        keys = [e["Key"] for e in r.json()]
        assert keys == ["%s/%s" % (base, k) for k in ("a", "a/x", "b", "c/d/e")], keys
        assert index_of(r) == max(e["ModifyIndex"] for e in r.json())


def test_keys_with_and_without_separator(api):
    base = uniq("keys")
    for k in ("a", "b/1", "b/2", "c/d/e", "c/f"):
        put(api, "%s/%s" % (base, k))
    for variant in ("keys", "keys=True", "keys=1", "keys=true"):
        r = api.get("/v1/kv/%s/?%s" % (base, variant))
        assert r.status_code == 200, (variant, r.text)
        assert r.json() == ["%s/%s" % (base, k)
                            for k in ("a", "b/1", "b/2", "c/d/e", "c/f")]
    r = api.get("/v1/kv/%s/?keys&separator=/" % base)
    assert r.json() == ["%s/a" % base, "%s/b/" % base, "%s/c/" % base]
    r = api.get("/v1/kv/%s/c/?keys&separator=/" % base)
    assert r.json() == ["%s/c/d/" % base, "%s/c/f" % base]
    r = api.get("/v1/kv/%s/?keys" % uniq("nothing"))
    assert r.status_code == 404
    index_of(r)


def test_cas_zero_creates_only_if_absent(api):
    key = uniq("cas0")
    assert put(api, key, b"first", cas=0).text.strip() == "true"
    assert put(api, key, b"second", cas=0).text.strip() == "false"
    assert base64.b64decode(entry(api, key)["Value"]) == b"first"


def test_cas_with_index_succeeds_only_on_the_current_modify_index(api):
    key = uniq("cas")
    put(api, key, b"v1")
    idx = entry(api, key)["ModifyIndex"]
    assert put(api, key, b"v2", cas=idx).text.strip() == "true"
    assert put(api, key, b"v3", cas=idx).text.strip() == "false"
    assert base64.b64decode(entry(api, key)["Value"]) == b"v2"
    # cas on an absent key with a non-zero index fails.
    assert put(api, uniq("cas-absent"), b"x", cas=idx).text.strip() == "false"


def test_cas_race_has_exactly_one_winner(api):
    key = uniq("race")
    put(api, key, b"start")  # differs from every racer's value
    idx = entry(api, key)["ModifyIndex"]
    results = []
    lock = threading.Lock()

    def writer(n):
        r = api.put("/v1/kv/%s" % key, data=str(n).encode(), params={"cas": idx})
        with lock:
            results.append((n, r.status_code, r.text.strip()))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(code == 200 for _, code, _ in results), results
    winners = [n for n, _, text in results if text == "true"]
    assert len(winners) == 1, results
    assert base64.b64decode(entry(api, key)["Value"]) == str(winners[0]).encode()


def test_flags_round_trip_the_full_uint64_range(api):
    key = uniq("flags")
    put(api, key, b"x", flags=2 ** 64 - 1)
    assert entry(api, key)["Flags"] == 2 ** 64 - 1


def test_value_limit_is_512_kib(api, server):
    key = uniq("big")
    put(api, key, b"x" * MAX_VALUE)
    assert len(get(api, key, raw="").content) == MAX_VALUE
    status, headers, body = raw_request("127.0.0.1", server.http_port, "PUT",
                                        "/v1/kv/%s" % uniq("toobig"),
                                        body=b"x" * (MAX_VALUE + 1))
    assert status == 413, (status, body[:200])
    assert "x-consul-index" in headers


def test_delete_key_and_delete_tree(api):
    base = uniq("del")
    for k in ("a", "a/b", "ab", "c"):
        put(api, "%s/%s" % (base, k))
    r = api.delete("/v1/kv/%s/a" % base)
    assert r.status_code == 200 and r.text.strip() == "true"
    get(api, "%s/a" % base, expect=404)
    get(api, "%s/a/b" % base)  # a plain DELETE removes one key only
    r = api.delete("/v1/kv/%s/a?recurse" % base)
    assert r.status_code == 200
    left = [e["Key"] for e in get(api, base + "/", recurse="").json()]
    assert left == ["%s/c" % base]  # "a" prefix also took "ab", as in Consul
    # Deleting an absent key is fine.
    assert api.delete("/v1/kv/%s" % uniq("nothing")).status_code == 200


def test_delete_cas(api):
    key = uniq("delcas")
    put(api, key, b"x")
    idx = entry(api, key)["ModifyIndex"]
    r = api.delete("/v1/kv/%s" % key, params={"cas": idx - 1})
    assert r.status_code == 200 and r.text.strip() == "false"
    get(api, key)
    r = api.delete("/v1/kv/%s" % key, params={"cas": idx})
    assert r.status_code == 200 and r.text.strip() == "true"
    get(api, key, expect=404)


def test_index_only_grows_across_deletes(api):
    key = uniq("grow")
    put(api, key, b"1")
    i1 = index_of(get(api, key))
    api.delete("/v1/kv/%s" % key)
    i2 = index_of(get(api, key, expect=404))
    put(api, key, b"2")
    i3 = index_of(get(api, key))
    assert i1 < i2 < i3, (i1, i2, i3)


# ---- blocking queries ---------------------------------------------------

def _park(api, path, index, results, wait="20s"):
    t0 = time.monotonic()
    r = api.get(path, params={"index": index, "wait": wait}, timeout=40)
    results.append((r, time.monotonic() - t0))


def test_blocking_query_on_a_key_wakes_on_write(api):
    key = uniq("block")
    put(api, key, b"before")
    idx = index_of(get(api, key))
    results = []
    t = threading.Thread(target=_park, args=(api, "/v1/kv/%s" % key, idx, results))
    t.start()
    time.sleep(0.3)
    assert not results, "returned before any write"
    put(api, key, b"after")
    t.join(timeout=30)
    (r, took), = results
    assert took < 10, took
    assert base64.b64decode(r.json()[0]["Value"]) == b"after"
    assert index_of(r) > idx


def test_blocking_query_on_a_key_wakes_on_its_delete(api):
    key = uniq("block-del")
    put(api, key, b"x")
    idx = index_of(get(api, key))
    results = []
    t = threading.Thread(target=_park, args=(api, "/v1/kv/%s" % key, idx, results))
    t.start()
    time.sleep(0.3)
    api.delete("/v1/kv/%s" % key)
    t.join(timeout=30)
    (r, took), = results
    assert r.status_code == 404 and took < 10
    assert index_of(r) > idx


def test_blocking_query_on_a_prefix_wakes_on_a_delete_below_it(api):
    base = uniq("prefix")
    put(api, "%s/x" % base, b"x")
    put(api, "%s/y" % base, b"y")
    idx = index_of(get(api, base + "/", recurse=""))
    results = []
    t = threading.Thread(target=_park,
                         args=(api, "/v1/kv/%s/?recurse" % base, idx, results))
    t.start()
    time.sleep(0.3)
    assert not results
    api.delete("/v1/kv/%s/x" % base)
    t.join(timeout=30)
    (r, took), = results
    assert took < 10, took
    assert [e["Key"] for e in r.json()] == ["%s/y" % base]
    assert index_of(r) > idx


def test_blocking_query_on_a_prefix_ignores_writes_elsewhere(api):
    base = uniq("quiet")
    put(api, "%s/x" % base, b"x")
    idx = index_of(get(api, base + "/", recurse=""))
    results = []
    t = threading.Thread(target=_park, args=(api, "/v1/kv/%s/?recurse" % base,
                                             idx, results, "2s"))
    t.start()
    put(api, uniq("elsewhere"), b"noise")
    t.join(timeout=30)
    (r, took), = results
    assert took >= 1.5, "woken by an unrelated write after %.2fs" % took
    assert index_of(r) == idx


def test_blocking_keys_listing_wakes_on_a_new_child(api):
    base = uniq("watchkeys")
    put(api, "%s/a" % base)
    r = api.get("/v1/kv/%s/?keys&separator=/" % base)
    idx = index_of(r)
    results = []
    t = threading.Thread(target=_park, args=(
        api, "/v1/kv/%s/?keys&separator=/" % base, idx, results))
    t.start()
    time.sleep(0.3)
    put(api, "%s/b/c" % base)
    t.join(timeout=30)
    (r, took), = results
    assert r.json() == ["%s/a" % base, "%s/b/" % base] and took < 10


# ---- bad input ----------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_bad_keys_are_400(api, server, method):
    for path in ("/v1/kv//leading-slash", "/v1/kv/bad%FFutf8",
                 "/v1/kv/bad%C3%28utf8"):
        status, headers, body = raw_request("127.0.0.1", server.http_port,
                                            method, path, body=b"")
        assert status == 400, (method, path, status, body)
        assert "x-consul-index" in headers


def test_put_and_delete_without_a_key_are_400(api):
    r = api.put("/v1/kv/", data=b"x")
    assert r.status_code == 400, r.text
    assert "Missing key name" in r.text
    r = api.delete("/v1/kv/")
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("params", [
    {"flags": "x"}, {"flags": "-1"}, {"flags": str(2 ** 64)},
    {"cas": "x"}, {"cas": "-5"}, {"cas": ""},
])
def test_bad_numeric_parameters_are_400_and_change_nothing(api, params):
    key = uniq("badnum")
    r = api.put("/v1/kv/%s" % key, data=b"x", params=params)
    assert r.status_code == 400, (params, r.status_code, r.text)
    get(api, key, expect=404)


def test_bad_index_is_400(api):
    r = api.get("/v1/kv/%s" % uniq("k"), params={"index": "abc"})
    assert r.status_code == 400


def test_acquire_with_unknown_session_is_rejected(api):
    key = uniq("nosess")
    r = api.put("/v1/kv/%s" % key, data=b"x",
                params={"acquire": "00000000-0000-4000-8000-000000000000"})
    assert r.status_code in (400, 500), r.text
    assert "invalid session" in r.text.lower()
    get(api, key, expect=404)


def test_unknown_method_is_405(api):
    r = api.post("/v1/kv/%s" % uniq("k"), data=b"x")
    assert r.status_code == 405


# ---- python-consul -----------------------------------------------------

def test_python_consul_put_get_delete_and_blocking_get(server):
    c = consul.Consul(host="127.0.0.1", port=server.http_port)
    key = uniq("pc")
    assert c.kv.put(key, "v1") is True
    assert c.kv.put(key, "v0", cas=0) is False
    index, data = c.kv.get(key)
    assert data["Value"] == b"v1" and data["Key"] == key
    assert c.kv.put(key, "v2", cas=data["ModifyIndex"], flags=7) is True
    index2, data = c.kv.get(key)
    assert data["Flags"] == 7 and int(index2) > int(index)

    out = []
    t = threading.Thread(target=lambda: out.append(
        c.kv.get(key, index=index2, wait="20s")))
    t.start()
    time.sleep(0.3)
    c.kv.put(key, "v3")
    t.join(timeout=30)
    (idx3, data), = out
    assert data["Value"] == b"v3" and int(idx3) > int(index2)

    c.kv.put(key + "/child", "c")
    _, keys = c.kv.get(key, keys=True)
    assert keys == [key, key + "/child"]
    _, entries = c.kv.get(key, recurse=True)
    assert [e["Key"] for e in entries] == [key, key + "/child"]
    assert c.kv.delete(key, recurse=True) is True
    _, gone = c.kv.get(key)
    assert gone is None
