#include "fsm/commands.h"

#include <zlib.h>

#include "fsm/commands.pb.h"
#include "store/catalog_proto.h"
#include "store/kv_proto.h"

namespace sider::fsm {
namespace {

Status Malformed(std::string_view what) {
  return Status(Code::kDataLoss, "malformed " + std::string(what) + " entry");
}

std::string Wrap(MessageType type, const google::protobuf::MessageLite& msg) {
  pb::Envelope env;
  env.set_type(static_cast<uint32_t>(type));
  env.set_payload(store::SerializeDeterministic(msg));
  return store::SerializeDeterministic(env);
}

// Decodes an entry that must be of `type` into its payload.
Result<std::string> Unwrap(std::string_view entry, MessageType type) {
  SIDER_ASSIGN_OR_RETURN(Entry e, DecodeEntry(entry));
  if (e.type != static_cast<uint32_t>(type)) {
    return Status(Code::kDataLoss,
                  "entry has type " + std::to_string(e.type) + ", want " +
                      std::to_string(static_cast<uint32_t>(type)));
  }
  return std::move(e.payload);
}

}  // namespace

std::string EncodeRegister(const structs::RegisterCommand& cmd) {
  pb::Register msg;
  store::ToProto(cmd.node, msg.mutable_node());
  if (cmd.service) store::ToProto(*cmd.service, msg.mutable_service());
  for (const structs::Check& c : cmd.checks) {
    store::ToProto(c, msg.add_checks());
  }
  msg.set_skip_node_update(cmd.skip_node_update);
  return Wrap(MessageType::kRegister, msg);
}

std::string EncodeDeregister(const structs::DeregisterCommand& cmd) {
  pb::Deregister msg;
  msg.set_node(cmd.node);
  msg.set_ns(cmd.ns);
  msg.set_service_id(cmd.service_id);
  msg.set_check_id(cmd.check_id);
  return Wrap(MessageType::kDeregister, msg);
}

std::string EncodeUpdateCheck(const structs::UpdateCheckCommand& cmd) {
  pb::UpdateCheck msg;
  msg.set_node(cmd.node);
  msg.set_check_id(cmd.check_id);
  msg.set_status(static_cast<uint32_t>(cmd.status));
  msg.set_output(cmd.output);
  return Wrap(MessageType::kUpdateCheck, msg);
}

std::string EncodeSetServiceEnabled(
    const structs::SetServiceEnabledCommand& cmd) {
  pb::SetServiceEnabled msg;
  msg.set_node(cmd.node);
  msg.set_ns(cmd.ns);
  msg.set_service_id(cmd.service_id);
  msg.set_enabled(cmd.enabled);
  return Wrap(MessageType::kSetServiceEnabled, msg);
}

std::string EncodeKv(const structs::KvCommand& cmd) {
  pb::Kv msg;
  msg.set_op(static_cast<uint32_t>(cmd.op));
  store::ToProto(cmd.entry, msg.mutable_entry());
  return Wrap(MessageType::kKv, msg);
}

Result<std::string> EncodeRestore(std::string_view fsm_snapshot) {
  auto too_large = [&fsm_snapshot] {
    return "the state is " + std::to_string(fsm_snapshot.size()) + " bytes";
  };
  if (fsm_snapshot.size() > kMaxRestoreSnapshotBytes) {
    return Status(Code::kTooLarge,
                  too_large() + ", over the " +
                      std::to_string(kMaxRestoreSnapshotBytes) +
                      "-byte limit of a restore");
  }
  std::string deflated(compressBound(fsm_snapshot.size()), '\0');
  uLongf out_len = deflated.size();
  // Level 1: registry state is repetitive, so even the fastest level
  // shrinks it about tenfold.
  if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &out_len,
                reinterpret_cast<const Bytef*>(fsm_snapshot.data()),
                fsm_snapshot.size(), 1) != Z_OK) {
    return Status(Code::kInternal, "restore: compressing the state failed");
  }
  deflated.resize(out_len);
  pb::Restore msg;
  msg.set_deflated(std::move(deflated));
  msg.set_snapshot_size(fsm_snapshot.size());
  std::string entry = Wrap(MessageType::kRestore, msg);
  if (entry.size() > kMaxRestoreEntryBytes) {
    return Status(Code::kTooLarge,
                  too_large() + " and " + std::to_string(entry.size()) +
                      " compressed, over the " +
                      std::to_string(kMaxRestoreEntryBytes) +
                      "-byte limit of a restore entry");
  }
  return entry;
}

