#include <gtest/gtest.h>

#include "structs/catalog_json.h"

namespace sider::structs {
namespace {

constexpr int64_t kS = 1000 * 1000 * 1000;

// Expects a kInvalidArgument whose message contains `part`.
template <typename T>
void ExpectInvalid(const Result<T>& r, std::string_view part) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << part;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(part), std::string::npos)
      << "message: " << r.status().message();
}

// ---- /v1/agent/service/register ----

TEST(DecodeAgentServiceRegistration, ReadsConsulDocsExample) {
  auto r = DecodeAgentServiceRegistration(R"({
    "ID": "redis1",
    "Name": "redis",
    "Tags": ["primary", "v1"],
    "Address": "127.0.0.1",
    "Port": 8000,
    "Meta": {"redis_version": "4.0"},
    "EnableTagOverride": false,
    "Check": {
      "DeregisterCriticalServiceAfter": "90m",
      "Args": ["/usr/local/bin/check_redis.py"],
      "Interval": "10s",
      "Timeout": "5s"
    },
    "Weights": {"Passing": 10, "Warning": 1}
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Service& s = r->service;
  EXPECT_EQ(s.id, "redis1");
  EXPECT_EQ(s.name, "redis");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"primary", "v1"}));
  EXPECT_EQ(s.address, "127.0.0.1");
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.meta, (Meta{{"redis_version", "4.0"}}));
  EXPECT_EQ(s.weights, (Weights{10, 1}));
  EXPECT_FALSE(s.enable_tag_override);
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.ns, "default");
  EXPECT_EQ(s.node, "");
  ASSERT_EQ(r->checks.size(), 1u);
  const Check& c = r->checks[0];
  EXPECT_EQ(c.check_id, "service:redis1");
  EXPECT_EQ(c.name, "Service 'redis' check");
  EXPECT_EQ(c.status, HealthStatus::kCritical);
  EXPECT_EQ(c.type, CheckType::kCmd);
  EXPECT_EQ(c.service_id, "redis1");
  EXPECT_EQ(c.service_name, "redis");
  EXPECT_EQ(c.service_tags, s.tags);
  EXPECT_EQ(c.definition.args,
            (std::vector<std::string>{"/usr/local/bin/check_redis.py"}));
  EXPECT_EQ(c.definition.interval_ns, 10 * kS);
  EXPECT_EQ(c.definition.timeout_ns, 5 * kS);
  EXPECT_EQ(c.definition.deregister_critical_after_ns, 90 * 60 * kS);
}

