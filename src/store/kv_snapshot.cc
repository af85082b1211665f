// KvStore snapshot encoding: a framed (magic, version, CRC-32)
// deterministic protobuf KvSnapshot, streamed from the tables. Decoding
// rebuilds the derived indexes and checks referential integrity (every held
// key's session exists), so a snapshot that passes the checksum but
// describes an impossible state is refused too.
#include <algorithm>
#include <utility>

#include "store/catalog_proto.h"
#include "store/kv_proto.h"
#include "store/kv_store.h"
#include "store/kv_tables.h"
#include "store/snapshot_frame.h"

namespace sider::store {
namespace {

constexpr std::string_view kMagic = "SKVS";
constexpr uint32_t kVersion = 1;

Status Corrupt(std::string what) {
  return Status(Code::kDataLoss, "kv snapshot: " + std::move(what));
}

// Writes the payload, a KvSnapshot (kv.proto), straight from the tables:
// fields in number order, rows in key order, the bytes
// SerializeDeterministic gives for that message, without building it.
void WritePayload(const KvStore::Tables& t, std::string* out) {
  using Snap = pb::KvSnapshot;
  WireOut w(out);
  w.Uint64(Snap::kMaxIndexFieldNumber, t.max_index);
  w.Uint64(Snap::kKvIndexFieldNumber, t.kv_index);
  w.Uint64(Snap::kSessionsIndexFieldNumber, t.sessions_index);
  w.Uint64(Snap::kReapedFloorFieldNumber, t.reaped_floor);
  ForEachPrefetched(t.kvs, [&w](const structs::KvEntry& e) {
    AppendWire(e, Snap::kEntriesFieldNumber, &w);
  });
  for (const auto& [key, index] : t.tombstones) {  // pb::Tombstone
    const WireOut::Mark mark = w.Open(Snap::kTombstonesFieldNumber);
    w.String(1, key);
    w.Uint64(2, index);
    w.Close(mark);
  }
  ForEachPrefetched(t.sessions, [&w](const structs::Session& s) {
    AppendWire(s, Snap::kSessionsFieldNumber, &w);
  });
  w.Uint64(Snap::kRestoreFloorFieldNumber, t.restore_floor);
}

Result<std::unique_ptr<KvStore::Tables>> Import(const pb::KvSnapshot& snap) {
  auto t = std::make_unique<KvStore::Tables>();
  t->max_index = snap.max_index();
  t->kv_index = snap.kv_index();
  t->sessions_index = snap.sessions_index();
  t->reaped_floor = snap.reaped_floor();
  t->restore_floor = snap.restore_floor();
  for (const pb::Session& ps : snap.sessions()) {
    structs::Session s = FromProto(ps);
    if (s.id.empty()) return Corrupt("session without an id");
    if (structs::SessionBehaviorName(s.behavior).empty()) {
      return Corrupt("session with an unknown behavior");
    }
    std::string id = s.id;
    if (!t->sessions.emplace(std::move(id), std::move(s)).second) {
      return Corrupt("duplicate session");
    }
  }
  for (const pb::KvEntry& pe : snap.entries()) {
    structs::KvEntry e = FromProto(pe);
    if (!e.session.empty() && !t->sessions.contains(e.session)) {
      return Corrupt("key held by an unknown session");
    }
    std::string key = e.key;
    if (!t->kvs.emplace(std::move(key), std::move(e)).second) {
      return Corrupt("duplicate key");
    }
  }
  for (const pb::Tombstone& ts : snap.tombstones()) {
    if (!t->tombstones.emplace(ts.key(), ts.index()).second) {
      return Corrupt("duplicate tombstone");
    }
  }
  internal::RebuildDerived(*t);
  return t;
}

}  // namespace

KvStore::Decoded::Decoded(std::unique_ptr<Tables> tables)
    : tables_(std::move(tables)) {}
KvStore::Decoded::Decoded(Decoded&&) noexcept = default;
KvStore::Decoded& KvStore::Decoded::operator=(Decoded&&) noexcept = default;
KvStore::Decoded::~Decoded() = default;

void KvStore::Decoded::Rebase(uint64_t raft_index) {
  auto clamp = [raft_index](uint64_t* i) { *i = std::min(*i, raft_index); };
  Tables& t = *tables_;
  for (auto& [key, e] : t.kvs) {
    clamp(&e.create_index);
    clamp(&e.modify_index);
  }
  for (auto& [key, index] : t.tombstones) clamp(&index);
  for (auto& [id, s] : t.sessions) {
    clamp(&s.create_index);
    clamp(&s.modify_index);
  }
  clamp(&t.reaped_floor);
  t.kv_index = t.sessions_index = t.max_index = t.restore_floor = raft_index;
}

size_t KvStore::Decoded::entries() const { return tables_->kvs.size(); }
size_t KvStore::Decoded::tombstones() const {
  return tables_->tombstones.size();
}
size_t KvStore::Decoded::sessions() const { return tables_->sessions.size(); }

std::string KvStore::Snapshot() const {
  std::string out;
  AppendSnapshot(&out);
  return out;
}

void KvStore::AppendSnapshot(std::string* out) const {
  const size_t frame = BeginFrame(out, LastSnapshotSize());
  {
    ReaderLock lock(&mu_);
    WritePayload(*t_, out);
  }
  last_snapshot_size_.store(EndFrame(out, frame, kMagic, kVersion),
                            std::memory_order_relaxed);
}

size_t KvStore::LastSnapshotSize() const {
  return last_snapshot_size_.load(std::memory_order_relaxed);
}

Result<KvStore::Decoded> KvStore::DecodeSnapshot(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(std::string_view payload,
                         UnframeSnapshot(bytes, kMagic, kVersion));
  pb::KvSnapshot snap;
  if (!ParseProto(payload, &snap)) return Corrupt("undecodable payload");
  SIDER_ASSIGN_OR_RETURN(std::unique_ptr<Tables> tables, Import(snap));
  return Decoded(std::move(tables));
}

void KvStore::InstallSnapshot(Decoded decoded) {
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    t_ = std::move(decoded.tables_);
    WriterLock wlock(&watch_mu_);
    internal::CollectAllWatches(*w_, &fired);
  }
  mu_.FireOrDefer(std::move(fired));
}

Status KvStore::Restore(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(Decoded decoded, DecodeSnapshot(bytes));
  InstallSnapshot(std::move(decoded));
  return Status::Ok();
}

}  // namespace sider::store