std::string EncodeBatch(const std::vector<std::string>& entries) {
  pb::Batch msg;
  for (const std::string& e : entries) msg.add_entries(e);
  return Wrap(MessageType::kBatch, msg);
}

Result<std::vector<std::string>> DecodeBatchPayload(std::string_view p) {
  pb::Batch msg;
  if (!store::ParseProto(p, &msg)) return Malformed("batch");
  std::vector<std::string> entries;
  entries.reserve(msg.entries_size());
  for (std::string& e : *msg.mutable_entries()) entries.push_back(std::move(e));
  return entries;
}

std::string EncodeKvReapTombstones(uint64_t up_to_index) {
  pb::KvReapTombstones msg;
  msg.set_up_to_index(up_to_index);
  return Wrap(MessageType::kKvReapTombstones, msg);
}

std::string EncodeSessionCreate(const structs::SessionCreateCommand& cmd) {
  pb::SessionCreate msg;
  store::ToProto(cmd.session, msg.mutable_session());
  return Wrap(MessageType::kSessionCreate, msg);
}

std::string EncodeSessionDestroy(const structs::SessionDestroyCommand& cmd) {
  pb::SessionDestroy msg;
  msg.set_id(cmd.id);
  return Wrap(MessageType::kSessionDestroy, msg);
}

std::string EncodeTxn(const structs::TxnCommand& cmd) {
  pb::Txn msg;
  for (const structs::TxnKvOp& op : cmd.ops) {
    pb::TxnKvOp* pop = msg.add_ops();
    pop->set_verb(static_cast<uint32_t>(op.verb));
    store::ToProto(op.entry, pop->mutable_entry());
  }
  return Wrap(MessageType::kTxn, msg);
}

std::string EncodeTxnResult(const structs::TxnResult& result) {
  pb::TxnResult msg;
  for (const structs::KvEntry& e : result.results) {
    store::ToProto(e, msg.add_results());
  }
  for (const structs::TxnError& e : result.errors) {
    pb::TxnError* pe = msg.add_errors();
    pe->set_op_index(e.op_index);
    pe->set_what(e.what);
  }
  return store::SerializeDeterministic(msg);
}

Result<structs::TxnResult> DecodeTxnResult(std::string_view payload) {
  pb::TxnResult msg;
  if (!store::ParseProto(payload, &msg)) return Malformed("txn result");
  structs::TxnResult out;
  for (const auto& e : msg.results()) out.results.push_back(store::FromProto(e));
  for (const auto& e : msg.errors()) {
    out.errors.push_back(
        {.op_index = static_cast<size_t>(e.op_index()), .what = e.what()});
  }
  return out;
}

Result<Entry> DecodeEntry(std::string_view entry) {
  pb::Envelope env;
  if (!store::ParseProto(entry, &env)) return Malformed("envelope");
  return Entry{env.type(), std::move(*env.mutable_payload())};
}

Result<structs::RegisterCommand> DecodeRegisterPayload(std::string_view p) {
  pb::Register msg;
  if (!store::ParseProto(p, &msg)) return Malformed("register");
  structs::RegisterCommand cmd;
  cmd.node = store::FromProto(msg.node());
  if (msg.has_service()) cmd.service = store::FromProto(msg.service());
  cmd.checks.reserve(msg.checks_size());
  for (const auto& c : msg.checks()) cmd.checks.push_back(store::FromProto(c));
  cmd.skip_node_update = msg.skip_node_update();
  return cmd;
}

Result<structs::DeregisterCommand> DecodeDeregisterPayload(std::string_view p) {
  pb::Deregister msg;
  if (!store::ParseProto(p, &msg)) return Malformed("deregister");
  structs::DeregisterCommand cmd;
  cmd.node = msg.node();
  cmd.ns = msg.ns();
  cmd.service_id = msg.service_id();
  cmd.check_id = msg.check_id();
  return cmd;
}

Result<structs::UpdateCheckCommand> DecodeUpdateCheckPayload(
    std::string_view p) {
  pb::UpdateCheck msg;
  if (!store::ParseProto(p, &msg)) return Malformed("update-check");
  structs::UpdateCheckCommand cmd;
  cmd.node = msg.node();
  cmd.check_id = msg.check_id();
  // Out-of-range values stay out of range; the store refuses them.
  cmd.status = static_cast<structs::HealthStatus>(
      msg.status() > 0xff ? 0xff : msg.status());
  cmd.output = msg.output();
  return cmd;
}

