#include "server/kv_service.h"

#include <utility>

#include "consensus/raft_node.h"
#include "fsm/commands.h"
#include "server/lock_delay.h"

namespace sider::server {
namespace {

bool IsWrite(structs::TxnKvVerb v) {
  using V = structs::TxnKvVerb;
  switch (v) {
    case V::kSet: case V::kCas: case V::kLock: case V::kUnlock:
    case V::kDelete: case V::kDeleteTree: case V::kDeleteCas:
      return true;
    case V::kGet: case V::kGetTree: case V::kCheckIndex:
    case V::kCheckSession: case V::kCheckNotExists:
      return false;
  }
  return true;
}

bool TakesPrefix(structs::TxnKvVerb v) {
  return v == structs::TxnKvVerb::kGetTree ||
         v == structs::TxnKvVerb::kDeleteTree;
}

}  // namespace

Status KvService::ValueTooLarge(size_t size) {
  return Status(Code::kTooLarge,
                "Request body(" + std::to_string(size) +
                    " bytes) too large, max size: " +
                    std::to_string(structs::kMaxKvValueBytes) +
                    " bytes. See "
                    "https://developer.hashicorp.com/consul/docs/agent/"
                    "config/config-files#kv_max_value_size.");
}

Status KvService::TooManyOps(size_t count) {
  return Status(Code::kTooLarge,
                "Transaction contains too many operations (" +
                    std::to_string(count) + " > " +
                    std::to_string(structs::kMaxTxnOps) + ")");
}

void KvService::Apply(structs::KvCommand cmd, Done done) {
  const bool tree = cmd.op == structs::KvOp::kDeleteTree;
  Status valid = tree ? structs::ValidateKvPrefix(cmd.entry.key)
                      : structs::ValidateKvKey(cmd.entry.key);
  if (!valid.ok()) {
    done(std::move(valid));
    return;
  }
  if (cmd.entry.value.size() > structs::kMaxKvValueBytes) {
    done(ValueTooLarge(cmd.entry.value.size()));
    return;
  }
  if (cmd.op == structs::KvOp::kLock && !cmd.entry.session.empty() &&
      lock_delays_.Delayed(cmd.entry.key)) {
    done(false);  // Consul: "false" while the key is in its lock-delay.
    return;
  }
  raft_.Propose(fsm::EncodeKv(cmd), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    done(std::move(r.status));
                    return;
                  }
                  done(r.payload == "true");
                });
}

void KvService::Txn(std::vector<structs::TxnKvOp> ops, TxnDone done) {
  if (ops.size() > structs::kMaxTxnOps) {
    done(TooManyOps(ops.size()));
    return;
  }
  structs::TxnResult refused;
  for (size_t i = 0; i < ops.size(); ++i) {
    const structs::TxnKvOp& op = ops[i];
    Status valid = TakesPrefix(op.verb) ? structs::ValidateKvPrefix(op.entry.key)
                                        : structs::ValidateKvKey(op.entry.key);
    if (!valid.ok()) {
      done(Status(valid.code(),
                  "Ops[" + std::to_string(i) + "]: " + valid.message()));
      return;
    }
    if (IsWrite(op.verb) && op.entry.value.size() > structs::kMaxKvValueBytes) {
      done(Status(Code::kTooLarge,
                  "Value for key \"" + op.entry.key + "\" is too large (" +
                      std::to_string(op.entry.value.size()) + " > " +
                      std::to_string(structs::kMaxKvValueBytes) + " bytes)"));
      return;
    }
    if (op.verb == structs::TxnKvVerb::kLock &&
        lock_delays_.Delayed(op.entry.key)) {
      refused.errors.push_back(
          {i, "failed to lock key \"" + op.entry.key + "\" due to lock delay"});
    }
  }
  if (!refused.errors.empty()) {
    done(std::move(refused));
    return;
  }
  structs::TxnCommand cmd{std::move(ops)};
  raft_.Propose(fsm::EncodeTxn(cmd), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  if (!r.status.ok()) {
                    done(std::move(r.status));
                    return;
                  }
                  done(fsm::DecodeTxnResult(r.payload));
                });
}

}  // namespace sider::server
