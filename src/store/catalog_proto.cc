#include "store/catalog_proto.h"

#include <algorithm>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace sider::store {
namespace {

template <typename PbMap>
void MetaToProto(const structs::Meta& in, PbMap* out) {
  for (const auto& [k, v] : in) (*out)[k] = v;
}

template <typename PbMap>
structs::Meta MetaFromProto(const PbMap& in) {
  return structs::Meta(in.begin(), in.end());
}

// Out-of-range values stay out of range (0xff) rather than wrapping into a
// valid one, so validation can refuse them.
uint8_t ClampToByte(uint32_t v) { return v > 0xff ? 0xff : static_cast<uint8_t>(v); }

template <typename PbRepeated>
std::vector<std::string> StringsFromProto(const PbRepeated& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

void ToProto(const structs::CheckDefinition& in, pb::CheckDefinition* out) {
  out->set_http(in.http);
  out->set_method(in.method);
  for (const auto& [name, values] : in.header) {
    auto& pv = (*out->mutable_header())[name];
    for (const auto& v : values) pv.add_values(v);
  }
  out->set_body(in.body);
  out->set_tcp(in.tcp);
  for (const auto& a : in.args) out->add_args(a);
  out->set_grpc(in.grpc);
  out->set_alias_service(in.alias_service);
  out->set_tls_skip_verify(in.tls_skip_verify);
  out->set_interval_ns(in.interval_ns);
  out->set_timeout_ns(in.timeout_ns);
  out->set_ttl_ns(in.ttl_ns);
  out->set_deregister_critical_after_ns(in.deregister_critical_after_ns);
  out->set_success_before_passing(in.success_before_passing);
  out->set_failures_before_critical(in.failures_before_critical);
}

structs::CheckDefinition FromProto(const pb::CheckDefinition& in) {
  structs::CheckDefinition out;
  out.http = in.http();
  out.method = in.method();
  for (const auto& [name, values] : in.header()) {
    out.header[name] = StringsFromProto(values.values());
  }
  out.body = in.body();
  out.tcp = in.tcp();
  out.args = StringsFromProto(in.args());
  out.grpc = in.grpc();
  out.alias_service = in.alias_service();
  out.tls_skip_verify = in.tls_skip_verify();
  out.interval_ns = in.interval_ns();
  out.timeout_ns = in.timeout_ns();
  out.ttl_ns = in.ttl_ns();
  out.deregister_critical_after_ns = in.deregister_critical_after_ns();
  out.success_before_passing = in.success_before_passing();
  out.failures_before_critical = in.failures_before_critical();
  return out;
}

}  // namespace

void ToProto(const structs::Node& in, pb::Node* out) {
  out->set_name(in.name);
  out->set_id(in.id);
  out->set_address(in.address);
  out->set_datacenter(in.datacenter);
  MetaToProto(in.meta, out->mutable_meta());
  MetaToProto(in.tagged_addresses, out->mutable_tagged_addresses());
  out->set_create_index(in.create_index);
  out->set_modify_index(in.modify_index);
}

void ToProto(const structs::Service& in, pb::Service* out) {
  out->set_node(in.node);
  out->set_ns(in.ns);
  out->set_id(in.id);
  out->set_name(in.name);
  for (const auto& t : in.tags) out->add_tags(t);
  out->set_address(in.address);
  out->set_port(in.port);
  MetaToProto(in.meta, out->mutable_meta());
  out->mutable_weights()->set_passing(in.weights.passing);
  out->mutable_weights()->set_warning(in.weights.warning);
  out->set_enable_tag_override(in.enable_tag_override);
  out->set_enabled(in.enabled);
  out->set_kind(in.kind);
  out->set_create_index(in.create_index);
  out->set_modify_index(in.modify_index);
}

void ToProto(const structs::Check& in, pb::Check* out) {
  out->set_node(in.node);
  out->set_check_id(in.check_id);
  out->set_name(in.name);
  out->set_status(static_cast<uint32_t>(in.status));
  out->set_notes(in.notes);
  out->set_output(in.output);
  out->set_service_id(in.service_id);
  out->set_service_name(in.service_name);
  for (const auto& t : in.service_tags) out->add_service_tags(t);
  out->set_ns(in.ns);
  out->set_type(static_cast<uint32_t>(in.type));
  ToProto(in.definition, out->mutable_definition());
  out->set_create_index(in.create_index);
  out->set_modify_index(in.modify_index);
}

structs::Node FromProto(const pb::Node& in) {
  structs::Node out;
  out.name = in.name();
  out.id = in.id();
  out.address = in.address();
  out.datacenter = in.datacenter();
  out.meta = MetaFromProto(in.meta());
  out.tagged_addresses = MetaFromProto(in.tagged_addresses());
  out.create_index = in.create_index();
  out.modify_index = in.modify_index();
  return out;
}

structs::Service FromProto(const pb::Service& in) {
  structs::Service out;
  out.node = in.node();
  out.ns = in.ns();
  out.id = in.id();
  out.name = in.name();
  out.tags = StringsFromProto(in.tags());
  out.address = in.address();
  out.port = in.port();
  out.meta = MetaFromProto(in.meta());
  out.weights.passing = in.weights().passing();
  out.weights.warning = in.weights().warning();
  out.enable_tag_override = in.enable_tag_override();
  out.enabled = in.enabled();
  out.kind = in.kind();
  out.create_index = in.create_index();
  out.modify_index = in.modify_index();
  return out;
}

structs::Check FromProto(const pb::Check& in) {
  structs::Check out;
  out.node = in.node();
  out.check_id = in.check_id();
  out.name = in.name();
  // Range-checked by the store's validation (commands) or the snapshot
  // decoder; a cast of any uint8 value is well defined for these enums.
  out.status = static_cast<structs::HealthStatus>(ClampToByte(in.status()));
  out.notes = in.notes();
  out.output = in.output();
  out.service_id = in.service_id();
  out.service_name = in.service_name();
  out.service_tags = StringsFromProto(in.service_tags());
  out.ns = in.ns();
  out.type = static_cast<structs::CheckType>(ClampToByte(in.type()));
  out.definition = FromProto(in.definition());
  out.create_index = in.create_index();
  out.modify_index = in.modify_index();
  return out;
}

std::string SerializeDeterministic(const google::protobuf::MessageLite& msg) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&cos);
  }  // The CodedOutputStream flushes into `out` when destroyed.
  return out;
}

