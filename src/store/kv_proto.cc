#include "store/kv_proto.h"

namespace sider::store {

void ToProto(const structs::KvEntry& in, pb::KvEntry* out) {
  out->set_key(in.key);
  out->set_value(in.value);
  out->set_flags(in.flags);
  out->set_session(in.session);
  out->set_lock_index(in.lock_index);
  out->set_create_index(in.create_index);
  out->set_modify_index(in.modify_index);
}

void ToProto(const structs::Session& in, pb::Session* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_node(in.node);
  for (const auto& c : in.node_checks) out->add_node_checks(c);
  for (const auto& c : in.service_checks) {
    pb::SessionServiceCheck* pc = out->add_service_checks();
    pc->set_id(c.id);
    pc->set_ns(c.ns);
  }
  out->set_behavior(static_cast<uint32_t>(in.behavior));
  out->set_ttl(in.ttl);
  out->set_lock_delay_ns(in.lock_delay_ns);
  out->set_create_index(in.create_index);
  out->set_modify_index(in.modify_index);
}

structs::KvEntry FromProto(const pb::KvEntry& in) {
  structs::KvEntry e;
  e.key = in.key();
  e.value = in.value();
  e.flags = in.flags();
  e.session = in.session();
  e.lock_index = in.lock_index();
  e.create_index = in.create_index();
  e.modify_index = in.modify_index();
  return e;
}

structs::Session FromProto(const pb::Session& in) {
  structs::Session s;
  s.id = in.id();
  s.name = in.name();
  s.node = in.node();
  s.node_checks.assign(in.node_checks().begin(), in.node_checks().end());
  for (const auto& pc : in.service_checks()) {
    s.service_checks.push_back({.id = pc.id(), .ns = pc.ns()});
  }
  s.behavior = static_cast<structs::SessionBehavior>(
      in.behavior() > 0xff ? 0xff : in.behavior());
  s.ttl = in.ttl();
  s.lock_delay_ns = in.lock_delay_ns();
  s.create_index = in.create_index();
  s.modify_index = in.modify_index();
  return s;
}

void AppendWire(const structs::KvEntry& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.key);
  w->String(2, in.value);
  w->Uint64(3, in.flags);
  w->String(4, in.session);
  w->Uint64(5, in.lock_index);
  w->Uint64(6, in.create_index);
  w->Uint64(7, in.modify_index);
  w->Close(mark);
}

void AppendWire(const structs::Session& in, int field, WireOut* w) {
  const WireOut::Mark mark = w->Open(field, 2);  // A row: 128..16383 bytes.
  w->String(1, in.id);
  w->String(2, in.name);
  w->String(3, in.node);
  for (const std::string& c : in.node_checks) w->StringElement(4, c);
  for (const structs::SessionServiceCheck& c : in.service_checks) {
    const WireOut::Mark check = w->Open(5);
    w->String(1, c.id);
    w->String(2, c.ns);
    w->Close(check);
  }
  w->Uint64(6, static_cast<uint32_t>(in.behavior));
  w->String(7, in.ttl);
  w->Int64(8, in.lock_delay_ns);
  w->Uint64(9, in.create_index);
  w->Uint64(10, in.modify_index);
  w->Close(mark);
}

}  // namespace sider::store
