"""PUT /v1/txn (KV verbs): all-or-nothing, result and error shapes (409
with OpIndex), every verb, CAS races, check-session as a fencing
condition, the 64-operation and 512 KiB limits, and bad input."""

import base64
import threading

import pytest

from sider_testlib import acquire, create_session, index_of, kv_entry, uniq


def b64(data):
    return base64.b64encode(data).decode()


def txn(api, ops, expect=200):
    r = api.put("/v1/txn", json=ops)
    assert r.status_code == expect, "txn -> %d %s" % (r.status_code, r.text)
    index_of(r)
    return r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r


def kv(verb, key, value=None, **extra):
    op = {"Verb": verb, "Key": key}
    if value is not None:
        op["Value"] = b64(value)
    op.update(extra)
    return {"KV": op}


def test_set_several_keys_atomically_with_result_shape(api):
    base = uniq("txn")
    out = txn(api, [kv("set", "%s/a" % base, b"1", Flags=5), kv("set", "%s/b" % base, b"2")])
    assert out["Errors"] is None
    assert len(out["Results"]) == 2
    a = out["Results"][0]["KV"]
    assert a["Key"] == "%s/a" % base and a["Flags"] == 5
    assert a["Value"] is None  # writes do not echo values, as in Consul
    assert a["CreateIndex"] == a["ModifyIndex"] > 0
    assert out["Results"][1]["KV"]["ModifyIndex"] == a["ModifyIndex"]  # one write
    assert base64.b64decode(kv_entry(api, "%s/b" % base)["Value"]) == b"2"


def test_get_and_get_tree_return_values(api):
    base = uniq("txnget")
    txn(api, [kv("set", "%s/x/1" % base, b"one"), kv("set", "%s/x/2" % base, b"two")])
    out = txn(api, [kv("get", "%s/x/1" % base), kv("get-tree", "%s/x/" % base)])
    res = [r["KV"] for r in out["Results"]]
    assert [r["Key"] for r in res] == ["%s/x/1" % base, "%s/x/1" % base, "%s/x/2" % base]
    assert [base64.b64decode(r["Value"]) for r in res] == [b"one", b"one", b"two"]


def test_a_failing_check_rolls_back_everything_with_409(api):
    base = uniq("txnfail")
    txn(api, [kv("set", "%s/k" % base, b"orig")])
    idx = kv_entry(api, "%s/k" % base)["ModifyIndex"]
    out = txn(api, [
        kv("set", "%s/new" % base, b"should not exist"),
        kv("set", "%s/k" % base, b"changed"),
        kv("check-index", "%s/k" % base, Index=idx + 1000),
    ], expect=409)
    assert out["Results"] is None
    assert [e["OpIndex"] for e in out["Errors"]] == [2]
    assert "index" in out["Errors"][0]["What"]
    assert kv_entry(api, "%s/new" % base) is None
    assert base64.b64decode(kv_entry(api, "%s/k" % base)["Value"]) == b"orig"


def test_check_not_exists_and_delete_verbs(api):
    base = uniq("txndel")
    out = txn(api, [kv("check-not-exists", "%s/a" % base), kv("set", "%s/a" % base, b"1"),
                    kv("set", "%s/t/1" % base, b"1"), kv("set", "%s/t/2" % base, b"2"),
                    kv("set", "%s/c" % base, b"c")])
    assert out["Errors"] is None
    out = txn(api, [kv("check-not-exists", "%s/a" % base)], expect=409)
    assert out["Errors"][0]["OpIndex"] == 0
    idx_c = kv_entry(api, "%s/c" % base)["ModifyIndex"]
    out = txn(api, [kv("delete", "%s/a" % base), kv("delete-tree", "%s/t/" % base),
                    kv("delete-cas", "%s/c" % base, Index=idx_c)])
    assert out["Errors"] is None
    for k in ("a", "t/1", "t/2", "c"):
        assert kv_entry(api, "%s/%s" % (base, k)) is None, k


def test_delete_cas_with_a_stale_index_fails(api):
    key = uniq("txndcas")
    txn(api, [kv("set", key, b"1")])
    idx = kv_entry(api, key)["ModifyIndex"]
    txn(api, [kv("set", key, b"2")])
    out = txn(api, [kv("delete-cas", key, Index=idx)], expect=409)
    assert out["Errors"][0]["OpIndex"] == 0
    assert kv_entry(api, key) is not None


