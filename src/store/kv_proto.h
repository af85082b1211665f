// Conversions between the KV / session structs and their protobuf shapes
// (store/kv.proto), for the KV store's snapshots and fsm/'s commands. Keep
// it out of widely included headers: it pulls in generated code.
//
// FromProto does not validate enum ranges (out-of-range values map to
// 0xff); the store validates commands, and snapshots are checksummed and
// checked on decode.
//
// Thread safety: pure functions.
#pragma once

#include "store/catalog_proto.h"
#include "store/kv.pb.h"
#include "structs/kv.h"

namespace sider::store {

void ToProto(const structs::KvEntry& in, pb::KvEntry* out);
void ToProto(const structs::Session& in, pb::Session* out);

structs::KvEntry FromProto(const pb::KvEntry& in);
structs::Session FromProto(const pb::Session& in);

// Append `in` as message field `field` (a repeated element): the bytes that
// serializing ToProto(in) deterministically as that field gives (see
// WireOut). Keep in step with ToProto; tests/store/snapshot_wire_test.cc
// compares the two.
void AppendWire(const structs::KvEntry& in, int field, WireOut* w);
void AppendWire(const structs::Session& in, int field, WireOut* w);

}  // namespace sider::store
