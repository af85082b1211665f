// KvStore snapshot encoding: a framed (magic, version, CRC-32)
// deterministic protobuf KvSnapshot. Decoding rebuilds the derived indexes
// and checks referential integrity (every held key's session exists), so a
// snapshot that passes the checksum but describes an impossible state is
// refused too.
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

pb::KvSnapshot Export(const KvStore::Tables& t) {
  pb::KvSnapshot snap;
  snap.set_max_index(t.max_index);
  snap.set_kv_index(t.kv_index);
  snap.set_sessions_index(t.sessions_index);
  snap.set_reaped_floor(t.reaped_floor);
  snap.set_restore_floor(t.restore_floor);
  for (const auto& [key, e] : t.kvs) ToProto(e, snap.add_entries());
  for (const auto& [key, index] : t.tombstones) {
    pb::Tombstone* ts = snap.add_tombstones();
    ts->set_key(key);
    ts->set_index(index);
  }
  for (const auto& [id, s] : t.sessions) ToProto(s, snap.add_sessions());
  return snap;
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
  pb::KvSnapshot snap;
  {
    ReaderLock lock(&mu_);
    snap = Export(*t_);
  }
  return FrameSnapshot(kMagic, kVersion, SerializeDeterministic(snap));
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
  for (const WatchPtr& w : fired) w->Fire();
}

Status KvStore::Restore(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(Decoded decoded, DecodeSnapshot(bytes));
  InstallSnapshot(std::move(decoded));
  return Status::Ok();
}

}  // namespace sider::store
