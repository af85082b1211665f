"""Backup and restore (GET / PUT /v1/snapshot, `sider snapshot ...`) and the
state hash (GET /v1/operator/state-hash), against real `sider` processes.

What is proven here: a restore brings back exactly the saved state; the
X-Consul-Index seen by clients keeps growing across it; a parked blocking
query wakes on it; corrupt or truncated archives are refused with a clear
message and change nothing; the state hash is stable across a restart; and
(two 3-server clusters) an archive from one cluster restores on another,
whose servers then report one hash at one index.
"""

import base64
import os
import threading
import time

import pytest

import cluster_lib
import sider_testlib as lib


def kv_put(api, key, value):
    r = api.put("/v1/kv/" + key, data=value)
    assert r.status_code == 200 and r.json() is True, r.text


def kv_tree(api, prefix):
    """{key: value} under prefix (empty dict if none), and the index."""
    r = api.get("/v1/kv/" + prefix, params={"recurse": ""})
    assert r.status_code in (200, 404), r.text
    if r.status_code == 404:
        return {}, lib.index_of(r)
    return ({e["Key"]: base64.b64decode(e["Value"] or "").decode()
             for e in r.json()}, lib.index_of(r))


def register(api, node, service):
    r = api.put("/v1/catalog/register", data=lib.dumps({
        "Node": node, "Address": "10.1.2.3",
        "Service": {"ID": service, "Service": service, "Port": 80}}))
    assert r.status_code == 200, r.text


def services(api):
    return set(api.ok_json("/v1/catalog/services"))


