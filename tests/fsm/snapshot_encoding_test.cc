// Fsm::Snapshot writes its frame and pb::FsmSnapshot fields around the
// stores' parts in one buffer; its bytes must stay those of the message
// encoder it replaced (golden file), so stored snapshots, state hashes and
// replicas keep matching.
#include <gtest/gtest.h>

#include <string>

#include "fsm/commands.pb.h"
#include "fsm/fsm.h"
#include "store/catalog_proto.h"
#include "store/snapshot_fixtures.h"
#include "store/snapshot_frame.h"

namespace sider::fsm {
namespace {

std::string ReadGolden(const std::string& name) {
  return testutil::ReadGolden(SIDER_FSM_TESTDATA, name);
}

struct Replica {
  store::CatalogStore catalog;
  store::KvStore kv;
  Fsm fsm{catalog, kv};
};

// How Fsm::Snapshot encoded before: a pb::FsmSnapshot of the two parts,
// serialized deterministically and framed.
std::string ReferenceSnapshot(Replica& r) {
  pb::FsmSnapshot snap;
  snap.set_catalog(r.catalog.Snapshot());
  snap.set_kv(r.kv.Snapshot());
  return store::FrameSnapshot("SFSM", 2, store::SerializeDeterministic(snap));
}

void PopulateEveryField(Replica& r) {
  testutil::PopulateCatalogEveryField(r.catalog);
  testutil::PopulateKvEveryField(r.kv, r.catalog);
  testutil::RebaseKv(r.kv, testutil::kHighIndex + 100);
}

TEST(FsmSnapshotEncodingTest, IsUnchangedFromTheMessageEncoder) {
  Replica r;
  PopulateEveryField(r);
  const std::string snap = r.fsm.Snapshot();
  EXPECT_EQ(snap, ReadGolden("fsm_snapshot.bin"));
  EXPECT_EQ(snap, ReferenceSnapshot(r));
  // Again, now that the stores size their parts from the last snapshot.
  EXPECT_EQ(r.fsm.Snapshot(), snap);
}

TEST(FsmSnapshotEncodingTest, AStoredSnapshotRestoresAndReencodesIdentically) {
  const std::string golden = ReadGolden("fsm_snapshot.bin");
  Replica r;
  ASSERT_TRUE(r.fsm.Restore(golden).ok());
  EXPECT_EQ(r.fsm.Snapshot(), golden);
}

TEST(FsmSnapshotEncodingTest, EmptyStoresEncodeAsBefore) {
  Replica r;
  EXPECT_EQ(r.fsm.Snapshot(), ReferenceSnapshot(r));
}

TEST(FsmSnapshotEncodingTest, PartsOfEverySizeEncodeAsBefore) {
  // The kv part's length takes 3 and then 4 varint bytes (parts are
  // written in place with room for 4), the catalog's 2.
  Replica r;
  PopulateEveryField(r);
  uint64_t index = testutil::kHighIndex + 1000;
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    const std::string snap = r.fsm.Snapshot();
    EXPECT_EQ(snap, ReferenceSnapshot(r));
    ASSERT_TRUE(store::UnframeSnapshot(snap, "SFSM", 2).ok());
    ASSERT_TRUE(r.kv
                    .Apply(index++, testutil::KvSet(
                                        "fill/" + std::to_string(i),
                                        std::string(structs::kMaxKvValueBytes,
                                                    static_cast<char>('a' + i))))
                    .ok());
  }
  EXPECT_GT(r.kv.LastSnapshotSize(), size_t{2} << 20);
}

TEST(FsmSnapshotEncodingTest, AGrowingStateEncodesAsBefore) {
  // The parts are sized from the last snapshot; a larger state outgrows
  // that guess.
  Replica r;
  r.fsm.Snapshot();
  testutil::PopulateCatalogFleet(r.catalog, 300);
  EXPECT_EQ(r.fsm.Snapshot(), ReferenceSnapshot(r));
}

}  // namespace
}  // namespace sider::fsm
