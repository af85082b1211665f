#include "store/catalog_proto.h"

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

}  // namespace sider::store
