"""Cluster formation and membership with real `sider server` processes:
--bootstrap-expect + --join in any order, restarts with the same command,
a whole-cluster restart, a --non-voter read replica, remove-peer and
transfer-leader over HTTP and the CLI, `sider members`.

Loopback only; every wait is bounded (cluster_lib / sider_testlib)."""

import random


import cluster_lib
import sider_testlib as lib


def register(api, node, service):
    r = api.put("/v1/catalog/register", json={
        "Node": node, "Address": "10.0.0.1",
        "Service": {"Service": service, "Port": 80}})
    assert r.status_code == 200, r.text


def stale_service(srv, service):
    r = srv.api.get("/v1/catalog/service/%s?stale" % service, timeout=5)
    return r.status_code == 200 and len(r.json()) == 1


def wait_visible_everywhere(cluster, service, timeout=20):
    for s in cluster.running():
        lib.wait_until(lambda s=s: stale_service(s, service), timeout,
                       desc="%s visible on %s with ?stale" % (service, s.name))


def voters_and_standbys(srv):
    conf = srv.configuration()["Servers"]
    return (sorted(x["Node"] for x in conf if x["Voter"]),
            sorted(x["Node"] for x in conf if not x["Voter"]))


def test_three_servers_bootstrap_in_any_order_restart_and_keep_data(
        make_cluster, sider_bin):
    cluster = make_cluster(3)
    order = [0, 1, 2]
    random.shuffle(order)
    leader = cluster.start(order=order)
    names = ["n1", "n2", "n3"]
    cluster.wait_members(names)

    # Consul's shapes: configuration, peers, members.
    conf = leader.configuration()
    assert sorted(s["Node"] for s in conf["Servers"]) == names
    assert [s["Leader"] for s in conf["Servers"]].count(True) == 1
    assert all(s["Voter"] for s in conf["Servers"])
    by_node = {s["Node"]: s for s in conf["Servers"]}
    assert by_node[leader.name]["Leader"] is True
    for s in cluster.servers:
        assert by_node[s.name]["Address"] == s.raft_addr
    for s in cluster.servers:
        assert sorted(s.peers()) == sorted(x.raft_addr for x in cluster.servers)

    def all_alive(srv):
        members = srv.api.ok_json("/v1/agent/members")
        return (sorted(m["Name"] for m in members) == names and
                all(m["Status"] == 1 for m in members))
    for s in cluster.servers:
        lib.wait_until(lambda s=s: all_alive(s), 20,
                       desc="3 alive members on %s" % s.name)

    # Each server's catalog node says where its HTTP API is.
    def server_meta():
        nodes = {n["Node"]: n for n in leader.api.ok_json("/v1/catalog/nodes")}
        return all(n in nodes and nodes[n]["Meta"].get("sider-http-addr") ==
                   cluster.by_name(n).http_addr for n in names)
    lib.wait_until(server_meta, 20, desc="server nodes with sider-http-addr")

    # A write on the leader reaches every server.
    register(leader.api, "ext-1", "web-before")
    wait_visible_everywhere(cluster, "web-before")

    # The CLI, against a follower.
    follower = cluster.followers()[0]
    p = cluster_lib.run_cli(sider_bin, "members", "--http-addr",
                            follower.http_addr)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].split() == ["Node", "Address", "Status", "Type", "Build",
                                "Protocol", "DC"]
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert sorted(rows) == names
    assert all(r[2] == "alive" and r[3] == "server" for r in rows.values())
    p = cluster_lib.run_cli(sider_bin, "operator", "raft", "list-peers",
                            "--http-addr", follower.http_addr)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].split() == ["Node", "ID", "Address", "State", "Voter",
                                "RaftProtocol"]
    states = {l.split()[0]: l.split()[3] for l in lines[1:]}
    assert states == {n: ("leader" if n == leader.name else "follower")
                      for n in names}

    # A follower killed and restarted with the same command rejoins and
    # catches up with what it missed.
    cluster.kill9(follower)
    register(leader.api, "ext-2", "web-while-down")
    cluster.restart(follower)
    cluster.wait_members(names)
    lib.wait_until(lambda: stale_service(follower, "web-while-down"), 20,
                   desc="restarted follower caught up")

    # The whole cluster stopped and started again: same data.
    for s in cluster.servers:
        rc, _ = s.terminate()
        assert rc == 0, "%s exited %r" % (s.name, rc)
    random.shuffle(order)
    leader = cluster.start(order=order)
    cluster.wait_members(names)
    for svc in ("web-before", "web-while-down"):
        wait_visible_everywhere(cluster, svc)
    register(leader.api, "ext-3", "web-after")
    wait_visible_everywhere(cluster, "web-after")


def test_a_late_non_voter_joins_as_standby_and_serves_stale_reads(
        make_cluster):
    cluster = make_cluster(3)
    leader = cluster.start()
    register(leader.api, "ext-1", "before-replica")
    replica = cluster.add_server("r1", non_voter=True)
    replica.start(wait=False)
    cluster.wait_members(["n1", "n2", "n3", "r1"])
    lib.wait_until(lambda: voters_and_standbys(leader) ==
                   (["n1", "n2", "n3"], ["r1"]), 20,
                   desc="r1 a standby")
    assert sorted(leader.peers()) == sorted(
        s.raft_addr for s in cluster.servers if s is not replica)
    lib.wait_until(lambda: stale_service(replica, "before-replica"), 20,
                   desc="replica has the earlier write")
    register(leader.api, "ext-2", "after-replica")
    lib.wait_until(lambda: stale_service(replica, "after-replica"), 20,
                   desc="replica has the later write")
    members = replica.api.ok_json("/v1/agent/members")
    tags = {m["Name"]: m["Tags"] for m in members}
    assert tags["r1"].get("nonvoter") == "1"

    # The replica restarted with the same command is still a standby.
    cluster.restart(replica)
    assert voters_and_standbys(leader) == (["n1", "n2", "n3"], ["r1"])