Result<structs::SetServiceEnabledCommand> DecodeSetServiceEnabledPayload(
    std::string_view p) {
  pb::SetServiceEnabled msg;
  if (!store::ParseProto(p, &msg)) return Malformed("set-service-enabled");
  structs::SetServiceEnabledCommand cmd;
  cmd.node = msg.node();
  cmd.ns = msg.ns();
  cmd.service_id = msg.service_id();
  cmd.enabled = msg.enabled();
  return cmd;
}

Result<structs::KvCommand> DecodeKvPayload(std::string_view p) {
  pb::Kv msg;
  if (!store::ParseProto(p, &msg)) return Malformed("kv");
  structs::KvCommand cmd;
  // Out-of-range values stay out of range; the store refuses them.
  cmd.op = static_cast<structs::KvOp>(msg.op() > 0xff ? 0xff : msg.op());
  cmd.entry = store::FromProto(msg.entry());
  return cmd;
}

Result<std::string> DecodeRestorePayload(std::string_view p) {
  pb::Restore msg;
  if (!store::ParseProto(p, &msg)) return Malformed("restore");
  if (msg.deflated().empty()) return std::move(*msg.mutable_snapshot());
  if (msg.snapshot_size() > kMaxRestoreSnapshotBytes) {
    return Malformed("restore (state size out of range)");
  }
  std::string out(msg.snapshot_size(), '\0');
  if (out.empty()) return out;
  uLongf out_len = out.size();
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &out_len,
                 reinterpret_cast<const Bytef*>(msg.deflated().data()),
                 msg.deflated().size()) != Z_OK ||
      out_len != out.size()) {
    return Malformed("restore (compressed state does not inflate)");
  }
  return out;
}

Result<uint64_t> DecodeKvReapTombstonesPayload(std::string_view p) {
  pb::KvReapTombstones msg;
  if (!store::ParseProto(p, &msg)) return Malformed("kv-reap-tombstones");
  return msg.up_to_index();
}

Result<structs::SessionCreateCommand> DecodeSessionCreatePayload(
    std::string_view p) {
  pb::SessionCreate msg;
  if (!store::ParseProto(p, &msg)) return Malformed("session-create");
  return structs::SessionCreateCommand{store::FromProto(msg.session())};
}

Result<structs::SessionDestroyCommand> DecodeSessionDestroyPayload(
    std::string_view p) {
  pb::SessionDestroy msg;
  if (!store::ParseProto(p, &msg)) return Malformed("session-destroy");
  return structs::SessionDestroyCommand{msg.id()};
}

Result<structs::TxnCommand> DecodeTxnPayload(std::string_view p) {
  pb::Txn msg;
  if (!store::ParseProto(p, &msg)) return Malformed("txn");
  structs::TxnCommand cmd;
  cmd.ops.reserve(msg.ops_size());
  for (const auto& pop : msg.ops()) {
    structs::TxnKvOp op;
    op.verb = static_cast<structs::TxnKvVerb>(
        pop.verb() > 0xff ? 0xff : pop.verb());
    op.entry = store::FromProto(pop.entry());
    cmd.ops.push_back(std::move(op));
  }
  return cmd;
}

Result<structs::RegisterCommand> DecodeRegister(std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p, Unwrap(entry, MessageType::kRegister));
  return DecodeRegisterPayload(p);
}

Result<structs::DeregisterCommand> DecodeDeregister(std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p,
                         Unwrap(entry, MessageType::kDeregister));
  return DecodeDeregisterPayload(p);
}

Result<structs::UpdateCheckCommand> DecodeUpdateCheck(std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p,
                         Unwrap(entry, MessageType::kUpdateCheck));
  return DecodeUpdateCheckPayload(p);
}

Result<structs::SetServiceEnabledCommand> DecodeSetServiceEnabled(
    std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p,
                         Unwrap(entry, MessageType::kSetServiceEnabled));
  return DecodeSetServiceEnabledPayload(p);
}

Result<structs::KvCommand> DecodeKv(std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p, Unwrap(entry, MessageType::kKv));
  return DecodeKvPayload(p);
}

Result<structs::SessionCreateCommand> DecodeSessionCreate(
    std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p,
                         Unwrap(entry, MessageType::kSessionCreate));
  return DecodeSessionCreatePayload(p);
}

Result<structs::SessionDestroyCommand> DecodeSessionDestroy(
    std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p,
                         Unwrap(entry, MessageType::kSessionDestroy));
  return DecodeSessionDestroyPayload(p);
}

Result<structs::TxnCommand> DecodeTxn(std::string_view entry) {
  SIDER_ASSIGN_OR_RETURN(std::string p, Unwrap(entry, MessageType::kTxn));
  return DecodeTxnPayload(p);
}

}  // namespace sider::fsm
