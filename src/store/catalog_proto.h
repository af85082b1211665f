// Conversions between the catalog structs and their protobuf shapes
// (store/catalog.proto). Used by the store's snapshot codec and by fsm/'s
// command codec; keep this header out of anything that is widely included,
// since it pulls in generated protobuf headers.
//
// FromProto does not validate enum ranges: the store validates commands
// before applying them, and snapshots are checksummed.
//
// Snapshots are encoded without building messages: WireOut and AppendWire
// write the bytes that ToProto + SerializeDeterministic would.
//
// Thread safety: pure functions; a WireOut belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <string_view>

#include "store/catalog.pb.h"
#include "structs/catalog.h"

namespace sider::store {

void ToProto(const structs::Node& in, pb::Node* out);
void ToProto(const structs::Service& in, pb::Service* out);
void ToProto(const structs::Check& in, pb::Check* out);

structs::Node FromProto(const pb::Node& in);
structs::Service FromProto(const pb::Service& in);
structs::Check FromProto(const pb::Check& in);

// Serializes with deterministic map ordering, so equal messages give equal
// bytes (protobuf's default leaves map order unspecified).
std::string SerializeDeterministic(const google::protobuf::MessageLite& msg);

// False if `bytes` is not a valid encoding of `msg`'s type.
bool ParseProto(std::string_view bytes, google::protobuf::MessageLite* msg);

// A protobuf wire writer for the snapshot encoders: appends to a string
// exactly the bytes SerializeDeterministic writes for the same fields,
// without building messages (no copies into them, no allocations per row).
// The caller writes fields in field-number order and follows proto3's
// presence rules, which the methods encode: a scalar or string field is
// omitted when zero / empty; a repeated string element, a map entry and a
// message field that is set are always written. Only field numbers 1..15
// (one-byte tags) are used. `out` is complete once the writer is destroyed.
class WireOut {
 public:
  explicit WireOut(std::string* out);
  ~WireOut();
  WireOut(const WireOut&) = delete;
  WireOut& operator=(const WireOut&) = delete;

  void Uint64(int field, uint64_t value);  // uint64, uint32.
  // int64, int32 (protobuf sign-extends a negative int32: 10 bytes).
  void Int64(int field, int64_t value);
  void Bool(int field, bool value);
  void String(int field, std::string_view value);  // string, bytes.
  void StringElement(int field, std::string_view value);  // Always written.
  // map<string, string>: deterministic order is by key, std::map's order.
  void StringMap(int field, const std::map<std::string, std::string>& map);

  // A message-typed field: Open writes the tag, the caller writes the
  // message's fields, Close writes the length in front of them.
  // `length_bytes` is room left for the length, a guess: Close moves the
  // message when its length takes another number of bytes.
  struct Mark {
    size_t at;    // Where the length goes.
    size_t room;  // Bytes left there.
  };
  Mark Open(int field, size_t length_bytes = 1);
  void Close(Mark mark);

 private:
  char* Room(size_t n);  // At least n writable bytes at the cursor.
  void Tag(int field, int wire_type);
  void Varint(uint64_t value);
  void Raw(std::string_view bytes);

  std::string* out_;
  size_t pos_;  // End of what was written; out_->size() is the capacity.
};

// Calls f(value) for each value of `map` (a std::map of rows) in key
// order, prefetching the next row while f encodes this one: a large table's
// rows lie scattered in memory, and the walk is otherwise bound by the
// latency of each row's cache misses, one after another.
template <typename Map, typename F>
void ForEachPrefetched(const Map& map, F f) {
  auto prefetch = [](const typename Map::mapped_type& row) {
    const char* p = reinterpret_cast<const char*>(&row);
    for (size_t i = 0; i < sizeof(row); i += 64) __builtin_prefetch(p + i);
  };
  auto it = map.begin();
  if (it != map.end()) prefetch(it->second);
  while (it != map.end()) {
    const auto next = std::next(it);
    if (next != map.end()) prefetch(next->second);
    f(it->second);
    it = next;
  }
}

// Append `in` as message field `field` (a repeated element): the bytes that
// serializing ToProto(in) deterministically as that field gives. Keep in
// step with ToProto; tests/store/snapshot_wire_test.cc compares the two.
void AppendWire(const structs::Node& in, int field, WireOut* w);
void AppendWire(const structs::Service& in, int field, WireOut* w);
void AppendWire(const structs::Check& in, int field, WireOut* w);

}  // namespace sider::store