def save(api, params=None):
    r = api.get("/v1/snapshot", params=params or {}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.content[:8] == b"SIDERBAK"
    assert lib.index_of(r) > 0
    return r.content


def restore(api, archive):
    return api.put("/v1/snapshot", data=archive, timeout=60)


def own_hash(srv):
    return cluster_lib.state_hash(srv)


def test_restore_brings_back_the_saved_state_and_indexes_move_forward(fresh_server):
    api = fresh_server.api
    p = lib.uniq("rt") + "/"
    kv_put(api, p + "a", "1")
    kv_put(api, p + "b", "2")
    register(api, "ext-1", "saved-svc")
    archive = save(api)

    # Change everything the archive holds.
    kv_put(api, p + "a", "changed")
    assert api.delete("/v1/kv/" + p + "b").status_code == 200
    kv_put(api, p + "c", "new")
    register(api, "ext-2", "later-svc")
    assert api.put("/v1/catalog/deregister", data=lib.dumps(
        {"Node": "ext-1", "ServiceID": "saved-svc"})).status_code == 200
    tree, before = kv_tree(api, p)
    assert tree == {p + "a": "changed", p + "c": "new"}

    # A blocking query parked on a key the restore changes must wake.
    parked = {}
    key_index = lib.index_of(api.get("/v1/kv/" + p + "a"))

    def park():
        t0 = time.monotonic()
        r = api.get("/v1/kv/" + p + "a",
                    params={"index": key_index, "wait": "60s"}, timeout=90)
        parked.update(resp=r, secs=time.monotonic() - t0)

    t = threading.Thread(target=park)
    t.start()
    time.sleep(0.5)  # Let it park.
    r = restore(api, archive)
    assert r.status_code == 200, r.text
    t.join(timeout=30)
    assert not t.is_alive(), "the parked blocking query did not wake"
    assert parked["resp"].status_code == 200
    assert parked["secs"] < 20
    assert lib.index_of(parked["resp"]) > key_index
    assert base64.b64decode(parked["resp"].json()[0]["Value"]) == b"1"

    tree, after = kv_tree(api, p)
    assert tree == {p + "a": "1", p + "b": "2"}
    assert after > before, (before, after)
    svcs = services(api)
    assert "saved-svc" in svcs and "later-svc" not in svcs
    # Writes after the restore keep indexes growing.
    kv_put(api, p + "d", "x")
    _, later = kv_tree(api, p)
    assert later > after


def test_cli_save_inspect_restore(fresh_server, sider_bin, tmp_path):
    api = fresh_server.api
    addr = "127.0.0.1:%d" % fresh_server.http_port
    p = lib.uniq("cli") + "/"
    kv_put(api, p + "k", "v")
    f = str(tmp_path / "backup.snap")

    out = cluster_lib.run_cli(sider_bin, "snapshot", "save", "--http-addr", addr, f)
    assert out.returncode == 0, out.stderr
    assert "Saved and verified snapshot to index" in out.stdout
    assert os.path.getsize(f) > 100 and not os.path.exists(f + ".tmp")

    out = cluster_lib.run_cli(sider_bin, "snapshot", "inspect", f)
    assert out.returncode == 0, out.stderr
    for word in ("Index", "Term", "Created", "Size", "State hash", "nodes",
                 "services", "checks", "kv", "sessions"):
        assert word in out.stdout, out.stdout
    rows = dict(line.split() for line in out.stdout.splitlines()
                if line.strip().split(" ")[0] in ("kv", "nodes"))
    assert int(rows["kv"]) >= 1 and int(rows["nodes"]) >= 1

    kv_put(api, p + "k", "changed")
    out = cluster_lib.run_cli(sider_bin, "snapshot", "restore", "--http-addr", addr, f)
    assert out.returncode == 0, out.stderr
    assert "Restored snapshot" in out.stdout
    assert kv_tree(api, p)[0] == {p + "k": "v"}

    # A stale save answers from the server asked.
    out = cluster_lib.run_cli(sider_bin, "snapshot", "save", "--stale",
                              "--http-addr", addr, f)
    assert out.returncode == 0, out.stderr


def test_corrupt_and_truncated_archives_are_refused_and_change_nothing(
        fresh_server, sider_bin, tmp_path):
    api = fresh_server.api
    p = lib.uniq("bad") + "/"
    kv_put(api, p + "k", "before")
    archive = save(api)
    kv_put(api, p + "k", "current")
    hash_before = own_hash(fresh_server)

    flipped = bytearray(archive)
    flipped[len(flipped) // 2] ^= 0x04
    cases = {
        "bit flip": (bytes(flipped), "checksum"),
        "truncated": (archive[:-7], "truncated"),
        "cut in half": (archive[:len(archive) // 2], "truncated"),
        "trailing junk": (archive + b"junk", "unexpected bytes"),
        "not an archive": (b"hello, this is not a snapshot", "not a sider snapshot"),
        "empty": (b"", "not a sider snapshot"),
    }
    for name, (body, why) in cases.items():
        r = restore(api, body)
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert why in r.text, (name, r.text)

    assert kv_tree(api, p)[0] == {p + "k": "current"}
    assert own_hash(fresh_server)[1] == hash_before[1]

    addr = "127.0.0.1:%d" % fresh_server.http_port
    bad = str(tmp_path / "bad.snap")
    with open(bad, "wb") as f:
        f.write(archive[:-100])
    for args in (("inspect", bad), ("restore", "--http-addr", addr, bad)):
        out = cluster_lib.run_cli(sider_bin, "snapshot", *args)
        assert out.returncode == 1, (args, out.stdout)
        assert "Error verifying snapshot" in out.stderr and "truncated" in out.stderr
    out = cluster_lib.run_cli(sider_bin, "snapshot", "inspect", str(tmp_path / "none"))
    assert out.returncode == 1 and "cannot open" in out.stderr
    assert kv_tree(api, p)[0] == {p + "k": "current"}


def test_an_archive_over_the_restore_limit_is_413(fresh_server):
    api = fresh_server.api
    p = lib.uniq("big") + "/"
    chunk = os.urandom(300 * 1024)
    for i in range(24):  # ~7 MiB of values (base64 in the body).
        r = api.put("/v1/kv/%s%02d" % (p, i), data=chunk)
        assert r.status_code == 200, r.text
    archive = save(api)
    assert len(archive) > 6 * 1024 * 1024
    r = restore(api, archive)
    assert r.status_code == 413, (r.status_code, r.text)
    assert "limit" in r.text
    assert api.delete("/v1/kv/" + p, params={"recurse": ""}).status_code == 200


def test_a_state_over_the_entry_limit_restores_when_it_compresses(fresh_server):
    # The restore entry carries the state compressed: 7 MiB of ordinary
    # (repetitive) values is far under the 6 MiB entry limit.
    api = fresh_server.api
    p = lib.uniq("bigtext") + "/"
    chunk = (b"instance web-%d on node n1 with tags v1 and meta env=prod; "
             * 6000)[:300 * 1024]
    for i in range(24):
        r = api.put("/v1/kv/%s%02d" % (p, i), data=chunk)
        assert r.status_code == 200, r.text
    archive = save(api)
    assert len(archive) > 6 * 1024 * 1024
    for i in range(24):
        assert api.delete("/v1/kv/%s%02d" % (p, i)).status_code == 200
    r = restore(api, archive)
    assert r.status_code == 200, (r.status_code, r.text)
    got = api.get("/v1/kv/%s07" % p, params={"raw": ""})
    assert got.status_code == 200 and got.content == chunk
    assert api.delete("/v1/kv/" + p, params={"recurse": ""}).status_code == 200


def test_ttl_checks_of_a_restored_state_expire(fresh_server):
    # The leader re-arms its TTL timers when a restore applies: a TTL check
    # that comes back with the restored state turns critical when nobody
    # passes it, even though it was deregistered (and so untracked) before.
    api = fresh_server.api
    sid = lib.uniq("ttl-restored")
    r = api.put("/v1/agent/service/register", data=lib.dumps({
        "Name": sid, "ID": sid,
        "Check": {"CheckID": sid + "-ttl", "TTL": "1s", "Status": "passing"}}))
    assert r.status_code == 200, r.text
    archive = save(api)
    r = api.put("/v1/agent/service/deregister/" + sid)
    assert r.status_code == 200, r.text
    r = restore(api, archive)
    assert r.status_code == 200, (r.status_code, r.text)

    def status():
        checks = api.ok_json("/v1/health/checks/" + sid)
        return checks[0]["Status"] if checks else None
    assert status() == "passing"
    lib.wait_until(lambda: status() == "critical", 10,
                   desc="the restored TTL check to expire")
    assert api.put("/v1/agent/service/deregister/" + sid).status_code == 200


def test_state_hash_is_stable_across_a_restart(fresh_server):
    api = fresh_server.api
    p = lib.uniq("hash") + "/"
    kv_put(api, p + "k", "v")
    register(api, "ext-h", "hash-svc")
    r = api.get("/v1/operator/state-hash")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"Index", "Hash"} and len(body["Hash"]) == 16
    index, digest = own_hash(fresh_server)
    assert index >= lib.index_of(api.get("/v1/kv/" + p + "k"))

    fresh_server.stop()
    fresh_server.proc = None
    fresh_server.start()
    # The same state after replaying the log (leader barriers move the
    # applied index, not the state).
    lib.wait_until(lambda: own_hash(fresh_server)[1] == digest, 20,
                   desc="state hash after restart == before")
    assert own_hash(fresh_server)[0] >= index


@pytest.fixture
def two_clusters(sider_bin, tmp_path):
    made = []

    def make(prefix):
        c = cluster_lib.Cluster(sider_bin, tmp_path / prefix, 3, name_prefix=prefix)
        made.append(c)
        c.start()
        return c

    yield make
    for c in made:
        c.stop_all()


def converged(cluster):
    """(index, hash) if every server reports the same pair, else None."""
    pairs = {own_hash(s) for s in cluster.servers}
    return pairs.pop() if len(pairs) == 1 else None


def test_backup_of_one_cluster_restores_on_another(two_clusters):
    a = two_clusters("a")
    la = a.wait_leader()
    follower_a = next(s for s in a.servers if s is not la)
    p = lib.uniq("xc") + "/"
    for i in range(20):
        kv_put(la.api, "%s%02d" % (p, i), "v%d" % i)
    register(la.api, "ext-x", "xc-svc")
    archive = save(follower_a.api)  # Forwarded to the leader.

    b = two_clusters("b")
    lb = b.wait_leader()
    kv_put(lb.api, p + "only-b", "gone after the restore")
    _, before = kv_tree(lb.api, p)
    follower_b = next(s for s in b.servers if s is not lb)
    r = restore(follower_b.api, archive)  # Forwarded to the leader.
    assert r.status_code == 200, r.text

    want = {"%s%02d" % (p, i): "v%d" % i for i in range(20)}
    for s in b.servers:
        lib.wait_until(lambda: kv_tree(s.api, p)[0] == want, 20,
                       desc="%s has the restored keys" % s.name)
    assert kv_tree(lb.api, p)[1] > before
    assert "xc-svc" in services(lb.api)
    pair = lib.wait_until(lambda: converged(b), 30,
                          desc="cluster b servers report one (index, hash)")
    assert pair is not None