TEST(DecodeAgentServiceRegistration, DefaultsIdToNameAndWeightsToOne) {
  auto r = DecodeAgentServiceRegistration(R"({"Name": "web"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->service.id, "web");
  EXPECT_EQ(r->service.weights, (Weights{1, 1}));
  EXPECT_EQ(r->service.port, 0);
  EXPECT_TRUE(r->service.tags.empty());
  EXPECT_TRUE(r->checks.empty());
}

TEST(DecodeAgentServiceRegistration, AcceptsAnyKeyCase) {
  for (const char* body :
       {R"({"name": "web", "id": "w1", "port": 80, "tags": ["a"]})",
        R"({"NAME": "web", "ID": "w1", "PORT": 80, "TAGS": ["a"]})",
        R"({"nAmE": "web", "Id": "w1", "pOrt": 80, "Tags": ["a"]})"}) {
    auto r = DecodeAgentServiceRegistration(body);
    ASSERT_TRUE(r.ok()) << body << ": " << r.status().message();
    EXPECT_EQ(r->service.name, "web") << body;
    EXPECT_EQ(r->service.id, "w1") << body;
    EXPECT_EQ(r->service.port, 80) << body;
    EXPECT_EQ(r->service.tags, std::vector<std::string>{"a"}) << body;
  }
}

TEST(DecodeAgentServiceRegistration, AcceptsPythonConsulLowerCaseBody) {
  // What python-consul's agent.service.register() sends.
  auto r = DecodeAgentServiceRegistration(R"({
    "name": "api", "id": "api-1", "address": "10.0.0.5", "port": 9000,
    "tags": ["blue"], "meta": {"v": "2"}, "enabletagoverride": true,
    "check": {"http": "http://10.0.0.5:9000/health", "interval": "5s",
              "timeout": "1s", "DeregisterCriticalServiceAfter": "1m",
              "header": {"X-Auth": ["t"]}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->service.enable_tag_override);
  EXPECT_EQ(r->service.meta, (Meta{{"v", "2"}}));
  ASSERT_EQ(r->checks.size(), 1u);
  const Check& c = r->checks[0];
  EXPECT_EQ(c.type, CheckType::kHttp);
  EXPECT_EQ(c.definition.http, "http://10.0.0.5:9000/health");
  EXPECT_EQ(c.definition.interval_ns, 5 * kS);
  EXPECT_EQ(c.definition.timeout_ns, 1 * kS);
  EXPECT_EQ(c.definition.deregister_critical_after_ns, 60 * kS);
  EXPECT_EQ(
      c.definition.header,
      (std::map<std::string, std::vector<std::string>>{{"X-Auth", {"t"}}}));
}

TEST(DecodeAgentServiceRegistration, AcceptsSnakeCaseKeys) {
  auto r = DecodeAgentServiceRegistration(R"({
    "name": "db", "enable_tag_override": true,
    "check": {"script_args": ["/bin/true"], "interval": "30s",
              "deregister_critical_service_after": "10m",
              "check_id": "db-alive", "success_before_passing": 2,
              "failures_before_critical": 3}
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->service.enable_tag_override);
  ASSERT_EQ(r->checks.size(), 1u);
  const Check& c = r->checks[0];
  EXPECT_EQ(c.check_id, "db-alive");
  EXPECT_EQ(c.type, CheckType::kCmd);
  EXPECT_EQ(c.definition.args, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(c.definition.deregister_critical_after_ns, 600 * kS);
  EXPECT_EQ(c.definition.success_before_passing, 2);
  EXPECT_EQ(c.definition.failures_before_critical, 3);
}

TEST(DecodeAgentServiceRegistration, HttpCheckWithAllFields) {
  auto r = DecodeAgentServiceRegistration(R"({
    "Name": "web",
    "Check": {
      "CheckID": "web-http", "Name": "HTTP on 80", "Notes": "n",
      "HTTP": "https://localhost/health", "Method": "POST",
      "Header": {"Accept": ["a", "b"], "X-One": "single"},
      "Body": "{}", "TLSSkipVerify": true, "Interval": "10s",
      "Timeout": "2s", "Status": "passing"
    }
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Check& c = r->checks.at(0);
  EXPECT_EQ(c.check_id, "web-http");
  EXPECT_EQ(c.name, "HTTP on 80");
  EXPECT_EQ(c.notes, "n");
  EXPECT_EQ(c.status, HealthStatus::kPassing);
  EXPECT_EQ(c.type, CheckType::kHttp);
  EXPECT_EQ(c.definition.method, "POST");
  EXPECT_EQ(c.definition.body, "{}");
  EXPECT_TRUE(c.definition.tls_skip_verify);
  EXPECT_EQ(c.definition.header,
            (std::map<std::string, std::vector<std::string>>{
                {"Accept", {"a", "b"}}, {"X-One", {"single"}}}));
}

TEST(DecodeAgentServiceRegistration, EveryCheckKind) {
  auto r = DecodeAgentServiceRegistration(R"({
    "Name": "svc", "ID": "svc-1",
    "Check": {"TTL": "15s"},
    "Checks": [
      {"TCP": "localhost:22", "Interval": "10s"},
      {"GRPC": "localhost:9090/health", "Interval": "10s"},
      {"AliasService": "db"},
      {"ID": "by-id", "TTL": "1m"}
    ]
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->checks.size(), 5u);
  EXPECT_EQ(r->checks[0].type, CheckType::kTtl);
  EXPECT_EQ(r->checks[0].definition.ttl_ns, 15 * kS);
  EXPECT_EQ(r->checks[1].type, CheckType::kTcp);
  EXPECT_EQ(r->checks[1].definition.tcp, "localhost:22");
  EXPECT_EQ(r->checks[2].type, CheckType::kGrpc);
  EXPECT_EQ(r->checks[2].definition.grpc, "localhost:9090/health");
  EXPECT_EQ(r->checks[3].type, CheckType::kAlias);
  EXPECT_EQ(r->checks[3].definition.alias_service, "db");
  EXPECT_EQ(r->checks[4].type, CheckType::kTtl);
  // Several checks: Consul numbers the default ids from 1, Check first.
  EXPECT_EQ(r->checks[0].check_id, "service:svc-1:1");
  EXPECT_EQ(r->checks[1].check_id, "service:svc-1:2");
  EXPECT_EQ(r->checks[3].check_id, "service:svc-1:4");
  EXPECT_EQ(r->checks[4].check_id, "by-id");
  for (const auto& c : r->checks) {
    EXPECT_EQ(c.name, "Service 'svc' check");
    EXPECT_EQ(c.service_id, "svc-1");
  }
}

TEST(DecodeAgentServiceRegistration, DurationsMayBeNanosecondNumbers) {
  auto r = DecodeAgentServiceRegistration(
      R"({"Name": "a", "Check": {"TCP": "x:1", "Interval": 10000000000,
                                 "Timeout": 1.5e9}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->checks[0].definition.interval_ns, 10 * kS);
  EXPECT_EQ(r->checks[0].definition.timeout_ns, 1500 * 1000 * 1000);
}

TEST(DecodeAgentServiceRegistration, LegacyScriptArgsAndArgs) {
  auto r = DecodeAgentServiceRegistration(
      R"({"Name": "a", "Check": {"ScriptArgs": ["x"], "Interval": "1s"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->checks[0].definition.args, std::vector<std::string>{"x"});
}

TEST(DecodeAgentServiceRegistration, EmptyCheckObjectIsIgnoredAsInConsul) {
  auto r = DecodeAgentServiceRegistration(R"({"Name": "a", "Check": {}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->checks.empty());
  auto n = DecodeAgentServiceRegistration(R"({"Name": "a", "Check": null})");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_TRUE(n->checks.empty());
  // ...but an empty element of Checks is validated, and fails.
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Checks": [{}]})"),
      "TTL must be > 0");
}

TEST(DecodeAgentServiceRegistration, SiderExtensionsAndNamespace) {
  auto r = DecodeAgentServiceRegistration(
      R"({"Name": "a", "Enabled": false, "Namespace": "team-x",
          "Kind": "connect-proxy", "Check": {"TTL": "5s"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->service.enabled);
  EXPECT_EQ(r->service.ns, "team-x");
  EXPECT_EQ(r->service.kind, "connect-proxy");
  EXPECT_EQ(r->checks[0].ns, "team-x");
}

TEST(DecodeAgentServiceRegistration, LaterDuplicateKeyWins) {
  auto r = DecodeAgentServiceRegistration(R"({"name": "a", "Name": "b"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->service.name, "b");
}

TEST(DecodeAgentServiceRegistration, IgnoresUnknownKeysAndNulls) {
  auto r = DecodeAgentServiceRegistration(
      R"({"Name": "a", "Connect": {"Native": true}, "Proxy": null,
          "Tags": null, "TaggedAddresses": {"lan": {"Address": "x"}}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->service.tags.empty());
}

TEST(DecodeAgentServiceRegistration, RejectsMalformedJson) {
  ExpectInvalid(DecodeAgentServiceRegistration(""),
                "Request decode failed: empty body");
  ExpectInvalid(DecodeAgentServiceRegistration("{"), "Request decode failed:");
  ExpectInvalid(DecodeAgentServiceRegistration("[1]"),
                "Request decode failed: expected a JSON object");
  ExpectInvalid(DecodeAgentServiceRegistration("{\"Name\": \"\xff\"}"),
                "Request decode failed:");
}

TEST(DecodeAgentServiceRegistration, RequiresName) {
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"ID": "x"})"),
                "Missing service name");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": ""})"),
                "Missing service name");
}

