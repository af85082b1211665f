// Raft log entry encoding for catalog, KV, session and txn commands, and
// the encoding of a transaction's reply (ApplyResult::payload). An entry is a protobuf
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
#include <vector>

#include "base/status.h"
#include "structs/catalog.h"
#include "structs/kv.h"

namespace sider::fsm {

// Stored in the Raft log: append only, never renumber or reuse. A switch on
// it has no default, so adding one here flags every switch to update.
enum class MessageType : uint32_t {
  kRegister = 1,
  kDeregister = 2,
  kUpdateCheck = 3,
  kSetServiceEnabled = 4,
  // 5..15: the KV store.
  kKv = 5,                // structs::KvCommand (every /v1/kv write).
  kKvReapTombstones = 6,  // Leader-driven tombstone GC (an up-to index).
  // 7..15 reserved for the KV store.
  // 16..23: sessions. (Renewal is leader memory, never a log entry.)
  kSessionCreate = 16,
  kSessionDestroy = 17,  // Also the leader's TTL expiry.
  // 18..23 reserved for sessions.
  kTxn = 24,
  // Whole-state restore: the payload is an Fsm::Snapshot() (framed and
  // CRC'd), installed in place of everything (PUT /v1/snapshot).
  kRestore = 25,
  // Several of the entries above, committed as one log entry (consensus
  // packs proposals that arrive together): applied in order at the one
  // raft_index, and seen by readers all at once. Never nested.
  kBatch = 26,
};

// What each type's ApplyResult carries, on every replica alike:
//  * kKv: status OK and payload "true" / "false" (Consul's PUT / DELETE
//    reply), or a non-OK status (bad key, missing or invalid session,
//    oversized value) and an empty payload;
//  * kTxn: status OK and payload EncodeTxnResult(result) — results, or
//    errors with OpIndex (render 409) — or a non-OK status for a
//    malformed transaction (kTooLarge over 64 ops or 512 KiB values,
//    kInvalidArgument for a bad key);
//  * kRestore: OK, or kDataLoss for a snapshot that does not decode (and
//    then nothing changed); payload empty;
//  * kSessionCreate: the store's Status; kSessionDestroy, and
//    kKvReapTombstones: always OK. Payloads empty.
// Keys given up by session invalidations are reported through
// Fsm::SetReleasedLocksObserver, not the payload.

std::string EncodeRegister(const structs::RegisterCommand& cmd);
std::string EncodeDeregister(const structs::DeregisterCommand& cmd);
std::string EncodeUpdateCheck(const structs::UpdateCheckCommand& cmd);
std::string EncodeSetServiceEnabled(
    const structs::SetServiceEnabledCommand& cmd);
std::string EncodeKv(const structs::KvCommand& cmd);
std::string EncodeKvReapTombstones(uint64_t up_to_index);
std::string EncodeSessionCreate(const structs::SessionCreateCommand& cmd);
std::string EncodeSessionDestroy(const structs::SessionDestroyCommand& cmd);
std::string EncodeTxn(const structs::TxnCommand& cmd);
// `fsm_snapshot` is an Fsm::Snapshot(); the entry carries it compressed
// (zlib), so that a restore fits in one log entry. kTooLarge if the state
// is over kMaxRestoreSnapshotBytes or the entry over kMaxRestoreEntryBytes.
Result<std::string> EncodeRestore(std::string_view fsm_snapshot);

// The largest kRestore entry. libraft's disk log refuses any append batch
// over one segment (8 MiB by default), and a lagging follower receives the
// entry batched with its neighbours, so the entry stays well under that;
// the proposer refuses bigger ones (kTooLarge) before anything reaches
// Raft. Registry state compresses about 10:1, so this admits states of
// tens of MiB.
inline constexpr size_t kMaxRestoreEntryBytes = 6u << 20;
// The largest state (uncompressed) a restore accepts.
inline constexpr size_t kMaxRestoreSnapshotBytes = 1u << 30;

// A kBatch entry of `entries` (each an entry of another type), and its
// payload decoded back into them.
std::string EncodeBatch(const std::vector<std::string>& entries);
Result<std::vector<std::string>> DecodeBatchPayload(std::string_view p);

// The reply of a kTxn entry (ApplyResult::payload when status is OK).
std::string EncodeTxnResult(const structs::TxnResult& result);
Result<structs::TxnResult> DecodeTxnResult(std::string_view payload);

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
Result<structs::KvCommand> DecodeKvPayload(std::string_view p);
Result<uint64_t> DecodeKvReapTombstonesPayload(std::string_view p);
Result<structs::SessionCreateCommand> DecodeSessionCreatePayload(
    std::string_view p);
Result<structs::SessionDestroyCommand> DecodeSessionDestroyPayload(
    std::string_view p);
Result<structs::TxnCommand> DecodeTxnPayload(std::string_view p);
// The Fsm::Snapshot() a kRestore entry carries.
Result<std::string> DecodeRestorePayload(std::string_view p);

// Whole-entry decoders: kDataLoss also if the entry is of another type.
Result<structs::RegisterCommand> DecodeRegister(std::string_view entry);
Result<structs::DeregisterCommand> DecodeDeregister(std::string_view entry);
Result<structs::UpdateCheckCommand> DecodeUpdateCheck(std::string_view entry);
Result<structs::SetServiceEnabledCommand> DecodeSetServiceEnabled(
    std::string_view entry);
Result<structs::KvCommand> DecodeKv(std::string_view entry);
Result<structs::SessionCreateCommand> DecodeSessionCreate(
    std::string_view entry);
Result<structs::SessionDestroyCommand> DecodeSessionDestroy(
    std::string_view entry);
Result<structs::TxnCommand> DecodeTxn(std::string_view entry);

}  // namespace sider::fsm
