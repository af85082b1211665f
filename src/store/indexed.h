// Indexed<T>: a read's result together with the Raft index it reflects.
// The index is what X-Consul-Index reports and what a blocking query
// compares with the client's ?index=. Never 0 in a reply: readers clamp to 1.
//
// Thread safety: a value.
#pragma once

#include <cstdint>

namespace sider::store {

template <typename T>
struct Indexed {
  uint64_t index = 0;
  T value;
};

}  // namespace sider::store
