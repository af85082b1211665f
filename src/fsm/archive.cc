#include "fsm/archive.h"

#include <openssl/sha.h>

#include <array>
#include <cstring>

#include "fsm/archive.pb.h"
#include "store/catalog_proto.h"

namespace sider::fsm {
namespace {

constexpr size_t kDigestBytes = SHA256_DIGEST_LENGTH;  // 32
constexpr size_t kPrefixBytes = 16;  // magic, version, header length

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i]))
         << (8 * i);
  }
  return v;
}

std::array<unsigned char, kDigestBytes> Digest(std::string_view bytes) {
  std::array<unsigned char, kDigestBytes> d{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         d.data());
  return d;
}

Status Refused(const std::string& why) {
  return Status(Code::kDataLoss, "snapshot archive: " + why);
}

}  // namespace

std::vector<std::pair<std::string, uint64_t>> TableCounts(
    const SnapshotSummary& s) {
  return {{"nodes", s.nodes},           {"services", s.services},
          {"checks", s.checks},         {"kv", s.kv_entries},
          {"tombstones", s.tombstones}, {"sessions", s.sessions}};
}

std::string EncodeArchive(const ArchiveInfo& info,
                          std::string_view fsm_snapshot) {
  pb::ArchiveHeader h;
  h.set_raft_index(info.raft_index);
  h.set_term(info.term);
  h.set_created_at_unix_ms(info.created_at_unix_ms);
  for (const auto& [name, rows] : info.tables) {
    pb::ArchiveTable* t = h.add_tables();
    t->set_name(name);
    t->set_rows(rows);
  }
  h.set_state_hash(info.state_hash);
  h.set_node(info.node);
  h.set_version(info.version);
  const std::string header = store::SerializeDeterministic(h);

  std::string out;
  out.reserve(kPrefixBytes + header.size() + 8 + fsm_snapshot.size() +
              kDigestBytes);
  out.append(kArchiveMagic);
  PutLe(&out, kArchiveVersion, 4);
  PutLe(&out, header.size(), 4);
  out.append(header);
  PutLe(&out, fsm_snapshot.size(), 8);
  out.append(fsm_snapshot);
  const auto d = Digest(out);
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

Result<Archive> DecodeArchive(std::string_view bytes) {
  if (bytes.size() < kArchiveMagic.size() ||
      bytes.substr(0, kArchiveMagic.size()) != kArchiveMagic) {
    return Refused("not a sider snapshot archive (bad magic)");
  }
  if (bytes.size() < kPrefixBytes) return Refused("truncated (no header)");
  const uint64_t version = GetLe(bytes, 8, 4);
  if (version != kArchiveVersion) {
    return Refused("format version " + std::to_string(version) +
                   " is not supported (this build reads version " +
                   std::to_string(kArchiveVersion) + ")");
  }
  const uint64_t header_len = GetLe(bytes, 12, 4);
  const uint64_t snap_len_at = kPrefixBytes + header_len;
  if (bytes.size() < snap_len_at + 8) return Refused("truncated (header)");
  const uint64_t snap_len = GetLe(bytes, snap_len_at, 8);
  const uint64_t body_end = snap_len_at + 8 + snap_len;
  // Overflow-safe: snap_len is compared before being added.
  if (snap_len > bytes.size() || body_end + kDigestBytes > bytes.size()) {
    return Refused("truncated: " + std::to_string(bytes.size()) +
                   " bytes, the header announces " +
                   std::to_string(snap_len_at + 8 + snap_len + kDigestBytes));
  }
  if (body_end + kDigestBytes < bytes.size()) {
    return Refused(std::to_string(bytes.size() - body_end - kDigestBytes) +
                   " unexpected bytes after the end");
  }
  const auto d = Digest(bytes.substr(0, body_end));
  if (std::memcmp(d.data(), bytes.data() + body_end, kDigestBytes) != 0) {
    return Refused("SHA-256 checksum mismatch (the file is corrupt)");
  }
  pb::ArchiveHeader h;
  if (!store::ParseProto(bytes.substr(kPrefixBytes, header_len), &h)) {
    return Refused("undecodable header");
  }
  Archive a;
  a.info.raft_index = h.raft_index();
  a.info.term = h.term();
  a.info.created_at_unix_ms = h.created_at_unix_ms();
  for (const pb::ArchiveTable& t : h.tables()) {
    a.info.tables.emplace_back(t.name(), t.rows());
  }
  a.info.state_hash = h.state_hash();
  a.info.node = h.node();
  a.info.version = h.version();
  a.info.snapshot_bytes = snap_len;
  a.info.archive_bytes = bytes.size();
  a.snapshot = bytes.substr(snap_len_at + 8, snap_len);
  return a;
}

}  // namespace sider::fsm