TEST(DecodeAgentServiceRegistration, RejectsWrongTypes) {
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": 5})"),
                "Request decode failed: Name: expected a string, got number");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Port": "80"})"),
      "Port: expected an integer, got string");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Port": 80.5})"),
      "Port: expected an integer");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Port": 70000})"),
      "Port: out of range");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": "a", "Port": -1})"),
                "Port: out of range");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": "a", "Tags": "x"})"),
                "Tags: expected an array of strings, got string");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": "a", "Tags": [1]})"),
                "Tags: expected an array of strings, found number");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Meta": {"k": 1}})"),
      "Meta.k: expected a string, got number");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": "a", "Meta": []})"),
                "Meta: expected an object");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "EnableTagOverride": "true"})"),
                "EnableTagOverride: expected true or false");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Weights": 3})"),
      "Weights: expected an object");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Weights": {"Passing": "1"}})"),
                "Weights.Passing: expected an integer");
  ExpectInvalid(DecodeAgentServiceRegistration(R"({"Name": "a", "Check": []})"),
                "Check: expected an object, got array");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Checks": {}})"),
      "Checks: expected an array");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Checks": [{"TTL": "1s"}, {"HTTP": 5}]})"),
                "Checks[1].HTTP: expected a string");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Check": {"HTTP": "h", "Interval": "1s",
                        "Header": {"A": 1}}})"),
                "Check.Header.A: expected a string or an array of strings");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Check": {"TTL": true}})"),
                "Check.TTL: expected a duration string or nanoseconds");
}

