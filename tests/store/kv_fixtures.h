// Builders for KV, session and txn commands used by the store and fsm
// tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "structs/kv.h"

namespace sider::testutil {

inline structs::KvEntry Kv(std::string key, std::string value = "",
                           uint64_t flags = 0) {
  structs::KvEntry e;
  e.key = std::move(key);
  e.value = std::move(value);
  e.flags = flags;
  return e;
}

inline structs::KvCommand KvSet(std::string key, std::string value,
                                uint64_t flags = 0) {
  return {.op = structs::KvOp::kSet, .entry = Kv(std::move(key), std::move(value), flags)};
}

inline structs::KvCommand KvCas(std::string key, std::string value,
                                uint64_t cas_index) {
  structs::KvCommand cmd{.op = structs::KvOp::kCas,
                         .entry = Kv(std::move(key), std::move(value))};
  cmd.entry.modify_index = cas_index;
  return cmd;
}

inline structs::KvCommand KvLock(std::string key, std::string session,
                                 std::string value = "") {
  structs::KvCommand cmd{.op = structs::KvOp::kLock,
                         .entry = Kv(std::move(key), std::move(value))};
  cmd.entry.session = std::move(session);
  return cmd;
}

inline structs::KvCommand KvUnlock(std::string key, std::string session,
                                   std::string value = "") {
  structs::KvCommand cmd{.op = structs::KvOp::kUnlock,
                         .entry = Kv(std::move(key), std::move(value))};
  cmd.entry.session = std::move(session);
  return cmd;
}

inline structs::KvCommand KvDelete(std::string key) {
  return {.op = structs::KvOp::kDelete, .entry = Kv(std::move(key))};
}

inline structs::KvCommand KvDeleteCas(std::string key, uint64_t cas_index) {
  structs::KvCommand cmd{.op = structs::KvOp::kDeleteCas,
                         .entry = Kv(std::move(key))};
  cmd.entry.modify_index = cas_index;
  return cmd;
}

inline structs::KvCommand KvDeleteTree(std::string prefix) {
  return {.op = structs::KvOp::kDeleteTree, .entry = Kv(std::move(prefix))};
}

inline structs::Session MakeSession(
    std::string id, std::string node, std::vector<std::string> node_checks = {},
    structs::SessionBehavior behavior = structs::SessionBehavior::kRelease) {
  structs::Session s;
  s.id = std::move(id);
  s.name = "s-" + s.id;
  s.node = std::move(node);
  s.node_checks = std::move(node_checks);
  s.behavior = behavior;
  return s;
}

inline structs::TxnKvOp Op(structs::TxnKvVerb verb, std::string key,
                           std::string value = "", uint64_t index = 0,
                           std::string session = "") {
  structs::TxnKvOp op;
  op.verb = verb;
  op.entry.key = std::move(key);
  op.entry.value = std::move(value);
  op.entry.modify_index = index;
  op.entry.session = std::move(session);
  return op;
}

}  // namespace sider::testutil
