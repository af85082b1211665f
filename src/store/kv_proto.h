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

#include "store/kv.pb.h"
#include "structs/kv.h"

namespace sider::store {

void ToProto(const structs::KvEntry& in, pb::KvEntry* out);
void ToProto(const structs::Session& in, pb::Session* out);

structs::KvEntry FromProto(const pb::KvEntry& in);
structs::Session FromProto(const pb::Session& in);

}  // namespace sider::store