TEST(DecodeAgentServiceRegistration, ValidatesWeightsAsConsul) {
  // A Weights object replaces the default wholesale: missing Passing is 0.
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Weights": {"Warning": 1}})"),
                "Invalid Weights: Passing must be greater than 0");
  ExpectInvalid(
      DecodeAgentServiceRegistration(
          R"({"Name": "a", "Weights": {"Passing": 1, "Warning": -1}})"),
      "Invalid Weights: Warning must be greater or equal than 0");
  auto r = DecodeAgentServiceRegistration(
      R"({"Name": "a", "weights": {"passing": 3}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->service.weights, (Weights{3, 0}));
}

TEST(DecodeAgentServiceRegistration, ValidatesMetaAsConsul) {
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Meta": {"bad key": "v"}})"),
                "Invalid Service Meta: Key contains invalid characters");
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Meta": {"consul-x": "v"}})"),
                "reserved for internal use");
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Meta": {"": "v"}})"),
      "Key cannot be blank");
  std::string long_value(513, 'v');
  ExpectInvalid(DecodeAgentServiceRegistration(
                    R"({"Name": "a", "Meta": {"k": ")" + long_value + R"("}})"),
                "Value is too long");
}

TEST(DecodeAgentServiceRegistration, RejectsWildcardAddress) {
  ExpectInvalid(
      DecodeAgentServiceRegistration(R"({"Name": "a", "Address": "0.0.0.0"})"),
      "Invalid service address");
}