def test_cas_race_in_transactions_has_one_winner(api):
    key = uniq("txnrace")
    txn(api, [kv("set", key, b"start")])
    idx = kv_entry(api, key)["ModifyIndex"]
    codes = []
    lock = threading.Lock()

    def racer(n):
        r = api.put("/v1/txn", json=[kv("cas", key, str(n).encode(), Index=idx),
                                      kv("set", "%s-by-%d" % (key, n), b"w")])
        with lock:
            codes.append((n, r.status_code))

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [n for n, c in codes if c == 200]
    assert len(winners) == 1 and all(c in (200, 409) for _, c in codes), codes
    w = winners[0]
    assert base64.b64decode(kv_entry(api, key)["Value"]) == str(w).encode()
    # Losers' second op did not happen either.
    for n, c in codes:
        assert (kv_entry(api, "%s-by-%d" % (key, n)) is not None) == (n == w)


def test_lock_unlock_and_check_session_as_a_fencing_condition(api):
    key = uniq("fence")
    data_key = key + "-data"
    a = create_session(api, LockDelay="0s", Checks=[])
    b = create_session(api, LockDelay="0s", Checks=[])
    out = txn(api, [kv("lock", key, b"a", Session=a)])
    assert out["Results"][0]["KV"]["LockIndex"] == 1
    assert out["Results"][0]["KV"]["Session"] == a
    # A holds the lock: a write conditional on holding it goes through.
    out = txn(api, [kv("check-session", key, Session=a), kv("set", data_key, b"from a")])
    assert out["Errors"] is None
    # B cannot take it, nor write as if it held it.
    out = txn(api, [kv("lock", key, b"b", Session=b)], expect=409)
    assert out["Errors"][0]["OpIndex"] == 0
    out = txn(api, [kv("check-session", key, Session=b), kv("set", data_key, b"from b")],
              expect=409)
    assert base64.b64decode(kv_entry(api, data_key)["Value"]) == b"from a"
    # A releases; B acquires (LockIndex grows); A's fenced write now fails.
    txn(api, [kv("unlock", key, Session=a)])
    out = txn(api, [kv("lock", key, b"b", Session=b)])
    assert out["Results"][0]["KV"]["LockIndex"] == 2
    out = txn(api, [kv("check-session", key, Session=a), kv("set", data_key, b"late a")],
              expect=409)
    assert base64.b64decode(kv_entry(api, data_key)["Value"]) == b"from a"
    for s in (a, b):
        api.put("/v1/session/destroy/%s" % s)


def test_lock_delay_fails_the_transaction(api):
    key = uniq("txndelay")
    a = create_session(api, LockDelay="10s", Checks=[])
    b = create_session(api, LockDelay="0s", Checks=[])
    assert acquire(api, key, a)
    api.put("/v1/session/destroy/%s" % a)
    out = txn(api, [kv("set", uniq("other"), b"x"), kv("lock", key, b"b", Session=b)],
              expect=409)
    assert out["Errors"] == [{"OpIndex": 1,
                              "What": 'failed to lock key "%s" due to lock delay' % key}]
    api.put("/v1/session/destroy/%s" % b)


def test_64_operations_pass_and_65_are_413(api):
    base = uniq("txnmax")
    ops = [kv("set", "%s/%d" % (base, i), b"v") for i in range(64)]
    assert txn(api, ops)["Errors"] is None
    ops.append(kv("set", "%s/64" % base, b"v"))
    r = txn(api, ops, expect=413)
    assert "too many operations" in r.text
    assert kv_entry(api, "%s/64" % base) is None


def test_a_value_over_512_kib_is_413(api):
    key = uniq("txnbig")
    r = txn(api, [kv("set", key, b"x" * (512 * 1024 + 1))], expect=413)
    assert kv_entry(api, key) is None


@pytest.mark.parametrize("body", [
    b"", b"{", b"{}", b'[{"KV": {"Verb": "explode", "Key": "k"}}]',
    b'[{"Node": {"Verb": "set"}}]', b'[{"KV": {"Verb": "set", "Key": "k", "Value": "***"}}]',
    b'[{"KV": {"Verb": "set", "Key": "/lead", "Value": ""}}]',
    b'[{"KV": {"Verb": "set", "Key": "k", "Flags": -1}}]', b"[1]",
])
def test_malformed_transactions_are_400(api, body):
    r = api.put("/v1/txn", data=body)
    assert r.status_code == 400, (body, r.status_code, r.text)
    index_of(r)


def test_txn_wrong_method_is_405(api):
    assert api.get("/v1/txn").status_code == 405
