// NewUuidV4(): a random UUID (version 4, RFC 4122 variant) in Consul's
// textual form, lower-case hex 8-4-4-4-12. Session and event IDs are made
// here, on the proposing server, never inside the FSM (which must be
// deterministic).
//
// Threading: any thread; each thread has its own generator, seeded once
// from std::random_device.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace sider::server {

inline std::string NewUuidV4() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~uint64_t{0xF000}) | 0x4000;                   // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int bit = 124;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    const uint64_t word = bit >= 64 ? hi : lo;
    const int shift = bit >= 64 ? bit - 64 : bit;
    out[i] = kHex[(word >> shift) & 0xF];
    bit -= 4;
  }
  return out;
}

}  // namespace sider::server