TEST(DecodeAgentServiceRegistration, ValidatesChecksAsConsul) {
  auto bad = [](const char* check) {
    return DecodeAgentServiceRegistration(
        std::string(R"({"Name": "a", "Check": )") + check + "}");
  };
  ExpectInvalid(bad(R"({"HTTP": "http://x"})"),
                "Invalid check: Interval must be > 0");
  ExpectInvalid(bad(R"({"TCP": "x:1"})"), "Interval must be > 0");
  ExpectInvalid(bad(R"({"Args": ["x"]})"), "Interval must be > 0");
  ExpectInvalid(bad(R"({"GRPC": "x:1"})"), "Interval must be > 0");
  ExpectInvalid(bad(R"({"TTL": "10s", "Interval": "10s"})"),
                "Interval and TTL cannot both be specified");
  ExpectInvalid(bad(R"({"Name": "only a name"})"),
                "Invalid check: TTL must be > 0 for TTL checks");
  ExpectInvalid(bad(R"({"TTL": "0s"})"), "TTL must be > 0");
  ExpectInvalid(bad(R"({"HTTP": "h", "TCP": "t", "Interval": "1s"})"),
                "only one of HTTP, TCP, Args, GRPC or AliasService");
  ExpectInvalid(bad(R"({"AliasService": "db", "TTL": "1s"})"),
                "TTL must not be set for Alias checks");
  ExpectInvalid(bad(R"({"TTL": "10s", "Status": "ok"})"),
                "Status for checks must 'passing', 'warning', 'critical'");
  ExpectInvalid(bad(R"({"TTL": "10s", "Status": "maintenance"})"),
                "Status for checks must");
  ExpectInvalid(bad(R"({"Script": "/bin/check", "Interval": "1s"})"),
                "Script checks are not supported; use Args");
  ExpectInvalid(
      bad(R"({"DockerContainerID": "c", "Args": ["x"], "Interval": "1s"})"),
      "DockerContainerID checks are not supported");
}

TEST(DecodeAgentServiceRegistration, RejectsInvalidDurations) {
  auto bad = [](const char* check) {
    return DecodeAgentServiceRegistration(
        std::string(R"({"Name": "a", "Check": )") + check + "}");
  };
  ExpectInvalid(bad(R"({"TTL": "10"})"),
                "Request decode failed: Check.TTL: time: missing unit");
  ExpectInvalid(bad(R"({"TCP": "x:1", "Interval": "5x"})"),
                "Check.Interval: time: unknown unit \"x\" in duration \"5x\"");
  ExpectInvalid(bad(R"({"TCP": "x:1", "Interval": "1s", "Timeout": "-1s"})"),
                "Check.Timeout: duration must not be negative");
  ExpectInvalid(bad(R"({"TTL": "1s", "DeregisterCriticalServiceAfter": "1y"})"),
                "Check.DeregisterCriticalServiceAfter: time: unknown unit");
  ExpectInvalid(bad(R"({"TTL": 1e30})"), "Check.TTL: duration out of range");
  // An empty string means "unset", as clients send it for optional fields.
  auto ok = bad(R"({"TTL": "10s", "Timeout": ""})");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->checks[0].definition.timeout_ns, 0);
}

// ---- /v1/agent/check/register ----

TEST(DecodeAgentCheckRegistration, ReadsConsulDocsExample) {
  auto r = DecodeAgentCheckRegistration(R"({
    "ID": "mem", "Name": "Memory utilization", "Notes": "Ensure we don't oversubscribe memory",
    "DeregisterCriticalServiceAfter": "90m",
    "Args": ["/usr/local/bin/check_mem.py"],
    "HTTP": "", "Interval": "10s", "Timeout": "1s"
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->check_id, "mem");
  EXPECT_EQ(r->name, "Memory utilization");
  EXPECT_EQ(r->notes, "Ensure we don't oversubscribe memory");
  EXPECT_EQ(r->type, CheckType::kCmd);
  EXPECT_EQ(r->status, HealthStatus::kCritical);
  EXPECT_EQ(r->service_id, "");
  EXPECT_EQ(r->ns, "default");
  EXPECT_EQ(r->definition.interval_ns, 10 * kS);
  EXPECT_EQ(r->definition.deregister_critical_after_ns, 90 * 60 * kS);
}

TEST(DecodeAgentCheckRegistration, IdDefaultsToNameAndServiceIdIsRead) {
  auto r = DecodeAgentCheckRegistration(
      R"({"name": "web ttl", "serviceid": "web-1", "ttl": "30s",
          "status": "warning"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->check_id, "web ttl");
  EXPECT_EQ(r->service_id, "web-1");
  EXPECT_EQ(r->type, CheckType::kTtl);
  EXPECT_EQ(r->status, HealthStatus::kWarning);
  EXPECT_EQ(r->definition.ttl_ns, 30 * kS);
}

