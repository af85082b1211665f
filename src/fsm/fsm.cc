#include "fsm/fsm.h"

#include <cassert>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "fsm/commands.pb.h"
#include "store/catalog_proto.h"
#include "store/snapshot_frame.h"

namespace sider::fsm {
namespace {

constexpr std::string_view kSnapshotMagic = "SFSM";
constexpr uint32_t kSnapshotVersion = 1;

[[noreturn]] void DieUndecodable(uint64_t raft_index, std::string_view why) {
  spdlog::critical("fsm: cannot apply log entry {}: {}; refusing to diverge",
                   raft_index, why);
  std::abort();
}

// Unwraps a payload decode; a malformed payload aborts like a bad envelope.
template <typename T>
T OrDie(uint64_t raft_index, Result<T> r) {
  if (!r.ok()) DieUndecodable(raft_index, r.status().message());
  return std::move(r).value();
}

}  // namespace

Fsm::Fsm(store::CatalogStore& catalog) : stores_{.catalog = &catalog} {}

Fsm::Fsm(store::CatalogStore& catalog, store::KvStore& kv)
    : Fsm(Stores{.catalog = &catalog, .kv = &kv}) {}

Fsm::Fsm(Stores stores) : stores_(stores) {
  assert(stores_.catalog != nullptr && stores_.kv != nullptr);
}

void Fsm::SetReleasedLocksObserver(ReleasedLocksObserver observer) {
  released_observer_ = std::move(observer);
}

uint64_t Fsm::StateHash() {
  const std::string bytes = Snapshot();
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64.
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

ApplyResult Fsm::Apply(uint64_t raft_index, std::string_view command) {
  Result<Entry> entry = DecodeEntry(command);
  if (!entry.ok()) DieUndecodable(raft_index, entry.status().message());
  std::vector<structs::ReleasedLock> released;
  ApplyResult result = Dispatch(raft_index, *entry, &released);
  if (!released.empty() && released_observer_) {
    released_observer_(raft_index, released);
  }
  return result;
}

ApplyResult Fsm::Dispatch(uint64_t raft_index, const Entry& entry,
                          std::vector<structs::ReleasedLock>* released) {
  store::CatalogStore& catalog = *stores_.catalog;
  switch (static_cast<MessageType>(entry.type)) {
    case MessageType::kRegister:
      return {catalog.Register(
          raft_index,
          OrDie(raft_index, DecodeRegisterPayload(entry.payload))), {}};
    case MessageType::kDeregister:
      return {catalog.Deregister(
          raft_index,
          OrDie(raft_index, DecodeDeregisterPayload(entry.payload))), {}};
    case MessageType::kUpdateCheck:
      return {catalog.UpdateCheck(
          raft_index,
          OrDie(raft_index, DecodeUpdateCheckPayload(entry.payload))), {}};
    case MessageType::kSetServiceEnabled:
      return {catalog.SetServiceEnabled(
          raft_index,
          OrDie(raft_index, DecodeSetServiceEnabledPayload(entry.payload))), {}};
    case MessageType::kKv:
    case MessageType::kKvReapTombstones:
    case MessageType::kSessionCreate:
    case MessageType::kSessionDestroy:
    case MessageType::kTxn:
      (void)released;
      break;  // Not applied by this build yet.
  }
  DieUndecodable(raft_index, "unknown message type " +
                                 std::to_string(entry.type) +
                                 " (written by a newer version?)");
}

std::string Fsm::Snapshot() {
  pb::FsmSnapshot snap;
  snap.set_catalog(stores_.catalog->Snapshot());
  return store::FrameSnapshot(kSnapshotMagic, kSnapshotVersion,
                              store::SerializeDeterministic(snap));
}

Status Fsm::Restore(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(
      std::string_view payload,
      store::UnframeSnapshot(bytes, kSnapshotMagic, kSnapshotVersion));
  pb::FsmSnapshot snap;
  if (!store::ParseProto(payload, &snap)) {
    return Status(Code::kDataLoss, "fsm snapshot: undecodable payload");
  }
  // Decode every part before installing any, so a bad part changes nothing.
  SIDER_ASSIGN_OR_RETURN(store::CatalogStore::Decoded catalog,
                         store::CatalogStore::DecodeSnapshot(snap.catalog()));
  stores_.catalog->InstallSnapshot(std::move(catalog));
  return Status::Ok();
}

}  // namespace sider::fsm
