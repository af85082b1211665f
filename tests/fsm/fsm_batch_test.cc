// kBatch entries: several commands committed as one log entry, applied in
// order at its raft_index, each with its own result, and deterministic.
#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "fsm/fsm.h"
#include "store/catalog_fixtures.h"
#include "store/kv_fixtures.h"

namespace sider::fsm {
namespace {

using structs::HealthStatus;
using testutil::MakeCheck;
using testutil::MakeService;
using testutil::Reg;

struct Replica {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm{catalog, kv};
};

TEST(FsmBatchTest, EachPackedCommandGetsItsOwnResultInOrder) {
  Replica r;
  const std::vector<std::string> commands = {
      EncodeRegister(Reg("n1", MakeService("web", "a"))),
      // Names a service that does not exist: rejected alone.
      EncodeRegister(
          Reg("n1", std::nullopt, {MakeCheck("c", HealthStatus::kPassing, "nope")})),
      EncodeKv(testutil::KvCas("k", "v", 0)),
      // Sees the first CAS's write: the key now exists.
      EncodeKv(testutil::KvCas("k", "again", 0)),
  };
  ApplyResult result = r.fsm.Apply(10, r.fsm.PackBatch(commands));
  ASSERT_EQ(result.batch.size(), 4u);
  EXPECT_TRUE(result.batch[0].status.ok());
  EXPECT_EQ(result.batch[1].status.code(), Code::kInvalidArgument);
  EXPECT_EQ(result.batch[2].payload, "true");
  EXPECT_EQ(result.batch[3].payload, "false");
  EXPECT_EQ(r.kv.Get("k", nullptr).value->value, "v");
  auto web = r.catalog.ServiceNodes("", "web", {}, nullptr);
  ASSERT_EQ(web.value.size(), 1u);
  EXPECT_EQ(web.index, 10u);
  EXPECT_EQ(web.value[0].service.create_index, 10u);
}

TEST(FsmBatchTest, ABatchLeavesTheStateOfItsCommandsAppliedOneByOneAtItsIndex) {
  std::vector<std::string> commands;
  for (int i = 0; i < 20; ++i) {
    commands.push_back(EncodeRegister(
        Reg("n" + std::to_string(i % 3), MakeService("svc", "id" + std::to_string(i)),
            {MakeCheck("c" + std::to_string(i), HealthStatus::kPassing,
                       "id" + std::to_string(i))})));
    commands.push_back(EncodeKv(testutil::KvSet("k/" + std::to_string(i), "v")));
  }
  Replica batched, single;
  (void)batched.fsm.Apply(3, single.fsm.PackBatch(commands));
  for (const std::string& c : commands) (void)single.fsm.Apply(3, c);
  EXPECT_EQ(batched.fsm.Snapshot(), single.fsm.Snapshot());
}

TEST(FsmBatchTest, TwoReplicasFedOneBatchedLogEndByteIdentical) {
  std::vector<std::string> log;
  for (int b = 0; b < 5; ++b) {
    std::vector<std::string> commands;
    for (int i = 0; i < 4; ++i) {
      commands.push_back(EncodeRegister(Reg(
          "n" + std::to_string(i), MakeService("svc" + std::to_string(b), "id" + std::to_string(i)))));
    }
    log.push_back(EncodeBatch(commands));
  }
  Replica a, b;
  for (size_t i = 0; i < log.size(); ++i) {
    (void)a.fsm.Apply(i + 1, log[i]);
    (void)b.fsm.Apply(i + 1, log[i]);
  }
  EXPECT_EQ(a.fsm.Snapshot(), b.fsm.Snapshot());
  EXPECT_EQ(a.catalog.MaxIndex(), log.size());
}

TEST(FsmBatchTest, ABatchRoundTripsThroughItsEncoding) {
  const std::vector<std::string> commands = {"one", std::string("t\0o", 3), ""};
  Result<Entry> entry = DecodeEntry(EncodeBatch(commands));
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->type, static_cast<uint32_t>(MessageType::kBatch));
  Result<std::vector<std::string>> back = DecodeBatchPayload(entry->payload);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, commands);
}

TEST(FsmBatchDeathTest, ABatchInsideABatchAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Replica r;
  const std::string inner = EncodeBatch({EncodeRegister(Reg("n1", MakeService("web")))});
  EXPECT_DEATH(
      {
        // Death tests read the child's stderr; spdlog's default is stdout.
        spdlog::set_default_logger(spdlog::stderr_logger_st("fsm-batch-death"));
        (void)r.fsm.Apply(1, EncodeBatch({inner}));
      },
      "batch inside a batch");
}

}  // namespace
}  // namespace sider::fsm