bool ParseProto(std::string_view bytes, google::protobuf::MessageLite* msg) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return false;
  return msg->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

namespace {

constexpr int kVarint = 0;
constexpr int kLengthDelimited = 2;
constexpr size_t kMaxVarint = 10;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace

WireOut::WireOut(std::string* out) : out_(out), pos_(out->size()) {}

WireOut::~WireOut() { out_->resize(pos_); }

char* WireOut::Room(size_t n) {
  if (out_->size() - pos_ < n) {
    // Writable bytes cost a zero fill (std::string has no uninitialized
    // resize before C++23), so add them a step at a time, not a whole
    // reservation at once; past the capacity std::string grows
    // geometrically.
    constexpr size_t kStep = 64 * 1024;
    const size_t size = out_->size();
    out_->resize(std::max(pos_ + n, std::min(2 * size + 256, size + kStep)));
  }
  return out_->data() + pos_;
}

void WireOut::Tag(int field, int wire_type) {
  *Room(1) = static_cast<char>((field << 3) | wire_type);
  ++pos_;
}

void WireOut::Varint(uint64_t value) {
  char* p = Room(kMaxVarint);
  pos_ += PutVarint(p, value) - p;
}

void WireOut::Raw(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(Room(bytes.size()), bytes.data(), bytes.size());
  pos_ += bytes.size();
}

void WireOut::Uint64(int field, uint64_t value) {
  if (value == 0) return;
  Tag(field, kVarint);
  Varint(value);
}

void WireOut::Int64(int field, int64_t value) {
  Uint64(field, static_cast<uint64_t>(value));
}

void WireOut::Bool(int field, bool value) { Uint64(field, value ? 1 : 0); }

void WireOut::String(int field, std::string_view value) {
  if (!value.empty()) StringElement(field, value);
}

void WireOut::StringElement(int field, std::string_view value) {
  Tag(field, kLengthDelimited);
  Varint(value.size());
  Raw(value);
}

void WireOut::StringMap(int field,
                        const std::map<std::string, std::string>& map) {
  // A map entry is a message whose key (1) and value (2) are always
  // written, empty or not.
  for (const auto& [key, value] : map) {
    const Mark mark = Open(field);
    StringElement(1, key);
    StringElement(2, value);
    Close(mark);
  }
}

WireOut::Mark WireOut::Open(int field, size_t length_bytes) {
  Tag(field, kLengthDelimited);
  const Mark mark{.at = pos_, .room = length_bytes};
  Room(length_bytes);
  pos_ += length_bytes;
  return mark;
}

void WireOut::Close(Mark mark) {
  const size_t length = pos_ - mark.at - mark.room;
  const size_t varint = VarintSize(length);
  if (varint != mark.room) {
    if (varint > mark.room) Room(varint - mark.room);  // May move out_.
    char* const at = out_->data() + mark.at;
    std::memmove(at + varint, at + mark.room, length);
    pos_ = mark.at + varint + length;
  }
  PutVarint(out_->data() + mark.at, length);
}

void AppendWire(const structs::Node& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.name);
  w->String(2, in.id);
  w->String(3, in.address);
  w->String(4, in.datacenter);
  w->StringMap(5, in.meta);
  w->StringMap(6, in.tagged_addresses);
  w->Uint64(7, in.create_index);
  w->Uint64(8, in.modify_index);
  w->Close(mark);
}

