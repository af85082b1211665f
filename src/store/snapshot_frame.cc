#include "store/snapshot_frame.h"

#include <array>
#include <cassert>

namespace sider::store {
namespace {

constexpr size_t kHeaderSize = 20;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
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
  crc = ~crc;
  for (char ch : bytes) {
    crc = kCrcTable[(crc ^ static_cast<uint8_t>(ch)) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

std::string FrameSnapshot(std::string_view magic, uint32_t version,
                          std::string_view payload) {
  assert(magic.size() == 4);
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  out.append(magic);
  PutLe(&out, version, 4);
  PutLe(&out, payload.size(), 8);
  PutLe(&out, Crc32(payload), 4);
  out.append(payload);
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
