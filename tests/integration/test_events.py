"""User events: PUT /v1/event/fire/:name and GET /v1/event/list with
Consul's shapes, filters, the 256-event buffer, and Consul's non-monotonic
X-Consul-Index (the last event's ID folded to 64 bits) with blocking that
waits while the index is EQUAL to the client's."""

import base64
import threading
import time

import consul
import pytest

from sider_testlib import index_of, uniq


def fold(uuid):
    """Consul's uuidToUint64."""
    lower = uuid[0:8] + uuid[9:13] + uuid[14:18]
    upper = uuid[19:23] + uuid[24:36]
    return int(lower, 16) ^ int(upper, 16)


def fire(api, name, payload=b"", expect=200, **params):
    r = api.put("/v1/event/fire/%s" % name, data=payload, params=params or None)
    assert r.status_code == expect, (name, params, r.status_code, r.text)
    return r.json() if expect == 200 else r


def listing(api, **params):
    r = api.get("/v1/event/list", params=params or None)
    assert r.status_code == 200, r.text
    return r


def test_fire_answers_consul_user_event_shape(api):
    name = uniq("deploy")
    e = fire(api, name, b"v1.2.3")
    assert set(e) == {"ID", "Name", "Payload", "NodeFilter", "ServiceFilter",
                      "TagFilter", "Version", "LTime"}
    assert e["Name"] == name
    assert base64.b64decode(e["Payload"]) == b"v1.2.3"
    assert e["Version"] == 1 and e["LTime"] == 0
    assert len(e["ID"]) == 36


def test_list_shows_events_oldest_first_with_name_filter_and_folded_index(api):
    name = uniq("ev")
    ids = [fire(api, name, b"%d" % i)["ID"] for i in range(3)]
    fire(api, uniq("noise"))
    r = listing(api, name=name)
    events = r.json()
    assert [e["ID"] for e in events] == ids
    ltimes = [e["LTime"] for e in events]
    assert ltimes == sorted(ltimes) and ltimes[0] > 0
    assert index_of(r) == fold(ids[-1])
    assert events[0]["Payload"] == base64.b64encode(b"0").decode()


def test_empty_listing_has_index_1(api):
    r = listing(api, name=uniq("never-fired"))
    assert r.json() == [] and index_of(r) == 1


def test_empty_payload_is_null(api):
    name = uniq("nopayload")
    fire(api, name)
    (e,) = listing(api, name=name).json()
    assert e["Payload"] is None


def test_blocking_list_waits_while_the_index_is_equal_and_wakes_on_a_new_event(api):
    name = uniq("block")
    first = fire(api, name)["ID"]
    idx = index_of(listing(api, name=name))
    assert idx == fold(first)
    out = []

    def park():
        t0 = time.monotonic()
        r = api.get("/v1/event/list", params={"name": name, "index": idx, "wait": "20s"},
                    timeout=40)
        out.append((r, time.monotonic() - t0))

    t = threading.Thread(target=park)
    t.start()
    time.sleep(0.3)
    fire(api, uniq("other-name"))  # does not change this listing's index
    time.sleep(0.3)
    assert not out, "woken by an event of another name"
    second = fire(api, name)["ID"]
    t.join(timeout=30)
    (r, took), = out
    assert took < 10
    assert [e["ID"] for e in r.json()] == [first, second]
    assert index_of(r) == fold(second)  # may be lower than idx: not monotonic


def test_a_different_index_returns_at_once_even_if_higher(api):
    name = uniq("diff")
    fire(api, name)
    idx = index_of(listing(api, name=name))
    t0 = time.monotonic()
    r = api.get("/v1/event/list", params={"name": name, "index": idx ^ 1, "wait": "10s"})
    assert time.monotonic() - t0 < 2
    assert index_of(r) == idx


def test_blocking_list_times_out_with_the_same_index(api):
    name = uniq("quiet")
    fire(api, name)
    idx = index_of(listing(api, name=name))
    t0 = time.monotonic()
    r = api.get("/v1/event/list", params={"name": name, "index": idx, "wait": "1s"})
    took = time.monotonic() - t0
    assert 0.9 <= took < 4 and index_of(r) == idx


def test_buffer_keeps_the_last_256_events(fresh_server):
    api = fresh_server.api
    ids = [fire(api, "flood", b"%d" % i)["ID"] for i in range(260)]
    events = listing(api).json()
    assert len(events) == 256
    assert [e["ID"] for e in events] == ids[4:]


def test_node_filter_that_does_not_match_fires_but_is_not_listed(api):
    name = uniq("filtered")
    e = fire(api, name, node="^no-such-node$")
    assert e["NodeFilter"] == "^no-such-node$"
    assert listing(api, name=name).json() == []
    node = api.node_name()
    fire(api, name, node="^%s$" % node)
    assert len(listing(api, name=name).json()) == 1


def test_service_and_tag_filters_match_local_services(api):
    svc = uniq("websvc")
    api.register_service({"Name": svc, "ID": svc, "Tags": ["blue"]})
    name = uniq("svcfilter")
    fire(api, name, service=svc, tag="blue")
    fire(api, name, service=svc, tag="green")
    fire(api, name, service=uniq("absent"))
    listed = listing(api, name=name).json()
    assert [(e["ServiceFilter"], e["TagFilter"]) for e in listed] == [(svc, "blue")]
    api.deregister_service(svc)


@pytest.mark.parametrize("params,code,text", [
    ({"tag": "x"}, 400, "cannot provide tag filter without service filter"),
    ({"node": "("}, 400, "Invalid node filter"),
    ({"service": "[a"}, 400, "Invalid service filter"),
])
def test_bad_filters_are_400(api, params, code, text):
    r = fire(api, uniq("bad"), expect=code, **params)
    assert text in r.text


def test_missing_name_and_oversized_payload(api):
    r = api.put("/v1/event/fire/")
    assert r.status_code == 400 and "Missing name" in r.text
    r = fire(api, uniq("big"), b"x" * 600, expect=413)
    assert "exceeds" in r.text
    assert api.get("/v1/event/fire/x").status_code == 405
    assert api.get("/v1/event/list", params={"index": "x"}).status_code == 400


def test_python_consul_fire_and_list(server):
    c = consul.Consul(host="127.0.0.1", port=server.http_port)
    name = uniq("pc-event")
    fired = c.event.fire(name, "payload")
    assert fired["Name"] == name
    index, events = c.event.list(name=name)
    assert [e["ID"] for e in events] == [fired["ID"]]
    assert int(index) == fold(fired["ID"])
