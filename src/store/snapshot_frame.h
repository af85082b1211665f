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
// A frame is built either from a finished payload (FrameSnapshot) or in
// place, with the payload streamed into the same string between
// BeginFrame and EndFrame (no copy of the payload).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sider::store {

// CRC-32 (the zlib/IEEE one), continuing from `crc` (0 to start).
uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);
// The CRC-32 of a followed by b, from the CRC-32s of a and b and b's length.
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, size_t length_b);
// The CRC-32 of a whole frame (header and payload) that EndFrame finished,
// worked out from the payload CRC in its header without reading the
// payload: for a caller that frames frames.
uint32_t FrameCrc32(std::string_view frame);

std::string FrameSnapshot(std::string_view magic, uint32_t version,
                          std::string_view payload);

// Appends a header placeholder to `out`; returns the frame's offset, for
// EndFrame. The caller then appends the payload to `out`. With a
// `size_hint` (the expected frame size), `out` reserves room for it and a
// margin, so that a large payload is not copied as the string grows.
size_t BeginFrame(std::string* out, size_t size_hint = 0);
// Fills in the header at `frame_offset`: the payload is everything in
// `out` after that header. Returns the frame's size.
size_t EndFrame(std::string* out, size_t frame_offset, std::string_view magic,
                uint32_t version);
// The same, for a caller that has the payload's CRC-32 already.
size_t EndFrame(std::string* out, size_t frame_offset, std::string_view magic,
                uint32_t version, uint32_t payload_crc);

// Room for a frame of about `size_hint` bytes and a margin past out's end.
void ReserveFrame(std::string* out, size_t size_hint);

// The payload, or kDataLoss if the magic, version, length or checksum is
// wrong. The view points into `bytes`.
Result<std::string_view> UnframeSnapshot(std::string_view bytes,
                                         std::string_view magic,
                                         uint32_t version);

}  // namespace sider::store
