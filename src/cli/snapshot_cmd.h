// `sider snapshot save|restore|inspect FILE` (docs/backup.md): backups of
// the whole state through GET / PUT /v1/snapshot, verified on this side
// too (fsm/archive.h: SHA-256, then a full decode of the state).
//
// Threading: main thread of the CLI process; output to stdout/stderr.
// Each returns the process exit code: 0 ok, 1 on any error (the server's,
// the connection's, the file's or a corrupt archive), with a message on
// stderr. A failed save leaves no file behind (written to FILE.tmp and
// renamed once verified).
#pragma once

#include <string>

namespace sider::cli {

// "Saved and verified snapshot to index N". `stale`: any server may answer
// from its own state (?stale) instead of the leader.
int SnapshotSave(const std::string& http_addr, const std::string& file,
                 bool stale);
// "Restored snapshot" once every server has applied it.
int SnapshotRestore(const std::string& http_addr, const std::string& file);
// Index, term, creation time, size, state hash and rows per table.
int SnapshotInspect(const std::string& file);

}  // namespace sider::cli
