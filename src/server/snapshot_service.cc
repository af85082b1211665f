#include "server/snapshot_service.h"

#include <chrono>
#include <memory>
#include <utility>

#include "consensus/raft_node.h"
#include "fsm/archive.h"
#include "fsm/commands.h"
#include "fsm/fsm.h"

namespace sider::server {
namespace {

int64_t SystemWallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the consensus thread hands back.
struct Taken {
  std::string snapshot;
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t hash = 0;
};

Status Invalid(const Status& s) {
  return Status(Code::kInvalidArgument, std::string(s.message()));
}

}  // namespace

SnapshotService::SnapshotService(asio::any_io_executor executor,
                                 consensus::RaftNode& raft, fsm::Fsm& fsm,
                                 Options options)
    : executor_(std::move(executor)),
      raft_(raft),
      fsm_(fsm),
      options_(std::move(options)) {}

void SnapshotService::Save(std::function<void(Result<Saved>)> done) {
  auto taken = std::make_shared<Taken>();
  raft_.RunOnConsensusThread(
      [taken, &fsm = fsm_](uint64_t index, uint64_t term) {
        taken->snapshot = fsm.Snapshot();
        taken->index = index;
        taken->term = term;
      },
      executor_,
      [this, taken, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        // Off the consensus thread: count the rows (a full decode, which
        // also proves the archive will restore).
        Result<fsm::SnapshotSummary> summary =
            fsm::Fsm::Inspect(taken->snapshot);
        if (!summary.ok()) {
          return done(Status(Code::kInternal,
                             "snapshot does not decode: " +
                                 std::string(summary.status().message())));
        }
        fsm::ArchiveInfo info;
        info.raft_index = taken->index;
        info.term = taken->term;
        info.created_at_unix_ms =
            options_.wall_ms ? options_.wall_ms() : SystemWallMs();
        info.tables = fsm::TableCounts(*summary);
        info.state_hash = fsm::Fsm::StateHashOf(taken->snapshot);
        info.node = options_.node;
        info.version = options_.version;
        done(Saved{fsm::EncodeArchive(info, taken->snapshot), taken->index});
      });
}

void SnapshotService::Restore(std::string archive,
                              std::function<void(Status)> done) {
  Result<fsm::Archive> a = fsm::DecodeArchive(archive);
  if (!a.ok()) return done(Invalid(a.status()));
  if (Result<fsm::SnapshotSummary> s = fsm::Fsm::Inspect(a->snapshot);
      !s.ok()) {
    return done(Status(Code::kInvalidArgument,
                       "snapshot archive: corrupt state: " +
                           std::string(s.status().message())));
  }
  Result<std::string> entry = fsm::EncodeRestore(a->snapshot);
  if (!entry.ok()) {
    return done(Status(entry.status().code(),
                       "snapshot archive: " +
                           std::string(entry.status().message()) +
                           " (see docs/backup.md)"));
  }
  std::string().swap(archive);
  raft_.Propose(*std::move(entry), executor_,
                [this, done = std::move(done)](fsm::ApplyResult r) {
                  if (r.status.code() == Code::kDataLoss) {
                    return done(Invalid(r.status));
                  }
                  if (r.status.ok() && options_.on_restored) {
                    options_.on_restored();
                  }
                  done(std::move(r.status));
                });
}

void SnapshotService::Hash(std::function<void(Result<StateHash>)> done) {
  auto out = std::make_shared<StateHash>();
  raft_.RunOnConsensusThread(
      [out, &fsm = fsm_](uint64_t index, uint64_t) {
        out->index = index;
        out->hash = fsm.StateHash();
      },
      executor_, [out, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(*out);
      });
}

}  // namespace sider::server
