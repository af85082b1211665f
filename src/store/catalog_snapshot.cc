// CatalogStore snapshot encoding: a framed (magic, version, CRC-32)
// deterministic protobuf CatalogSnapshot, streamed from the tables.
// Decoding rebuilds every secondary index and checks referential
// integrity, so a snapshot that passes the checksum but describes an
// impossible state is refused too.
#include <algorithm>
#include <utility>

#include "store/catalog_proto.h"
#include "store/catalog_store.h"
#include "store/catalog_tables.h"
#include "store/snapshot_frame.h"

namespace sider::store {
namespace {

using internal::NodeRow;
using internal::NsKey;
using internal::NsView;

constexpr std::string_view kMagic = "SCAT";
constexpr uint32_t kVersion = 1;

Status Corrupt(std::string what) {
  return Status(Code::kDataLoss, "catalog snapshot: " + std::move(what));
}

// Writes the payload, a CatalogSnapshot (catalog.proto), straight from the
// tables: fields in number order, rows in key order, the bytes
// SerializeDeterministic gives for that message, without building it.
void WritePayload(const CatalogStore::Tables& t, std::string* out) {
  using Snap = pb::CatalogSnapshot;
  WireOut w(out);
  w.Uint64(Snap::kMaxIndexFieldNumber, t.max_index);
  w.Uint64(Snap::kNodesIndexFieldNumber, t.nodes_index);
  w.Uint64(Snap::kServicesIndexFieldNumber, t.services_index);
  w.Uint64(Snap::kChecksIndexFieldNumber, t.checks_index);
  ForEachPrefetched(t.nodes, [&w](const NodeRow& row) {
    AppendWire(row.node, Snap::kNodesFieldNumber, &w);
  });
  for (const auto& [name, row] : t.nodes) {
    ForEachPrefetched(row.services, [&w](const structs::Service& svc) {
      AppendWire(svc, Snap::kServicesFieldNumber, &w);
    });
  }
  for (const auto& [name, row] : t.nodes) {
    ForEachPrefetched(row.checks, [&w](const structs::Check& c) {
      AppendWire(c, Snap::kChecksFieldNumber, &w);
    });
  }
  for (const auto& [name, row] : t.nodes) {  // pb::NodeIndex
    const WireOut::Mark mark = w.Open(Snap::kNodeIndexesFieldNumber);
    w.String(1, name);
    w.Uint64(2, row.index);
    w.Close(mark);
  }
  for (const auto& [key, e] : t.by_name) {  // pb::ServiceIndex
    const WireOut::Mark mark = w.Open(Snap::kServiceIndexesFieldNumber);
    w.String(1, key.ns);
    w.String(2, key.name);
    w.Uint64(3, e.index);
    w.Close(mark);
  }
}

Status ImportRows(const pb::CatalogSnapshot& snap, CatalogStore::Tables* t) {
  for (const pb::Node& pn : snap.nodes()) {
    NodeRow row;
    row.node = FromProto(pn);
    row.watch = std::make_shared<Watch>();
    if (row.node.name.empty()) return Corrupt("node without a name");
    const std::string name = row.node.name;
    if (!t->nodes.emplace(name, std::move(row)).second) {
      return Corrupt("duplicate node " + name);
    }
  }
  for (const pb::Service& ps : snap.services()) {
    structs::Service svc = FromProto(ps);
    auto n = t->nodes.find(svc.node);
    if (n == t->nodes.end()) return Corrupt("service on unknown node");
    NsKey key{svc.ns, svc.id};
    t->by_name[NsKey{svc.ns, svc.name}].instances.emplace(svc.node, svc.id);
    if (!n->second.services.emplace(std::move(key), std::move(svc)).second) {
      return Corrupt("duplicate service");
    }
  }
  for (const pb::Check& pc : snap.checks()) {
    structs::Check c = FromProto(pc);
    if (c.status > structs::HealthStatus::kMaintenance ||
        c.type > structs::CheckType::kAlias) {
      return Corrupt("check with an unknown status or type");
    }
    auto n = t->nodes.find(c.node);
    if (n == t->nodes.end()) return Corrupt("check on unknown node");
    if (!c.service_id.empty() &&
        !n->second.services.contains(NsView{c.ns, c.service_id})) {
      return Corrupt("check for unknown service");
    }
    if (n->second.checks.contains(c.check_id)) {
      return Corrupt("duplicate check");
    }
    internal::IndexCheck(n->second, c);
    std::string id = c.check_id;
    n->second.checks.emplace(std::move(id), std::move(c));
  }
  return Status::Ok();
}

Status ImportIndexes(const pb::CatalogSnapshot& snap, CatalogStore::Tables* t) {
  t->max_index = snap.max_index();
  t->nodes_index = snap.nodes_index();
  t->services_index = snap.services_index();
  t->checks_index = snap.checks_index();
  for (const pb::NodeIndex& ni : snap.node_indexes()) {
    auto n = t->nodes.find(ni.node());
    if (n == t->nodes.end()) return Corrupt("index for unknown node");
    n->second.index = ni.index();
  }
  for (const pb::ServiceIndex& si : snap.service_indexes()) {
    // Entries without instances are kept: their index must not reset.
    t->by_name[NsKey{si.ns(), si.name()}].index = si.index();
  }
  for (auto& [key, e] : t->by_name) e.watch = std::make_shared<Watch>();
  return Status::Ok();
}

}  // namespace

CatalogStore::Decoded::Decoded(std::unique_ptr<Tables> tables)
    : tables_(std::move(tables)) {}
CatalogStore::Decoded::Decoded(Decoded&&) noexcept = default;
CatalogStore::Decoded& CatalogStore::Decoded::operator=(Decoded&&) noexcept =
    default;
CatalogStore::Decoded::~Decoded() = default;

void CatalogStore::Decoded::Rebase(uint64_t raft_index) {
  auto clamp = [raft_index](uint64_t* i) { *i = std::min(*i, raft_index); };
  Tables& t = *tables_;
  for (auto& [name, row] : t.nodes) {
    clamp(&row.node.create_index);
    clamp(&row.node.modify_index);
    for (auto& [key, svc] : row.services) {
      clamp(&svc.create_index);
      clamp(&svc.modify_index);
    }
    for (auto& [id, c] : row.checks) {
      clamp(&c.create_index);
      clamp(&c.modify_index);
    }
    row.index = raft_index;
  }
  for (auto& [key, e] : t.by_name) e.index = raft_index;
  t.max_index = t.nodes_index = t.services_index = t.checks_index =
      raft_index;
}

size_t CatalogStore::Decoded::nodes() const { return tables_->nodes.size(); }
size_t CatalogStore::Decoded::services() const {
  size_t n = 0;
  for (const auto& [name, row] : tables_->nodes) n += row.services.size();
  return n;
}
size_t CatalogStore::Decoded::checks() const {
  size_t n = 0;
  for (const auto& [name, row] : tables_->nodes) n += row.checks.size();
  return n;
}

std::string CatalogStore::Snapshot() const {
  std::string out;
  AppendSnapshot(&out);
  return out;
}

void CatalogStore::AppendSnapshot(std::string* out) const {
  const size_t frame = BeginFrame(out, LastSnapshotSize());
  {
    ReaderLock lock(&mu_);
    WritePayload(*t_, out);
  }
  last_snapshot_size_.store(EndFrame(out, frame, kMagic, kVersion),
                            std::memory_order_relaxed);
}

size_t CatalogStore::LastSnapshotSize() const {
  return last_snapshot_size_.load(std::memory_order_relaxed);
}

Result<CatalogStore::Decoded> CatalogStore::DecodeSnapshot(
    std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(std::string_view payload,
                         UnframeSnapshot(bytes, kMagic, kVersion));
  pb::CatalogSnapshot snap;
  if (!ParseProto(payload, &snap)) return Corrupt("undecodable payload");
  auto tables = std::make_unique<Tables>();
  SIDER_RETURN_IF_ERROR(ImportRows(snap, tables.get()));
  SIDER_RETURN_IF_ERROR(ImportIndexes(snap, tables.get()));
  return Decoded(std::move(tables));
}

void CatalogStore::InstallSnapshot(Decoded decoded) {
  std::vector<WatchPtr> fired;
  {
    WriterLock lock(&mu_);
    internal::CollectAllWatches(*t_, &fired);
    std::swap(t_, decoded.tables_);
  }
  // Every reader's result may have changed: wake them all. The old tables
  // go with `decoded`, outside the lock.
  mu_.FireOrDefer(std::move(fired));
}

Status CatalogStore::Restore(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(Decoded decoded, DecodeSnapshot(bytes));
  InstallSnapshot(std::move(decoded));
  return Status::Ok();
}

}  // namespace sider::store
