#include "fsm/fsm.h"

#include <cassert>
#include <cstdlib>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <spdlog/spdlog.h>

#include "fsm/commands.pb.h"
#include "store/catalog_proto.h"
#include "store/snapshot_frame.h"

namespace sider::fsm {
namespace {

constexpr std::string_view kSnapshotMagic = "SFSM";
constexpr uint32_t kSnapshotVersion = 2;  // 2: adds the kv part.

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

Fsm::Fsm(store::CatalogStore& catalog, store::KvStore& kv)
    : Fsm(Stores{.catalog = &catalog, .kv = &kv}) {}

Fsm::Fsm(Stores stores) : stores_(stores) {
  assert(stores_.catalog != nullptr && stores_.kv != nullptr);
}

void Fsm::SetReleasedLocksObserver(ReleasedLocksObserver observer) {
  released_observer_ = std::move(observer);
}

uint64_t Fsm::StateHash() { return StateHashOf(Snapshot()); }

uint64_t Fsm::StateHashOf(std::string_view bytes) {
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
  ApplyResult result;
  if (entry->type == static_cast<uint32_t>(MessageType::kBatch)) {
    result.batch = ApplyBatch(
        raft_index, OrDie(raft_index, DecodeBatchPayload(entry->payload)),
        &released);
  } else {
    result = Dispatch(raft_index, *entry, &released);
  }
  if (!released.empty() && released_observer_) {
    released_observer_(raft_index, released);
  }
  return result;
}

std::string Fsm::PackBatch(const std::vector<std::string>& commands) {
  return EncodeBatch(commands);
}

std::vector<ApplyResult> Fsm::ApplyBatch(
    uint64_t raft_index, const std::vector<std::string>& commands,
    std::vector<structs::ReleasedLock>* released) {
  std::vector<ApplyResult> results;
  results.reserve(commands.size());
  // Catalog first, as in every write that touches both (sessions read the
  // catalog): readers wait for both scopes to end.
  stores_.catalog->BeginBatch();
  stores_.kv->BeginBatch();
  for (const std::string& command : commands) {
    Result<Entry> entry = DecodeEntry(command);
    if (!entry.ok()) DieUndecodable(raft_index, entry.status().message());
    results.push_back(Dispatch(raft_index, *entry, released));
  }
  stores_.kv->EndBatch();
  stores_.catalog->EndBatch();
  return results;
}

ApplyResult Fsm::Dispatch(uint64_t raft_index, const Entry& entry,
                          std::vector<structs::ReleasedLock>* released) {
  store::CatalogStore& catalog = *stores_.catalog;
  store::KvStore& kv = *stores_.kv;
  switch (static_cast<MessageType>(entry.type)) {
    case MessageType::kRegister: {
      auto cmd = OrDie(raft_index, DecodeRegisterPayload(entry.payload));
      Status s = catalog.Register(raft_index, cmd);
      if (s.ok()) AfterCatalogWrite(raft_index, cmd.node.name, released);
      return {std::move(s), {}};
    }
    case MessageType::kDeregister: {
      auto cmd = OrDie(raft_index, DecodeDeregisterPayload(entry.payload));
      Status s = catalog.Deregister(raft_index, cmd);
      if (s.ok()) AfterCatalogWrite(raft_index, cmd.node, released);
      return {std::move(s), {}};
    }
    case MessageType::kUpdateCheck: {
      auto cmd = OrDie(raft_index, DecodeUpdateCheckPayload(entry.payload));
      Status s = catalog.UpdateCheck(raft_index, cmd);
      if (s.ok()) AfterCatalogWrite(raft_index, cmd.node, released);
      return {std::move(s), {}};
    }
    case MessageType::kSetServiceEnabled:
      // Check statuses do not change, so no session is affected.
      return {catalog.SetServiceEnabled(
          raft_index,
          OrDie(raft_index, DecodeSetServiceEnabledPayload(entry.payload))), {}};
    case MessageType::kKv: {
      Result<bool> r = kv.Apply(
          raft_index, OrDie(raft_index, DecodeKvPayload(entry.payload)));
      if (!r.ok()) return {r.status(), {}};
      return {Status::Ok(), *r ? "true" : "false"};
    }
    case MessageType::kKvReapTombstones:
      kv.ReapTombstones(
          raft_index,
          OrDie(raft_index, DecodeKvReapTombstonesPayload(entry.payload)));
      return {};
    case MessageType::kSessionCreate: {
      auto cmd = OrDie(raft_index, DecodeSessionCreatePayload(entry.payload));
      return {kv.SessionCreate(raft_index, cmd.session, catalog), {}};
    }
    case MessageType::kSessionDestroy: {
      auto cmd = OrDie(raft_index, DecodeSessionDestroyPayload(entry.payload));
      *released = kv.SessionDestroy(raft_index, cmd.id);
      return {};
    }
    case MessageType::kTxn: {
      auto cmd = OrDie(raft_index, DecodeTxnPayload(entry.payload));
      Result<structs::TxnResult> r = kv.Txn(raft_index, cmd.ops);
      if (!r.ok()) return {r.status(), {}};
      return {Status::Ok(), EncodeTxnResult(*r)};
    }
    case MessageType::kBatch:
      DieUndecodable(raft_index, "a batch inside a batch");
    case MessageType::kRestore:
      // A corrupt payload is the proposer's error, not a corrupt log: every
      // replica refuses it alike and nothing changes.
      return {RestoreAt(raft_index, OrDie(raft_index, DecodeRestorePayload(
                                                    entry.payload))),
              {}};
  }
  DieUndecodable(raft_index, "unknown message type " +
                                 std::to_string(entry.type) +
                                 " (written by a newer version?)");
}

void Fsm::AfterCatalogWrite(uint64_t raft_index, std::string_view node,
                            std::vector<structs::ReleasedLock>* released) {
  std::vector<structs::ReleasedLock> r =
      stores_.kv->InvalidateNodeSessions(raft_index, node, *stores_.catalog);
  released->insert(released->end(), std::make_move_iterator(r.begin()),
                   std::make_move_iterator(r.end()));
}

namespace {

// Appends the frame `append_part` appends to `out` as bytes field `field`
// of the message being serialized into `out`, with the bytes protobuf
// would write (tag, minimal length varint, bytes; nothing when empty, as
// proto3 omits an empty field), and continues `crc` (the CRC-32 of the
// message so far) over them. The part is written in place: room for the
// length is left in front of it, and the part moves only when its length
// takes a varint of another size. Its CRC comes from its own frame header,
// so the part is not read again.
template <typename AppendPart>
void AppendPartField(std::string* out, int field, AppendPart append_part,
                     uint32_t* crc) {
  using google::protobuf::io::CodedOutputStream;
  using google::protobuf::internal::WireFormatLite;
  constexpr size_t kRoom = 4;  // Parts of 2 MiB up to 256 MiB stay put.
  const size_t tag_at = out->size();
  out->push_back(static_cast<char>(WireFormatLite::MakeTag(
      field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)));
  const size_t length_at = out->size();
  out->append(kRoom, '\0');
  append_part(out);
  const size_t length = out->size() - length_at - kRoom;
  if (length == 0) {
    out->resize(tag_at);
    return;
  }
  const size_t varint = CodedOutputStream::VarintSize64(length);
  if (varint < kRoom) out->erase(length_at, kRoom - varint);
  if (varint > kRoom) out->insert(length_at, varint - kRoom, '\0');
  CodedOutputStream::WriteVarint64ToArray(
      length, reinterpret_cast<uint8_t*>(out->data() + length_at));
  const std::string_view written = std::string_view(*out).substr(tag_at);
  *crc = store::Crc32(written.substr(0, 1 + varint), *crc);
  *crc = store::Crc32Combine(
      *crc, store::FrameCrc32(written.substr(1 + varint)), length);
}

}  // namespace

std::string Fsm::Snapshot() {
  // A framed pb::FsmSnapshot, its fields written around the parts as each
  // store appends its own into the one buffer.
  std::string out;
  // Room for both parts (sized like the last ones) and their field
  // headers, so that the parts are not copied as the string grows.
  store::ReserveFrame(&out, 64 + stores_.catalog->LastSnapshotSize() +
                                stores_.kv->LastSnapshotSize());
  const size_t frame = store::BeginFrame(&out);
  uint32_t crc = 0;
  AppendPartField(
      &out, pb::FsmSnapshot::kCatalogFieldNumber,
      [this](std::string* o) { stores_.catalog->AppendSnapshot(o); }, &crc);
  AppendPartField(
      &out, pb::FsmSnapshot::kKvFieldNumber,
      [this](std::string* o) { stores_.kv->AppendSnapshot(o); }, &crc);
  store::EndFrame(&out, frame, kSnapshotMagic, kSnapshotVersion, crc);
  return out;
}

namespace {

struct DecodedParts {
  store::CatalogStore::Decoded catalog;
  store::KvStore::Decoded kv;
};

// Decodes every part of a Snapshot() before anything is installed, so a bad
// part changes nothing. Version 1 (before KV) had no kv part: it decodes to
// an empty KV store.
Result<DecodedParts> DecodeParts(std::string_view bytes) {
  Result<std::string_view> payload =
      store::UnframeSnapshot(bytes, kSnapshotMagic, kSnapshotVersion);
  bool v1 = false;
  if (!payload.ok()) {
    Result<std::string_view> old =
        store::UnframeSnapshot(bytes, kSnapshotMagic, 1);
    if (!old.ok()) return payload.status();
    payload = old;
    v1 = true;
  }
  pb::FsmSnapshot snap;
  if (!store::ParseProto(*payload, &snap)) {
    return Status(Code::kDataLoss, "fsm snapshot: undecodable payload");
  }
  SIDER_ASSIGN_OR_RETURN(store::CatalogStore::Decoded catalog,
                         store::CatalogStore::DecodeSnapshot(snap.catalog()));
  SIDER_ASSIGN_OR_RETURN(
      store::KvStore::Decoded kv,
      store::KvStore::DecodeSnapshot(
          v1 ? store::KvStore().Snapshot() : snap.kv()));
  return DecodedParts{std::move(catalog), std::move(kv)};
}

}  // namespace

Status Fsm::Restore(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(DecodedParts parts, DecodeParts(bytes));
  stores_.catalog->InstallSnapshot(std::move(parts.catalog));
  stores_.kv->InstallSnapshot(std::move(parts.kv));
  return Status::Ok();
}

Status Fsm::RestoreAt(uint64_t raft_index, std::string_view bytes) {
  Result<DecodedParts> parts = DecodeParts(bytes);
  if (!parts.ok()) {
    spdlog::warn("fsm: restore entry {} refused: {}", raft_index,
                 parts.status().message());
    return parts.status();
  }
  DecodedParts& p = parts.value();
  p.catalog.Rebase(raft_index);
  p.kv.Rebase(raft_index);
  stores_.catalog->InstallSnapshot(std::move(p.catalog));
  stores_.kv->InstallSnapshot(std::move(p.kv));
  spdlog::info("fsm: restored the whole state at raft index {}", raft_index);
  return Status::Ok();
}

Result<SnapshotSummary> Fsm::Inspect(std::string_view snapshot) {
  SIDER_ASSIGN_OR_RETURN(DecodedParts parts, DecodeParts(snapshot));
  SnapshotSummary s;
  s.nodes = parts.catalog.nodes();
  s.services = parts.catalog.services();
  s.checks = parts.catalog.checks();
  s.kv_entries = parts.kv.entries();
  s.tombstones = parts.kv.tombstones();
  s.sessions = parts.kv.sessions();
  return s;
}

}  // namespace sider::fsm