TEST(DecodeAgentCheckRegistration, AcceptsCheckIdAndSnakeCase) {
  auto r = DecodeAgentCheckRegistration(
      R"({"Name": "n", "CheckID": "c1", "service_id": "s",
          "tcp": "h:1", "interval": "2s", "tls_skip_verify": true})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->check_id, "c1");
  EXPECT_EQ(r->service_id, "s");
  EXPECT_EQ(r->type, CheckType::kTcp);
  EXPECT_TRUE(r->definition.tls_skip_verify);
}

TEST(DecodeAgentCheckRegistration, RejectsBadInput) {
  ExpectInvalid(DecodeAgentCheckRegistration(R"({"TTL": "1s"})"),
                "Missing check name");
  ExpectInvalid(DecodeAgentCheckRegistration(R"({"Name": "x"})"),
                "TTL must be > 0");
  ExpectInvalid(DecodeAgentCheckRegistration(R"({"Name": "x", "TTL": "1"})"),
                "TTL: time: missing unit");
  ExpectInvalid(DecodeAgentCheckRegistration(
                    R"({"Name": "x", "TTL": "1s", "ServiceID": 3})"),
                "ServiceID: expected a string");
  ExpectInvalid(DecodeAgentCheckRegistration("null"),
                "expected a JSON object, got null");
}

// ---- /v1/catalog/register ----

TEST(DecodeCatalogRegister, ReadsConsulDocsExample) {
  auto r = DecodeCatalogRegister(R"({
    "Datacenter": "dc1",
    "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
    "Node": "foobar",
    "Address": "192.168.10.10",
    "TaggedAddresses": {"lan": "192.168.10.10", "wan": "10.0.10.10"},
    "NodeMeta": {"somekey": "somevalue"},
    "Service": {
      "ID": "redis1", "Service": "redis", "Tags": ["primary", "v1"],
      "Address": "127.0.0.1", "Meta": {"redis_version": "4.0"},
      "Port": 8000
    },
    "Check": {
      "Node": "foobar", "CheckID": "service:redis1",
      "Name": "Redis health check", "Notes": "Script based health check",
      "Status": "passing", "ServiceID": "redis1",
      "Definition": {
        "TCP": "localhost:8888", "Interval": "5s", "Timeout": "1s",
        "DeregisterCriticalServiceAfter": "30s"
      }
    },
    "SkipNodeUpdate": false
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->node.name, "foobar");
  EXPECT_EQ(r->node.id, "40e4a748-2192-161a-0510-9bf59fe950b5");
  EXPECT_EQ(r->node.address, "192.168.10.10");
  EXPECT_EQ(r->node.datacenter, "dc1");
  EXPECT_EQ(r->node.tagged_addresses,
            (Meta{{"lan", "192.168.10.10"}, {"wan", "10.0.10.10"}}));
  EXPECT_EQ(r->node.meta, (Meta{{"somekey", "somevalue"}}));
  EXPECT_FALSE(r->skip_node_update);
  ASSERT_TRUE(r->service.has_value());
  EXPECT_EQ(r->service->node, "foobar");
  EXPECT_EQ(r->service->id, "redis1");
  EXPECT_EQ(r->service->name, "redis");
  EXPECT_EQ(r->service->port, 8000);
  EXPECT_EQ(r->service->weights, (Weights{1, 1}));
  ASSERT_EQ(r->checks.size(), 1u);
  const Check& c = r->checks[0];
  EXPECT_EQ(c.node, "foobar");
  EXPECT_EQ(c.check_id, "service:redis1");
  EXPECT_EQ(c.name, "Redis health check");
  EXPECT_EQ(c.notes, "Script based health check");
  EXPECT_EQ(c.status, HealthStatus::kPassing);
  EXPECT_EQ(c.service_id, "redis1");
  EXPECT_EQ(c.type, CheckType::kTcp);
  EXPECT_EQ(c.definition.tcp, "localhost:8888");
  EXPECT_EQ(c.definition.interval_ns, 5 * kS);
  EXPECT_EQ(c.definition.timeout_ns, 1 * kS);
  EXPECT_EQ(c.definition.deregister_critical_after_ns, 30 * kS);
}

