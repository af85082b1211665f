// Snapshot framing: a fixed header (4-byte magic, format version, payload
// length, CRC-32 of the payload) in front of a payload, so that a truncated
// or corrupted snapshot is refused before anything is decoded.
//
//   offset 0  magic[4]
//          4  version   u32 little-endian
//          8  length    u64 little-endian (payload bytes)
//         16  crc32     u32 little-endian (IEEE 802.3 polynomial)
//         20  payload
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sider::store {

// CRC-32 (the zlib/IEEE one), continuing from `crc` (0 to start).
uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

std::string FrameSnapshot(std::string_view magic, uint32_t version,
                          std::string_view payload);

// The payload, or kDataLoss if the magic, version, length or checksum is
// wrong. The view points into `bytes`.
Result<std::string_view> UnframeSnapshot(std::string_view bytes,
                                         std::string_view magic,
                                         uint32_t version);

}  // namespace sider::store