void AppendWire(const structs::Service& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.node);
  w->String(2, in.ns);
  w->String(3, in.id);
  w->String(4, in.name);
  for (const std::string& t : in.tags) w->StringElement(5, t);
  w->String(6, in.address);
  w->Int64(7, in.port);
  w->StringMap(8, in.meta);
  const WireOut::Mark weights = w->Open(9);  // ToProto always sets it.
  w->Int64(1, in.weights.passing);
  w->Int64(2, in.weights.warning);
  w->Close(weights);
  w->Bool(10, in.enable_tag_override);
  w->Bool(11, in.enabled);
  w->String(12, in.kind);
  w->Uint64(13, in.create_index);
  w->Uint64(14, in.modify_index);
  w->Close(mark);
}

namespace {

void AppendWire(const structs::CheckDefinition& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.http);
  w->String(2, in.method);
  for (const auto& [name, values] : in.header) {
    const WireOut::Mark entry = w->Open(3);
    w->StringElement(1, name);
    const WireOut::Mark header_values = w->Open(2);
    for (const std::string& v : values) w->StringElement(1, v);
    w->Close(header_values);
    w->Close(entry);
  }
  w->String(4, in.body);
  w->String(5, in.tcp);
  for (const std::string& a : in.args) w->StringElement(6, a);
  w->String(7, in.grpc);
  w->String(8, in.alias_service);
  w->Bool(9, in.tls_skip_verify);
  w->Int64(10, in.interval_ns);
  w->Int64(11, in.timeout_ns);
  w->Int64(12, in.ttl_ns);
  w->Int64(13, in.deregister_critical_after_ns);
  w->Int64(14, in.success_before_passing);
  w->Int64(15, in.failures_before_critical);
  w->Close(mark);
}

}  // namespace

void AppendWire(const structs::Check& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.node);
  w->String(2, in.check_id);
  w->String(3, in.name);
  w->Uint64(4, static_cast<uint32_t>(in.status));
  w->String(5, in.notes);
  w->String(6, in.output);
  w->String(7, in.service_id);
  w->String(8, in.service_name);
  for (const std::string& t : in.service_tags) w->StringElement(9, t);
  w->String(10, in.ns);
  w->Uint64(11, static_cast<uint32_t>(in.type));
  AppendWire(in.definition, 12, w);  // ToProto always sets it.
  w->Uint64(13, in.create_index);
  w->Uint64(14, in.modify_index);
  w->Close(mark);
}

}  // namespace sider::store