TEST(DecodeCatalogRegister, NodeOnlyWithDefaults) {
  auto r = DecodeCatalogRegister(R"({"node": "n1", "address": "10.0.0.1"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->node.name, "n1");
  EXPECT_EQ(r->node.datacenter, "");
  EXPECT_FALSE(r->service.has_value());
  EXPECT_TRUE(r->checks.empty());
}

TEST(DecodeCatalogRegister, ChecksThenCheckWithConsulDefaults) {
  auto r = DecodeCatalogRegister(R"({
    "Node": "n1", "Address": "a", "SkipNodeUpdate": true,
    "Service": {"Service": "web", "Weights": {"Passing": 5, "Warning": 2},
                "Enabled": false, "EnableTagOverride": true},
    "Checks": [{"Name": "first", "Definition": {"HTTP": "http://x",
                 "IntervalDuration": "3s", "Header": {"H": ["v"]},
                 "TLSSkipVerify": true, "Method": "HEAD"}},
               {"CheckID": "c2", "Status": "maintenance", "Type": "ttl"}],
    "Check": {"CheckID": "last", "Output": "out", "Namespace": "ns1"}
  })");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->skip_node_update);
  EXPECT_EQ(r->service->id, "web");
  EXPECT_EQ(r->service->weights, (Weights{5, 2}));
  EXPECT_FALSE(r->service->enabled);
  EXPECT_TRUE(r->service->enable_tag_override);
  ASSERT_EQ(r->checks.size(), 3u);
  EXPECT_EQ(r->checks[0].check_id, "first");
  EXPECT_EQ(r->checks[0].node, "n1");
  EXPECT_EQ(r->checks[0].status, HealthStatus::kCritical);
  EXPECT_EQ(r->checks[0].type, CheckType::kHttp);
  EXPECT_EQ(r->checks[0].definition.interval_ns, 3 * kS);
  EXPECT_EQ(r->checks[0].definition.method, "HEAD");
  EXPECT_TRUE(r->checks[0].definition.tls_skip_verify);
  EXPECT_EQ(r->checks[1].check_id, "c2");
  EXPECT_EQ(r->checks[1].status, HealthStatus::kMaintenance);
  EXPECT_EQ(r->checks[1].type, CheckType::kTtl);
  EXPECT_EQ(r->checks[2].check_id, "last");
  EXPECT_EQ(r->checks[2].output, "out");
  EXPECT_EQ(r->checks[2].ns, "ns1");
  EXPECT_EQ(r->checks[2].type, CheckType::kNone);
}

