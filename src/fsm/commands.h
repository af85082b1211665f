// Raft log entry encoding for catalog commands. An entry is a protobuf
// Envelope {type, payload} (fsm/commands.proto); this header keeps the
// generated protobuf headers out of its includers.
//
// Encoders are called by the proposer (server/, any io thread); decoders by
// the FSM on the consensus thread, and by tests. All functions are pure and
// thread-safe. Decoders return kDataLoss for bytes that are not a valid
// entry of the expected type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "structs/catalog.h"

namespace sider::fsm {

// Stored in the Raft log: append only, never renumber or reuse. A switch on
// it has no default, so adding one here flags every switch to update.
enum class MessageType : uint32_t {
  kRegister = 1,
  kDeregister = 2,
  kUpdateCheck = 3,
  kSetServiceEnabled = 4,
  // 5..15 reserved for the KV store (set, cas, delete, delete-tree, lock),
  // 16..23 for sessions, 24 for transactions.
};

std::string EncodeRegister(const structs::RegisterCommand& cmd);
std::string EncodeDeregister(const structs::DeregisterCommand& cmd);
std::string EncodeUpdateCheck(const structs::UpdateCheckCommand& cmd);
std::string EncodeSetServiceEnabled(
    const structs::SetServiceEnabledCommand& cmd);

// An entry split into its type (possibly one this build does not know) and
// its still-encoded payload.
struct Entry {
  uint32_t type = 0;
  std::string payload;
};
Result<Entry> DecodeEntry(std::string_view entry);

// Payload decoders (for Entry::payload).
Result<structs::RegisterCommand> DecodeRegisterPayload(std::string_view p);
Result<structs::DeregisterCommand> DecodeDeregisterPayload(std::string_view p);
Result<structs::UpdateCheckCommand> DecodeUpdateCheckPayload(
    std::string_view p);
Result<structs::SetServiceEnabledCommand> DecodeSetServiceEnabledPayload(
    std::string_view p);

// Whole-entry decoders: kDataLoss also if the entry is of another type.
Result<structs::RegisterCommand> DecodeRegister(std::string_view entry);
Result<structs::DeregisterCommand> DecodeDeregister(std::string_view entry);
Result<structs::UpdateCheckCommand> DecodeUpdateCheck(std::string_view entry);
Result<structs::SetServiceEnabledCommand> DecodeSetServiceEnabled(
    std::string_view entry);

}  // namespace sider::fsm
