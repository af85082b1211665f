// Backup archives (fsm/archive.h): round trip, and refusal of anything
// truncated, extended or altered, with a message saying what is wrong.
#include "fsm/archive.h"

#include <gtest/gtest.h>

#include "fsm/commands.h"
#include "store/catalog_fixtures.h"

namespace sider::fsm {
namespace {

std::string SampleSnapshot() {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm(catalog, kv);
  EXPECT_TRUE(fsm.Apply(3, EncodeRegister(testutil::Reg(
                               "n1", testutil::MakeService("web"))))
                  .status.ok());
  return fsm.Snapshot();
}

ArchiveInfo SampleInfo(const std::string& snap) {
  ArchiveInfo info;
  info.raft_index = 3;
  info.term = 2;
  info.created_at_unix_ms = 1700000000123;
  info.tables = TableCounts(*Fsm::Inspect(snap));
  info.state_hash = Fsm::StateHashOf(snap);
  info.node = "node-a";
  info.version = "0.1.0";
  return info;
}

TEST(ArchiveTest, RoundTripsHeaderAndSnapshot) {
  const std::string snap = SampleSnapshot();
  const std::string bytes = EncodeArchive(SampleInfo(snap), snap);
  ASSERT_EQ(bytes.substr(0, 8), "SIDERBAK");
  auto a = DecodeArchive(bytes);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->snapshot, snap);
  EXPECT_EQ(a->info.raft_index, 3u);
  EXPECT_EQ(a->info.term, 2u);
  EXPECT_EQ(a->info.created_at_unix_ms, 1700000000123);
  EXPECT_EQ(a->info.node, "node-a");
  EXPECT_EQ(a->info.version, "0.1.0");
  EXPECT_EQ(a->info.state_hash, Fsm::StateHashOf(snap));
  EXPECT_EQ(a->info.snapshot_bytes, snap.size());
  EXPECT_EQ(a->info.archive_bytes, bytes.size());
  ASSERT_EQ(a->info.tables.size(), 6u);
  EXPECT_EQ(a->info.tables[0], (std::pair<std::string, uint64_t>{"nodes", 1}));
  EXPECT_EQ(a->info.tables[1],
            (std::pair<std::string, uint64_t>{"services", 1}));
}

TEST(ArchiveTest, EveryTruncationIsRefused) {
  const std::string snap = SampleSnapshot();
  const std::string bytes = EncodeArchive(SampleInfo(snap), snap);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto a = DecodeArchive(bytes.substr(0, len));
    ASSERT_FALSE(a.ok()) << "length " << len;
    EXPECT_EQ(a.status().code(), Code::kDataLoss);
  }
  auto a = DecodeArchive(bytes.substr(0, bytes.size() - 1));
  EXPECT_NE(a.status().message().find("truncated"), std::string::npos)
      << a.status().message();
}

TEST(ArchiveTest, EveryFlippedBitIsRefused) {
  const std::string snap = SampleSnapshot();
  const std::string bytes = EncodeArchive(SampleInfo(snap), snap);
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (int bit : {0, 7}) {
      std::string bad = bytes;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
      EXPECT_FALSE(DecodeArchive(bad).ok()) << "byte " << pos;
    }
  }
  std::string bad = bytes;
  bad[bytes.size() / 2] ^= 0x10;
  EXPECT_NE(DecodeArchive(bad).status().message().find("checksum"),
            std::string::npos);
}

TEST(ArchiveTest, TrailingBytesAndForeignFilesAreRefused) {
  const std::string snap = SampleSnapshot();
  const std::string bytes = EncodeArchive(SampleInfo(snap), snap);
  auto extra = DecodeArchive(bytes + "x");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("unexpected bytes"),
            std::string::npos);
  auto foreign = DecodeArchive("PK\x03\x04 a zip file, not ours");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("not a sider snapshot archive"),
            std::string::npos);
  std::string newer = bytes;
  newer[8] = 9;  // Format version 9.
  auto v = DecodeArchive(newer);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("version 9"), std::string::npos);
}

TEST(ArchiveTest, AnEmptyStateArchivesToo) {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm(catalog, kv);
  const std::string snap = fsm.Snapshot();
  ArchiveInfo info;
  info.tables = TableCounts(*Fsm::Inspect(snap));
  auto a = DecodeArchive(EncodeArchive(info, snap));
  ASSERT_TRUE(a.ok());
  for (const auto& [name, rows] : a->info.tables) EXPECT_EQ(rows, 0u) << name;
}

}  // namespace
}  // namespace sider::fsm
