// Conversions between the catalog structs and their protobuf shapes
// (store/catalog.proto). Used by the store's snapshot codec and by fsm/'s
// command codec; keep this header out of anything that is widely included,
// since it pulls in generated protobuf headers.
//
// FromProto does not validate enum ranges: the store validates commands
// before applying them, and snapshots are checksummed.
//
// Thread safety: pure functions.
#pragma once

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

}  // namespace sider::store