TEST(DecodeCatalogRegister, RejectsBadInput) {
  ExpectInvalid(DecodeCatalogRegister(R"({"Address": "a"})"),
                "Must provide node and address");
  ExpectInvalid(DecodeCatalogRegister(R"({"Node": "n"})"),
                "Must provide node and address");
  ExpectInvalid(
      DecodeCatalogRegister(R"({"Node": "n", "Address": "a", "ID": "nope"})"),
      "Bad node ID");
  ExpectInvalid(
      DecodeCatalogRegister(
          R"({"Node": "n", "Address": "a", "TaggedAddresses": {"lan": 1}})"),
      "TaggedAddresses.lan: expected a string");
  ExpectInvalid(DecodeCatalogRegister(
                    R"({"Node": "n", "Address": "a", "NodeMeta": "x"})"),
                "NodeMeta: expected an object");
  ExpectInvalid(DecodeCatalogRegister(
                    R"({"Node": "n", "Address": "a", "Service": {"ID": "x"}})"),
                "Must provide service name with ID");
  ExpectInvalid(DecodeCatalogRegister(
                    R"({"Node": "n", "Address": "a", "Service": "web"})"),
                "Service: expected an object");
  ExpectInvalid(
      DecodeCatalogRegister(
          R"({"Node": "n", "Address": "a", "Service": {"Service": "w", "Port": "1"}})"),
      "Service.Port: expected an integer");
  ExpectInvalid(
      DecodeCatalogRegister(
          R"({"Node": "n", "Address": "a", "Check": {"Status": "passing"}})"),
      "Missing check ID");
  ExpectInvalid(
      DecodeCatalogRegister(
          R"({"Node": "n", "Address": "a", "Check": {"CheckID": "c", "Node": "other"}})"),
      "Node 'other' for check 'c' doesn't match register request node 'n'");
  ExpectInvalid(
      DecodeCatalogRegister(
          R"({"Node": "n", "Address": "a", "Check": {"CheckID": "c", "Status": "bad"}})"),
      "Status for checks must");
  ExpectInvalid(DecodeCatalogRegister(
                    R"({"Node": "n", "Address": "a",
                        "Checks": [{"CheckID": "c", "Definition": {"Interval": "7"}}]})"),
                "Checks[0].Definition.Interval: time: missing unit");
  ExpectInvalid(
      DecodeCatalogRegister(R"({"Node": "n", "Address": "a", "Checks": [5]})"),
      "Checks[0]: expected an object, got number");
}

// ---- /v1/catalog/deregister ----

TEST(DecodeCatalogDeregister, ReadsAllForms) {
  auto node =
      DecodeCatalogDeregister(R"({"Datacenter": "dc1", "Node": "foobar"})");
  ASSERT_TRUE(node.ok()) << node.status().message();
  EXPECT_EQ(node->node, "foobar");
  EXPECT_EQ(node->service_id, "");
  EXPECT_EQ(node->check_id, "");
  EXPECT_EQ(node->ns, "default");
  auto svc = DecodeCatalogDeregister(
      R"({"node": "foobar", "serviceid": "redis1", "namespace": "x"})");
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(svc->service_id, "redis1");
  EXPECT_EQ(svc->ns, "x");
  auto chk = DecodeCatalogDeregister(R"({"Node": "foobar", "check_id": "c1"})");
  ASSERT_TRUE(chk.ok());
  EXPECT_EQ(chk->check_id, "c1");
}

TEST(DecodeCatalogDeregister, RequiresNode) {
  ExpectInvalid(DecodeCatalogDeregister(R"({"ServiceID": "x"})"),
                "Must provide node");
  ExpectInvalid(DecodeCatalogDeregister(R"({"Node": 1})"),
                "Node: expected a string");
  ExpectInvalid(DecodeCatalogDeregister(""), "Request decode failed");
}

// ---- /v1/agent/check/update/:id ----

TEST(DecodeCheckUpdate, ReadsStatusAndOutput) {
  auto u = DecodeCheckUpdate(
      R"({"Status": "passing", "Output": "curl reported a failure:\n\nfailed to connect"})");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->status, HealthStatus::kPassing);
  EXPECT_EQ(u->output, "curl reported a failure:\n\nfailed to connect");
  auto w = DecodeCheckUpdate(R"({"status": "warning"})");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->status, HealthStatus::kWarning);
  EXPECT_EQ(w->output, "");
}

TEST(DecodeCheckUpdate, RejectsBadStatus) {
  ExpectInvalid(DecodeCheckUpdate(R"({"Output": "x"})"),
                "Invalid check status: ''");
  ExpectInvalid(DecodeCheckUpdate(R"({"Status": "Passing"})"),
                "Invalid check status: 'Passing'");
  ExpectInvalid(DecodeCheckUpdate(R"({"Status": "maintenance"})"),
                "Invalid check status");
  ExpectInvalid(DecodeCheckUpdate(R"({"Status": 1})"),
                "Status: expected a string");
  ExpectInvalid(DecodeCheckUpdate("not json"), "Request decode failed");
}

}  // namespace
}  // namespace sider::structs
