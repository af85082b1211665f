#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "structs/catalog_json.h"

namespace sider::structs {
namespace {

constexpr int64_t kS = 1000 * 1000 * 1000;

// Golden bodies are stored pretty-printed for review; the encoders write
// compact JSON. Re-serialising the golden with an order-preserving parser
// gives the exact bytes we must produce (field names, order and values).
// SIDER_UPDATE_GOLDENS=1 rewrites the files from the current output: review
// the diff against Consul's documented shapes before committing it.
void ExpectGolden(const std::string& actual, const std::string& name) {
  const std::string path = std::string(SIDER_CODEC_TESTDATA) + "/" + name;
  if (std::getenv("SIDER_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(path) << nlohmann::ordered_json::parse(actual).dump(2)
                        << "\n";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(actual, nlohmann::ordered_json::parse(ss.str()).dump()) << name;
}

Node MakeNode() {
  Node n;
  n.name = "foobar";
  n.id = "40e4a748-2192-161a-0510-9bf59fe950b5";
  n.address = "10.1.10.12";
  n.datacenter = "dc1";
  n.tagged_addresses = {{"lan", "10.1.10.12"}, {"wan", "10.1.10.12"}};
  n.meta = {{"instance_type", "t2.medium"}};
  n.create_index = 5;
  n.modify_index = 6;
  return n;
}

Service MakeService() {
  Service s;
  s.node = "foobar";
  s.id = "redis1";
  s.name = "redis";
  s.tags = {"primary", "v1"};
  s.address = "10.1.10.12";
  s.port = 8000;
  s.meta = {{"redis_version", "4.0"}};
  s.weights = {10, 1};
  s.create_index = 10;
  s.modify_index = 11;
  return s;
}

Check MakeServiceCheck() {
  Check c;
  c.node = "foobar";
  c.check_id = "service:redis1";
  c.name = "Service 'redis' check";
  c.status = HealthStatus::kPassing;
  c.output = "HTTP GET http://10.1.10.12:8000/health: 200 OK";
  c.service_id = "redis1";
  c.service_name = "redis";
  c.service_tags = {"primary", "v1"};
  c.type = CheckType::kHttp;
  c.definition.http = "http://10.1.10.12:8000/health";
  c.definition.interval_ns = 10 * kS;
  c.definition.timeout_ns = 1500 * 1000 * 1000;
  c.definition.header = {{"X-Token", {"a", "b"}}};
  c.create_index = 12;
  c.modify_index = 13;
  return c;
}

Check MakeNodeCheck() {
  Check c;
  c.node = "foobar";
  c.check_id = "serfHealth";
  c.name = "Serf Health Status";
  c.status = HealthStatus::kPassing;
  c.output = "Agent alive and reachable";
  c.create_index = 3;
  c.modify_index = 3;
  return c;
}

TEST(EncodeNodes, MatchesGolden) {
  Node bare;
  bare.name = "ext";
  bare.address = "192.0.2.1";
  bare.datacenter = "dc1";
  ExpectGolden(EncodeNodes({MakeNode(), bare}), "catalog_nodes.json");
  EXPECT_EQ(EncodeNodes({}), "[]");
}

TEST(EncodeServiceNodes, MatchesGolden) {
  Service bare;
  bare.node = "foobar";
  bare.id = "web";
  bare.name = "web";
  bare.enabled = false;
  bare.ns = "team-x";
  ExpectGolden(
      EncodeServiceNodes({{MakeNode(), MakeService()}, {MakeNode(), bare}}),
      "catalog_service.json");
  EXPECT_EQ(EncodeServiceNodes({}), "[]");
}

TEST(EncodeCheckServiceNodes, MatchesGolden) {
  CheckServiceNode row{
      MakeNode(), MakeService(), {MakeNodeCheck(), MakeServiceCheck()}};
  ExpectGolden(EncodeCheckServiceNodes({row}), "health_service.json");
  EXPECT_EQ(EncodeCheckServiceNodes({}), "[]");
}

TEST(EncodeCheckServiceNodes, EmptyChecksAndTagsAreArrays) {
  Service s;
  s.id = s.name = "x";
  CheckServiceNode row{Node{}, s, {}};
  auto j = nlohmann::json::parse(EncodeCheckServiceNodes({row}));
  EXPECT_TRUE(j[0]["Checks"].is_array());
  EXPECT_TRUE(j[0]["Checks"].empty());
  EXPECT_TRUE(j[0]["Service"]["Tags"].is_array());
  EXPECT_TRUE(j[0]["Service"]["Meta"].is_object());
  EXPECT_TRUE(j[0]["Node"]["TaggedAddresses"].is_object());
  EXPECT_TRUE(j[0]["Node"]["Meta"].is_object());
  EXPECT_FALSE(j[0]["Service"].contains("Kind"));
  EXPECT_FALSE(j[0]["Service"].contains("Namespace"));
}

TEST(EncodeChecks, MatchesGolden) {
  Check ttl;
  ttl.node = "foobar";
  ttl.check_id = "app-ttl";
  ttl.name = "app ttl";
  ttl.status = HealthStatus::kCritical;
  ttl.notes = "TTL for app";
  ttl.output = "TTL expired";
  ttl.service_id = "app1";
  ttl.service_name = "app";
  ttl.type = CheckType::kTtl;
  ttl.ns = "team-x";
  ttl.definition.ttl_ns = 30 * kS;
  ttl.definition.deregister_critical_after_ns = 90 * 60 * kS;
  Check cmd;
  cmd.node = "foobar";
  cmd.check_id = "mem";
  cmd.name = "Memory";
  cmd.status = HealthStatus::kWarning;
  cmd.type = CheckType::kCmd;
  cmd.definition.args = {"/bin/check_mem", "-w", "80"};
  cmd.definition.interval_ns = 60 * kS;
  Check maint;
  maint.node = "foobar";
  maint.check_id = "_node_maintenance";
  maint.name = "Node Maintenance Mode";
  maint.status = HealthStatus::kMaintenance;
  maint.notes = "upgrade";
  Check misc;
  misc.node = "foobar";
  misc.check_id = "misc";
  misc.name = "misc";
  misc.status = HealthStatus::kPassing;
  misc.type = CheckType::kTcp;
  misc.definition.tcp = "localhost:22";
  misc.definition.interval_ns = 5 * kS;
  misc.definition.method = "HEAD";
  misc.definition.body = "b";
  misc.definition.tls_skip_verify = true;
  misc.definition.grpc = "g:1";
  misc.definition.alias_service = "db";
  ExpectGolden(EncodeChecks({ttl, cmd, maint, misc}), "health_checks.json");
  EXPECT_EQ(EncodeChecks({}), "[]");
}

TEST(EncodeNodeServices, MatchesGolden) {
  Service web;
  web.node = "foobar";
  web.id = "web";
  web.name = "web";
  web.kind = "connect-proxy";
  web.port = 80;
  web.enable_tag_override = true;
  NodeServices ns{MakeNode(), {MakeService(), web}};
  ExpectGolden(EncodeNodeServices(ns), "catalog_node.json");
}

TEST(EncodeNodeServices, NullForUnknownNodeAndFillsDatacenter) {
  EXPECT_EQ(EncodeNodeServices(std::optional<NodeServices>(), "dc9"), "null");
  NodeServices ns;
  ns.node.name = "n";
  auto j = nlohmann::json::parse(
      EncodeNodeServices(std::optional<NodeServices>(ns), "dc9"));
  EXPECT_EQ(j["Node"]["Datacenter"], "dc9");
  EXPECT_TRUE(j["Services"].is_object());
  EXPECT_TRUE(j["Services"].empty());
}

TEST(EncodeCatalogServices, MapsNamesToTags) {
  std::vector<std::pair<std::string, std::vector<std::string>>> rows = {
      {"consul", {}}, {"redis", {"primary", "v1"}}};
  EXPECT_EQ(EncodeCatalogServices(rows),
            R"({"consul":[],"redis":["primary","v1"]})");
  std::map<std::string, std::vector<std::string>> m(rows.begin(), rows.end());
  EXPECT_EQ(EncodeCatalogServices(m), EncodeCatalogServices(rows));
  EXPECT_EQ(EncodeCatalogServices(decltype(rows){}), "{}");
}

TEST(EncodeAgentServices, MatchesGolden) {
  Service bare;
  bare.id = "web-1";
  bare.name = "web";
  bare.enabled = false;
  ExpectGolden(EncodeAgentServices({MakeService(), bare}, "dc1"),
               "agent_services.json");
  EXPECT_EQ(EncodeAgentServices({}, "dc1"), "{}");
}

TEST(EncodeAgentService, WritesContentHashOnlyWhenGiven) {
  Service s = MakeService();
  s.kind = "connect-proxy";
  s.ns = "team-x";
  ExpectGolden(EncodeAgentService(s, "dc1", "a1b2c3"), "agent_service.json");
  auto j = nlohmann::json::parse(EncodeAgentService(s, "dc1"));
  EXPECT_FALSE(j.contains("ContentHash"));
  EXPECT_FALSE(j.contains("CreateIndex"));
}

TEST(EncodeAgentChecks, MatchesGolden) {
  ExpectGolden(EncodeAgentChecks({MakeNodeCheck(), MakeServiceCheck()}),
               "agent_checks.json");
  EXPECT_EQ(EncodeAgentChecks({}), "{}");
}

TEST(Encoders, EscapeUntrustedText) {
  Check c = MakeNodeCheck();
  c.output = "<html>\"oops\"\n\xff</html>";
  std::string out = EncodeChecks({c});
  EXPECT_NE(
      out.find(
          R"("Output":"\u003chtml\u003e\"oops\"\n\ufffd\u003c/html\u003e")"),
      std::string::npos)
      << out;
  auto j = nlohmann::json::parse(out);  // Valid JSON even with bad UTF-8.
  EXPECT_EQ(j[0]["Output"], "<html>\"oops\"\n\xEF\xBF\xBD</html>");

  Service s = MakeService();
  s.meta = {{"k\"ey", "v\\al"}};
  s.tags = {"t\x01"};
  auto js = nlohmann::json::parse(EncodeAgentServices({s}, "dc1"));
  EXPECT_EQ(js["redis1"]["Meta"]["k\"ey"], "v\\al");
  EXPECT_EQ(js["redis1"]["Tags"][0], "t\x01");
}

TEST(Encoders, AppendComposesIntoLargerDocuments) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("Node");
  AppendNodeJson(w, MakeNode());
  w.Key("Check");
  AppendHealthCheckJson(w, MakeNodeCheck());
  w.Key("Row");
  AppendServiceNodeJson(w, MakeNode(), MakeService());
  w.Key("Svc");
  AppendNodeServiceJson(w, MakeService());
  w.Key("Agent");
  AppendAgentServiceJson(w, MakeService(), "dc1");
  w.Key("CSN");
  AppendCheckServiceNodeJson(w, {MakeNode(), MakeService(), {}});
  w.EndObject();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["Node"]["Node"], "foobar");
  EXPECT_EQ(j["Check"]["CheckID"], "serfHealth");
  EXPECT_EQ(j["Row"]["ServiceID"], "redis1");
  EXPECT_EQ(j["Svc"]["Service"], "redis");
  EXPECT_EQ(j["Agent"]["Datacenter"], "dc1");
  EXPECT_EQ(j["CSN"]["Checks"].size(), 0u);
}

// The decoders' output re-encodes to the shape Consul shows for the same
// registration.
TEST(Encoders, AgentRegistrationRoundTripsThroughAgentChecks) {
  auto reg = DecodeAgentServiceRegistration(R"({
    "Name": "redis", "ID": "redis1", "Tags": ["primary"],
    "Check": {"HTTP": "http://localhost:8000/health", "Interval": "10s",
              "Timeout": 1500000000}
  })");
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  auto j = nlohmann::json::parse(EncodeAgentChecks(reg->checks));
  const auto& c = j["service:redis1"];
  EXPECT_EQ(c["Name"], "Service 'redis' check");
  EXPECT_EQ(c["Status"], "critical");
  EXPECT_EQ(c["Type"], "http");
  EXPECT_EQ(c["Interval"], "10s");
  EXPECT_EQ(c["Timeout"], "1.5s");
  EXPECT_EQ(c["ServiceTags"], nlohmann::json::array({"primary"}));
  EXPECT_EQ(c["Definition"]["HTTP"], "http://localhost:8000/health");
}

}  // namespace
}  // namespace sider::structs
