// The streamed snapshot encoding (WireOut, AppendWire) against protobuf's
// own deterministic serialization and against golden snapshots written by
// the encoder it replaced (which built whole pb:: messages): the bytes of a
// snapshot must never change, or stored snapshots and replicas' state
// hashes would stop matching. Also the CRC-32 that frames them.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "store/catalog_proto.h"
#include "store/kv_proto.h"
#include "store/snapshot_fixtures.h"
#include "store/snapshot_frame.h"

namespace sider::store {
namespace {

std::string ReadGolden(const std::string& name) {
  return testutil::ReadGolden(SIDER_STORE_TESTDATA, name);
}

// The byte-table CRC-32 the frames used before zlib's.
uint32_t ReferenceCrc32(std::string_view bytes) {
  uint32_t crc = 0xffffffffu;
  for (char ch : bytes) {
    crc ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// What the snapshot encoders did before streaming: build the message, then
// serialize it deterministically and frame it.
std::string ReferenceFrame(std::string_view magic, uint32_t version,
                           const google::protobuf::MessageLite& msg) {
  return FrameSnapshot(magic, version, SerializeDeterministic(msg));
}

// Re-encodes a snapshot's payload through protobuf: parse it into `msg`,
// serialize that deterministically, frame it again.
template <typename Msg>
std::string ThroughProtobuf(std::string_view snapshot, std::string_view magic,
                            uint32_t version) {
  Result<std::string_view> payload = UnframeSnapshot(snapshot, magic, version);
  EXPECT_TRUE(payload.ok()) << payload.status().message();
  if (!payload.ok()) return "";
  Msg msg;
  EXPECT_TRUE(ParseProto(*payload, &msg));
  return ReferenceFrame(magic, version, msg);
}

// AppendWire(row) as field `field` next to ToProto(row) added to a
// message's repeated field `field` (the one `add` adds to) and serialized.
template <typename Row, typename Pb, typename Holder>
void ExpectRowMatchesProtobuf(const Row& row, int field, Holder holder,
                              Pb* (Holder::*add)()) {
  ToProto(row, (holder.*add)());
  std::string streamed;
  {
    WireOut w(&streamed);
    AppendWire(row, field, &w);
  }
  EXPECT_EQ(streamed, SerializeDeterministic(holder));
}

TEST(SnapshotCrcTest, IsTheStandardCrc32) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("", 0x12345678u), 0x12345678u);
  const std::string bytes = RandomBytes(100'003, 7);
  EXPECT_EQ(Crc32(bytes), ReferenceCrc32(bytes));
}

TEST(SnapshotCrcTest, ContinuesAndCombines) {
  const std::string a = RandomBytes(1'000, 1);
  const std::string b = RandomBytes(70'001, 2);
  EXPECT_EQ(Crc32(b, Crc32(a)), Crc32(a + b));
  EXPECT_EQ(Crc32Combine(Crc32(a), Crc32(b), b.size()), Crc32(a + b));
  EXPECT_EQ(Crc32Combine(Crc32(a), Crc32(""), 0), Crc32(a));
}

TEST(SnapshotFrameTest, FrameCrcIsTheCrcOfTheWholeFrame) {
  const std::string frame = FrameSnapshot("TEST", 3, RandomBytes(5'000, 3));
  EXPECT_EQ(FrameCrc32(frame), Crc32(frame));
  const std::string empty = FrameSnapshot("TEST", 3, "");
  EXPECT_EQ(FrameCrc32(empty), Crc32(empty));
}

TEST(SnapshotFrameTest, FramingInPlaceEqualsFramingAPayload) {
  const std::string payload = RandomBytes(3'000, 4);
  std::string out = "prefix";
  const size_t frame = BeginFrame(&out, 10'000);
  out += payload;
  EXPECT_EQ(EndFrame(&out, frame, "TEST", 9), 20 + payload.size());
  EXPECT_EQ(out, "prefix" + FrameSnapshot("TEST", 9, payload));
  ASSERT_TRUE(UnframeSnapshot(out.substr(6), "TEST", 9).ok());
}

TEST(SnapshotWireTest, RowsMatchProtobufIncludingEdgeValues) {
  using testutil::MakeCheck;
  using testutil::MakeService;
  structs::Node node = testutil::MakeNode("n1");
  ExpectRowMatchesProtobuf(node, 5, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_nodes);
  node.meta = {{"", ""}, {"k", std::string(200, 'm')}};  // Entry > 127 bytes.
  node.tagged_addresses = {{"lan", "10.0.0.1"}};
  node.create_index = std::numeric_limits<uint64_t>::max();
  ExpectRowMatchesProtobuf(node, 5, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_nodes);

  structs::Service svc = MakeService("web", "web-1", {"", "a"});
  svc.port = std::numeric_limits<int32_t>::min();
  svc.weights = {.passing = -1, .warning = 0};
  svc.enabled = false;
  ExpectRowMatchesProtobuf(svc, 6, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_services);
  svc.weights = {.passing = 0, .warning = 0};  // Still written, empty.
  svc.address = std::string(20'000, 'a');     // A row past 16 KiB.
  ExpectRowMatchesProtobuf(svc, 6, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_services);

  structs::Check check = MakeCheck("c", structs::HealthStatus::kCritical);
  ExpectRowMatchesProtobuf(check, 7, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_checks);
  check.definition.header = {{"", {}}, {"X", {"", std::string(300, 'h')}}};
  check.definition.timeout_ns = std::numeric_limits<int64_t>::min();
  check.definition.failures_before_critical = -5;
  check.definition.args = {""};
  check.service_tags = {"t"};
  ExpectRowMatchesProtobuf(check, 7, pb::CatalogSnapshot(),
                           &pb::CatalogSnapshot::add_checks);

  structs::KvEntry kv = testutil::Kv("k", std::string("\0\xff", 2),
                                     std::numeric_limits<uint64_t>::max());
  ExpectRowMatchesProtobuf(kv, 5, pb::KvSnapshot(),
                           &pb::KvSnapshot::add_entries);
  kv.value = std::string(structs::kMaxKvValueBytes, 'v');  // 3-byte length.
  ExpectRowMatchesProtobuf(kv, 5, pb::KvSnapshot(),
                           &pb::KvSnapshot::add_entries);
  ExpectRowMatchesProtobuf(structs::KvEntry{}, 5, pb::KvSnapshot(),
                           &pb::KvSnapshot::add_entries);

  structs::Session session = testutil::MakeSession("s", "n1", {"", "c"});
  session.service_checks = {{.id = "", .ns = ""}, {.id = "x", .ns = "y"}};
  session.lock_delay_ns = -1;
  ExpectRowMatchesProtobuf(session, 7, pb::KvSnapshot(),
                           &pb::KvSnapshot::add_sessions);
}

TEST(SnapshotWireTest, CatalogSnapshotIsUnchangedFromTheMessageEncoder) {
  CatalogStore c;
  testutil::PopulateCatalogEveryField(c);
  const std::string snap = c.Snapshot();
  EXPECT_EQ(snap, ReadGolden("catalog_snapshot.bin"));
  EXPECT_EQ(snap, ThroughProtobuf<pb::CatalogSnapshot>(snap, "SCAT", 1));
}

TEST(SnapshotWireTest, KvSnapshotIsUnchangedFromTheMessageEncoder) {
  CatalogStore c;
  KvStore kv;
  testutil::PopulateCatalogEveryField(c);
  testutil::PopulateKvEveryField(kv, c);
  testutil::RebaseKv(kv, testutil::kHighIndex + 100);
  const std::string snap = kv.Snapshot();
  EXPECT_EQ(snap, ReadGolden("kv_snapshot.bin"));
  EXPECT_EQ(snap, ThroughProtobuf<pb::KvSnapshot>(snap, "SKVS", 1));
}

TEST(SnapshotWireTest, AFleetEncodesAsProtobufWould) {
  CatalogStore c;
  testutil::PopulateCatalogFleet(c, 400);
  const std::string snap = c.Snapshot();
  EXPECT_EQ(snap, ThroughProtobuf<pb::CatalogSnapshot>(snap, "SCAT", 1));
  CatalogStore back;
  ASSERT_TRUE(back.Restore(snap).ok());
  EXPECT_EQ(back.Snapshot(), snap);
}

TEST(SnapshotWireTest, EmptyStoresEncodeAsEmptyMessages) {
  EXPECT_EQ(CatalogStore().Snapshot(),
            ReferenceFrame("SCAT", 1, pb::CatalogSnapshot()));
  EXPECT_EQ(KvStore().Snapshot(), ReferenceFrame("SKVS", 1, pb::KvSnapshot()));
}

TEST(SnapshotWireTest, AppendSnapshotAppendsTheSnapshotAndRemembersItsSize) {
  CatalogStore c;
  KvStore kv;
  testutil::PopulateCatalogEveryField(c);
  testutil::PopulateKvEveryField(kv, c);
  EXPECT_EQ(c.LastSnapshotSize(), 0u);
  std::string out = "x";
  c.AppendSnapshot(&out);
  kv.AppendSnapshot(&out);
  EXPECT_EQ(out, "x" + c.Snapshot() + kv.Snapshot());
  EXPECT_EQ(c.LastSnapshotSize(), c.Snapshot().size());
  EXPECT_EQ(kv.LastSnapshotSize(), kv.Snapshot().size());
}

}  // namespace
}  // namespace sider::store
