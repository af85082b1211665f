// States for the snapshot encoding tests (store and fsm): one that sets
// every field the snapshot encodes, at least once with a non-default value
// and at least once left at its default (proto3 omits those), and a
// generated one of a chosen size.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "store/catalog_fixtures.h"
#include "store/catalog_store.h"
#include "store/kv_fixtures.h"
#include "store/kv_store.h"

namespace sider::testutil {

// A golden file's bytes ("" and a test failure when it is missing).
inline std::string ReadGolden(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Raft indexes past 2^32, so 64-bit varints are exercised too.
inline constexpr uint64_t kHighIndex = uint64_t{1} << 33;

inline void PopulateCatalogEveryField(store::CatalogStore& c) {
  using structs::CheckType;
  using structs::HealthStatus;
  auto web = Reg("n1", MakeService("web", "web-1", {"v1", "primary", ""}),
                 {MakeCheck("web-http", HealthStatus::kPassing, "web-1"),
                  MakeCheck("serfHealth", HealthStatus::kPassing)});
  web.node.id = "4b7e5c0e-0000-4000-8000-000000000001";
  web.node.meta = {{"rack", "r1"}, {"os", "linux"}, {"az", "a"}, {"", "e"}};
  web.node.tagged_addresses = {{"lan", "10.0.0.1"}, {"wan", "203.0.113.1"}};
  web.service->meta = {{"version", "1.2"}, {"build", ""}};
  web.service->address = "10.0.0.11";
  web.service->weights = {.passing = 3, .warning = 0};
  web.service->enable_tag_override = true;
  structs::CheckDefinition& http = web.checks[0].definition;
  web.checks[0].type = CheckType::kHttp;
  web.checks[0].notes = "GET /health";
  web.checks[0].output = std::string("ok\n\0\xc3\xa9", 6);  // NUL, é
  http.http = "http://localhost:8080/health";
  http.method = "POST";
  http.header = {{"X-A", {"1", "2"}}, {"X-B", {"3"}}, {"X-Empty", {}}};
  http.body = "{}";
  http.tls_skip_verify = true;
  http.interval_ns = 10'000'000'000;
  http.timeout_ns = -1;
  http.deregister_critical_after_ns = 60'000'000'000;
  http.success_before_passing = 2;
  http.failures_before_critical = 3;
  web.checks[1].type = CheckType::kTtl;
  web.checks[1].definition.ttl_ns = 30'000'000'000;
  ASSERT_TRUE(c.Register(3, web).ok());

  // The same service id in another namespace, on the same node.
  auto team = Reg("n1", MakeService("web", "web-1", {"team"}),
                  {MakeCheck("team-tcp", HealthStatus::kWarning, "web-1")});
  team.service->ns = "team-a";
  team.service->kind = "connect-proxy";
  team.service->port = -1;
  team.checks[0].ns = "team-a";
  team.checks[0].type = CheckType::kTcp;
  team.checks[0].definition.tcp = "127.0.0.1:9000";
  team.skip_node_update = true;
  ASSERT_TRUE(c.Register(4, team).ok());

  auto db = Reg("n2", MakeService("db"),
                {MakeCheck("db-cmd", HealthStatus::kCritical, "db"),
                 MakeCheck("db-grpc", HealthStatus::kMaintenance, "db"),
                 MakeCheck("db-alias", HealthStatus::kPassing, "db")});
  db.checks[0].type = CheckType::kCmd;
  db.checks[0].definition.args = {"/bin/check", "--db", ""};
  db.checks[1].type = CheckType::kGrpc;
  db.checks[1].definition.grpc = "127.0.0.1:9090/db";
  db.checks[2].type = CheckType::kAlias;
  db.checks[2].definition.alias_service = "web";
  ASSERT_TRUE(c.Register(5, db).ok());
  ASSERT_TRUE(c.Register(6, Reg("n2", MakeService("tmp"))).ok());
  ASSERT_TRUE(c.Deregister(7, Dereg("n2", "tmp")).ok());
  ASSERT_TRUE(c.SetServiceEnabled(kHighIndex, {.node = "n2",
                                               .service_id = "db",
                                               .enabled = false})
                  .ok());
  ASSERT_TRUE(c.Register(kHighIndex + 1, Reg("n3", std::nullopt)).ok());
  ASSERT_TRUE(c.UpdateCheck(kHighIndex + 2,
                            Update("n1", "web-http", HealthStatus::kWarning,
                                   std::string(300, 'o')))
                  .ok());
}

// Needs PopulateCatalogEveryField's nodes and checks (sessions name them).
inline void PopulateKvEveryField(store::KvStore& kv,
                                 const store::CatalogStore& catalog) {
  uint64_t i = kHighIndex + 10;
  ASSERT_TRUE(kv.SessionCreate(i++, MakeSession("s1", "n1", {"serfHealth"}),
                               catalog)
                  .ok());
  structs::Session s2 =
      MakeSession("s2", "n1", {}, structs::SessionBehavior::kDelete);
  s2.name = "";
  s2.service_checks = {{.id = "web-http", .ns = "default"},
                       {.id = "team-tcp", .ns = "team-a"}};
  s2.ttl = "30s";
  s2.lock_delay_ns = 0;
  ASSERT_TRUE(kv.SessionCreate(i++, s2, catalog).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("app/a", "v1", 42)).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("app/empty", "")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("app/bin", std::string("\0\x01\xfe\xff", 4),
                                  ~uint64_t{0}))
                  .ok());
  // A value past 16 KiB takes a 3-byte length varint.
  ASSERT_TRUE(kv.Apply(i++, KvSet("big", std::string(20'000, 'v'))).ok());
  ASSERT_TRUE(kv.Apply(i++, KvLock("lock/a", "s1", "held")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvLock("lock/b", "s2")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvUnlock("lock/b", "s2")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("gone/1", "x")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("gone/2", "x")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvSet("gone/3", "x")).ok());
  ASSERT_TRUE(kv.Apply(i++, KvDelete("gone/1")).ok());
  kv.ReapTombstones(i, i - 1);
  ++i;
  ASSERT_TRUE(kv.Apply(i++, KvDeleteTree("gone/")).ok());
}

// A restore (fsm kRestore) sets the KV store's index floor; a plain write
// path never does. Rebuilds `kv` from its own snapshot, rebased at
// `raft_index`, then writes one more key.
inline void RebaseKv(store::KvStore& kv, uint64_t raft_index) {
  auto decoded = store::KvStore::DecodeSnapshot(kv.Snapshot());
  ASSERT_TRUE(decoded.ok());
  store::KvStore::Decoded d = std::move(decoded).value();
  d.Rebase(raft_index);
  kv.InstallSnapshot(std::move(d));
  ASSERT_TRUE(kv.Apply(raft_index + 1, KvSet("after-restore", "1")).ok());
}

// `services` instances of `services / 8` names spread over `services / 20`
// nodes, each with one TTL check, plus a node check per node: the shape of
// a large fleet of agents.
inline void PopulateCatalogFleet(store::CatalogStore& c, int services) {
  using structs::HealthStatus;
  uint64_t i = 1;
  const int nodes = services / 20 > 0 ? services / 20 : 1;
  for (int n = 0; n < nodes; ++n) {
    auto reg = Reg("node-" + std::to_string(n), std::nullopt,
                   {MakeCheck("serfHealth", HealthStatus::kPassing)});
    reg.node.meta = {{"rack", "r" + std::to_string(n % 16)}};
    reg.node.tagged_addresses = {{"lan", "10.1.0." + std::to_string(n % 250)}};
    ASSERT_TRUE(c.Register(i++, reg).ok());
  }
  for (int s = 0; s < services; ++s) {
    const std::string id = "svc-" + std::to_string(s);
    auto reg = Reg("node-" + std::to_string(s % nodes),
                   MakeService("name-" + std::to_string(s % (services / 8 + 1)),
                               id, {"v1", "zone-" + std::to_string(s % 3)}),
                   {MakeCheck("ttl-" + id, HealthStatus::kPassing, id)});
    reg.service->meta = {{"version", "1." + std::to_string(s % 7)}};
    reg.checks[0].type = structs::CheckType::kTtl;
    reg.checks[0].definition.ttl_ns = 30'000'000'000;
    reg.skip_node_update = true;
    ASSERT_TRUE(c.Register(i++, reg).ok());
  }
}

}  // namespace sider::testutil