def test_a_server_restarted_with_another_role_takes_it(make_cluster):
    # The command line wins over the role a server had: a standby restarted
    # without --non-voter becomes a voter, and back.
    cluster = make_cluster(3)
    leader = cluster.start()
    replica = cluster.add_server("r1", non_voter=True)
    replica.start(wait=False)
    lib.wait_until(lambda: voters_and_standbys(leader) ==
                   (["n1", "n2", "n3"], ["r1"]), 20, desc="r1 a standby")
    replica.non_voter = False
    cluster.restart(replica)
    lib.wait_until(lambda: voters_and_standbys(leader) ==
                   (["n1", "n2", "n3", "r1"], []), 20,
                   desc="r1 a voter after a restart without --non-voter")
    replica.non_voter = True
    cluster.restart(replica)
    lib.wait_until(lambda: voters_and_standbys(leader) ==
                   (["n1", "n2", "n3"], ["r1"]), 20,
                   desc="r1 a standby again after a restart with --non-voter")


def test_join_without_bootstrap_expect_adds_a_voter(make_cluster):
    cluster = make_cluster(3)
    leader = cluster.start()
    late = cluster.add_server("n4")
    late.start(wait=False)
    cluster.wait_members(["n1", "n2", "n3", "n4"])
    lib.wait_until(lambda: voters_and_standbys(leader) ==
                   (["n1", "n2", "n3", "n4"], []), 20, desc="n4 a voter")
    register(leader.api, "ext-1", "four")
    lib.wait_until(lambda: stale_service(late, "four"), 20,
                   desc="n4 replicates")


def test_transfer_leader_and_remove_peer_over_http(make_cluster):
    cluster = make_cluster(3)
    leader = cluster.start()
    target = cluster.followers()[0]
    r = leader.api.post("/v1/operator/raft/transfer-leader",
                        params={"id": target.name})
    assert r.status_code == 200, r.text
    assert r.json() == {"Success": True}
    new = cluster.wait_leader()
    assert new is target

    # Unknown ids are 404 with Consul's wording.
    r = new.api.delete("/v1/operator/raft/peer", params={"id": "nope"})
    assert r.status_code == 404 and "was not found" in r.text, r.text
    r = new.api.delete("/v1/operator/raft/peer")
    assert r.status_code == 400, r.text

    # Remove a dead follower by address, asked on the other follower
    # (forwarded to the leader).
    victim, other = [s for s in cluster.servers if s is not new]
    cluster.kill9(victim)
    r = other.api.delete("/v1/operator/raft/peer",
                         params={"address": victim.raft_addr})
    assert r.status_code == 200, r.text
    remaining = sorted(s.name for s in (new, other))
    cluster.wait_members(remaining)
    assert sorted(new.peers()) == sorted(s.raft_addr for s in (new, other))
    register(new.api, "ext-1", "two-left")
    lib.wait_until(lambda: stale_service(other, "two-left"), 20,
                   desc="two servers still commit")


def test_transfer_leader_and_remove_peer_with_the_cli(make_cluster, sider_bin):
    cluster = make_cluster(3)
    leader = cluster.start()
    follower = cluster.followers()[0]
    p = cluster_lib.run_cli(sider_bin, "operator", "raft", "transfer-leader",
                            "--http-addr", follower.http_addr)
    assert p.returncode == 0, p.stdout + p.stderr
    new = lib.wait_until(
        lambda: (lambda l: l if l is not None and l is not leader else None)(
            cluster.leader_server()),
        20, desc="another leader")

    victim = next(s for s in cluster.servers if s is not new)
    conf = {s["Node"]: s for s in new.configuration()["Servers"]}
    cluster.kill9(victim)
    p = cluster_lib.run_cli(sider_bin, "operator", "raft", "remove-peer",
                            "--id", conf[victim.name]["ID"],
                            "--http-addr", new.http_addr)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Removed peer" in p.stdout
    cluster.wait_members(sorted(s.name for s in cluster.running()))

    p = cluster_lib.run_cli(sider_bin, "operator", "raft", "remove-peer",
                            "--id", "no-such-server",
                            "--http-addr", new.http_addr)
    assert p.returncode != 0 and "was not found" in p.stderr, p.stderr


def test_members_reports_a_stopped_server_failed_then_alive_again(
        make_cluster):
    cluster = make_cluster(3)
    leader = cluster.start()
    victim = cluster.followers()[0]

    def status_of(name):
        return {m["Name"]: m["Status"]
                for m in leader.api.ok_json("/v1/agent/members")}.get(name)

    lib.wait_until(lambda: status_of(victim.name) == 1, 20, desc="alive")
    victim.sigstop()
    try:
        lib.wait_until(lambda: status_of(victim.name) == 4, 20,
                       desc="%s failed while SIGSTOPped" % victim.name)
    finally:
        victim.sigcont()
    lib.wait_until(lambda: status_of(victim.name) == 1, 20,
                   desc="%s alive after SIGCONT" % victim.name)
