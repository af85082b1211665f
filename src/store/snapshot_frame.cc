#include "store/snapshot_frame.h"

#include <zlib.h>

#include <algorithm>
#include <cassert>

namespace sider::store {
namespace {

constexpr size_t kHeaderSize = 20;

void PutLe(char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

uint64_t GetLe(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return v;
}

}  // namespace

uint32_t Crc32(std::string_view bytes, uint32_t crc) {
  // zlib's crc32 is the same CRC (reflected 0xEDB88320, pre- and
  // post-inverted) as the byte-table one this replaced, many times faster.
  // (zlib answers 0 for a null buffer whatever `crc` is: skip empty input.)
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  for (size_t left = bytes.size(); left > 0;) {
    const size_t n = std::min<size_t>(left, size_t{1} << 30);
    c = crc32_z(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

void ReserveFrame(std::string* out, size_t size_hint) {
  if (size_hint == 0) return;
  const size_t want = out->size() + size_hint + size_hint / 8 + kHeaderSize;
  if (want > out->capacity()) out->reserve(want);
}

uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, size_t length_b) {
  return static_cast<uint32_t>(
      crc32_combine64(crc_a, crc_b, static_cast<z_off64_t>(length_b)));
}

uint32_t FrameCrc32(std::string_view frame) {
  assert(frame.size() >= kHeaderSize);
  const auto payload_crc = static_cast<uint32_t>(GetLe(frame.substr(16), 4));
  return Crc32Combine(Crc32(frame.substr(0, kHeaderSize)), payload_crc,
                      frame.size() - kHeaderSize);
}

size_t BeginFrame(std::string* out, size_t size_hint) {
  ReserveFrame(out, size_hint);
  const size_t offset = out->size();
  out->append(kHeaderSize, '\0');
  return offset;
}

size_t EndFrame(std::string* out, size_t frame_offset, std::string_view magic,
                uint32_t version) {
  assert(out->size() >= frame_offset + kHeaderSize);
  return EndFrame(out, frame_offset, magic, version,
                  Crc32(std::string_view(*out).substr(frame_offset +
                                                      kHeaderSize)));
}

size_t EndFrame(std::string* out, size_t frame_offset, std::string_view magic,
                uint32_t version, uint32_t payload_crc) {
  assert(magic.size() == 4);
  assert(out->size() >= frame_offset + kHeaderSize);
  const size_t length = out->size() - frame_offset - kHeaderSize;
  char* header = out->data() + frame_offset;
  std::copy(magic.begin(), magic.end(), header);
  PutLe(header + 4, version, 4);
  PutLe(header + 8, length, 8);
  PutLe(header + 16, payload_crc, 4);
  return kHeaderSize + length;
}

std::string FrameSnapshot(std::string_view magic, uint32_t version,
                          std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  const size_t frame = BeginFrame(&out);
  out.append(payload);
  EndFrame(&out, frame, magic, version);
  return out;
}

Result<std::string_view> UnframeSnapshot(std::string_view bytes,
                                         std::string_view magic,
                                         uint32_t version) {
  if (bytes.size() < kHeaderSize) {
    return Status(Code::kDataLoss, "snapshot: truncated header");
  }
  if (bytes.substr(0, 4) != magic) {
    return Status(Code::kDataLoss, "snapshot: bad magic");
  }
  const uint64_t got_version = GetLe(bytes.substr(4), 4);
  if (got_version != version) {
    return Status(Code::kDataLoss, "snapshot: unsupported format version " +
                                       std::to_string(got_version));
  }
  const uint64_t length = GetLe(bytes.substr(8), 8);
  std::string_view payload = bytes.substr(kHeaderSize);
  if (length != payload.size()) {
    return Status(Code::kDataLoss, "snapshot: length mismatch");
  }
  if (GetLe(bytes.substr(16), 4) != Crc32(payload)) {
    return Status(Code::kDataLoss, "snapshot: checksum mismatch");
  }
  return payload;
}

}  // namespace sider::store
