// Backup archives: what GET /v1/snapshot returns, `sider snapshot save`
// writes and PUT /v1/snapshot takes back. An archive wraps one
// Fsm::Snapshot() with a header (Raft index and term, creation time, row
// counts per table, the state hash) and a SHA-256 over everything, so a
// truncated or altered file is refused before anything is decoded.
//
//   offset 0   magic "SIDERBAK" (8 bytes)
//          8   format version, u32 little-endian (1)
//         12   header length H, u32 little-endian
//         16   header: protobuf ArchiveHeader (fsm/archive.proto), H bytes
//     16 + H   snapshot length S, u64 little-endian
//     24 + H   snapshot: an Fsm::Snapshot() (itself framed, CRC-32), S bytes
// 24 + H + S   SHA-256 of bytes [0, 24 + H + S), 32 bytes; end of file.
//
// docs/backup.md documents it for operators.
//
// Thread safety: pure functions. Errors: DecodeArchive returns kDataLoss
// with a message that says what is wrong (not an archive, newer version,
// truncated, trailing bytes, checksum mismatch, bad header). It checks the
// envelope only; Fsm::Inspect verifies the snapshot inside.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fsm/fsm.h"

namespace sider::fsm {

inline constexpr std::string_view kArchiveMagic = "SIDERBAK";
inline constexpr uint32_t kArchiveVersion = 1;

struct ArchiveInfo {
  uint64_t raft_index = 0;
  uint64_t term = 0;
  int64_t created_at_unix_ms = 0;
  // (table, rows), in a fixed order (TableCounts).
  std::vector<std::pair<std::string, uint64_t>> tables;
  uint64_t state_hash = 0;
  std::string node;
  std::string version;
  // Filled by DecodeArchive (ignored by EncodeArchive).
  uint64_t snapshot_bytes = 0;
  uint64_t archive_bytes = 0;
};

// The tables of a summary, as ArchiveInfo::tables.
std::vector<std::pair<std::string, uint64_t>> TableCounts(
    const SnapshotSummary& summary);

std::string EncodeArchive(const ArchiveInfo& info,
                          std::string_view fsm_snapshot);

struct Archive {
  ArchiveInfo info;
  std::string_view snapshot;  // Points into the decoded bytes.
};
Result<Archive> DecodeArchive(std::string_view bytes);

}  // namespace sider::fsm
