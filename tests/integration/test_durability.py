"""Acknowledged writes survive `kill -9`; a restart on the same data dir
brings back the catalog with an index that has not gone backwards."""

from sider_testlib import index_of, uniq, wait_until


def test_state_survives_kill9_and_restart_on_same_data_dir(server_factory, http_target):
    srv = server_factory("sider-durable")
    srv.start()
    api = srv.api
    node_id = api.ok_json("/v1/agent/self")["Config"]["NodeID"]

    keep, gone = uniq("keep"), uniq("gone")
    api.register_service({"Name": keep, "ID": keep, "Port": 7000,
                          "Tags": ["a", "b"], "Meta": {"m": "1"},
                          "Check": {"CheckID": keep + "-ttl", "TTL": "30s"}})
    r = api.put("/v1/agent/check/register", json={
        "ID": keep + "-http", "Name": "http", "ServiceID": keep,
        "HTTP": http_target.url, "Interval": "1s"})
    assert r.status_code == 200, r.text
    api.register_service({"Name": gone, "ID": gone})
    api.deregister_service(gone)
    ext = uniq("ext")
    r = api.put("/v1/catalog/register", json={
        "Node": ext, "Address": "10.1.2.3", "NodeMeta": {"rack": "r7"},
        "Service": {"ID": ext + "-svc", "Service": ext, "Port": 99}})
    assert r.status_code == 200, r.text
    r = api.put("/v1/agent/service/maintenance/%s" % keep,
                params={"enable": "true", "reason": "before crash"})
    assert r.status_code == 200, r.text

    idx_before = index_of(api.get("/v1/catalog/services"))
    health_idx_before = index_of(api.get("/v1/health/state/any"))
    services_before = api.ok_json("/v1/catalog/services")

    srv.restart_after_kill9()
    api = srv.api

    assert index_of(api.get("/v1/catalog/services")) >= idx_before
    assert index_of(api.get("/v1/health/state/any")) >= health_idx_before
    assert api.ok_json("/v1/catalog/services") == services_before
    assert api.ok_json("/v1/agent/self")["Config"]["NodeID"] == node_id

    svc = api.agent_services()[keep]
    assert (svc["Service"], svc["Port"], sorted(svc["Tags"]), svc["Meta"]) == \
        (keep, 7000, ["a", "b"], {"m": "1"})
    assert gone not in api.agent_services()
    assert api.ok_json("/v1/catalog/service/%s" % gone) == []
    checks = api.agent_checks()
    for cid in (keep + "-ttl", keep + "-http", "_service_maintenance:" + keep):
        assert cid in checks, "check %s lost in restart" % cid
    assert checks["_service_maintenance:" + keep]["Notes"] == "before crash"

    ext_inst = api.ok_json("/v1/catalog/service/%s" % ext, params={"node-meta": "rack:r7"})
    assert [(e["Node"], e["ServicePort"]) for e in ext_inst] == [(ext, 99)]

    # The restored HTTP check runs again after the restart.
    hits = http_target.hits
    wait_until(lambda: http_target.hits > hits, 15, desc="HTTP check probing after restart")

    # And the restarted server still accepts writes, with a higher index.
    idx = index_of(api.get("/v1/catalog/services"))
    after = uniq("after")
    api.register_service({"Name": after, "ID": after})
    assert index_of(api.get("/v1/catalog/services")) > idx


def test_repeated_kill9_restarts_lose_nothing(server_factory):
    srv = server_factory("sider-kill-loop")
    srv.start()
    names = []
    last_idx = 0
    for round_no in range(3):
        api = srv.api
        name = uniq("r%d" % round_no)
        api.register_service({"Name": name, "ID": name,
                              "Check": {"TTL": "30s", "Status": "passing"}})
        names.append(name)
        last_idx = index_of(api.get("/v1/catalog/services"))
        srv.restart_after_kill9()
        api = srv.api
        have = api.agent_services()
        assert all(n in have for n in names), (names, sorted(have))
        assert index_of(api.get("/v1/catalog/services")) >= last_idx


def test_ttl_checks_are_not_expired_immediately_after_restart(server_factory):
    # A new leader grants every TTL a full period before expiring anything.
    srv = server_factory("sider-ttl-grace")
    srv.start()
    name = uniq("grace")
    cid = "service:" + name
    srv.api.register_service({"Name": name, "ID": name, "Check": {"TTL": "20s"}})
    srv.api.check_pass(cid)
    srv.restart_after_kill9()
    assert srv.api.check_status(cid) == "passing"
    srv.api.check_pass(cid)
    assert srv.api.health_ids(name, passing=True) == [name]
