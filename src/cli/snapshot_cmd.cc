#include "cli/snapshot_cmd.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "base/status.h"
#include "cli/http_client.h"
#include "fsm/archive.h"
#include "fsm/fsm.h"

namespace sider::cli {
namespace {

constexpr auto kTimeout = std::chrono::minutes(5);

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad()) return Status(Code::kInternal, "cannot read " + path);
  return bytes;
}

// Writes `bytes` to path.tmp, then renames it over `path`.
Status WriteFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return Status(Code::kInternal, "cannot write " + tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status(Code::kInternal, "cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

// The archive, fully verified (checksum and state), or why not.
Result<fsm::Archive> Verify(std::string_view bytes) {
  SIDER_ASSIGN_OR_RETURN(fsm::Archive a, fsm::DecodeArchive(bytes));
  if (auto s = fsm::Fsm::Inspect(a.snapshot); !s.ok()) {
    return Status(Code::kDataLoss, "snapshot archive: corrupt state: " +
                                       s.status().message());
  }
  return a;
}

int Fail(const char* what, const std::string& why) {
  std::fprintf(stderr, "Error %s: %s\n", what, why.c_str());
  return 1;
}

std::string UtcTime(int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int SnapshotSave(const std::string& http_addr, const std::string& file,
                 bool stale) {
  auto r = HttpCall(http_addr, "GET", stale ? "/v1/snapshot?stale"
                                            : "/v1/snapshot",
                    "", kTimeout);
  if (!r.ok()) return Fail("saving snapshot", r.status().message());
  if (r->status != 200) {
    return Fail("saving snapshot", "Unexpected response code: " +
                                       std::to_string(r->status) + " (" +
                                       r->body + ")");
  }
  auto a = Verify(r->body);
  if (!a.ok()) return Fail("verifying snapshot", a.status().message());
  const uint64_t index = a->info.raft_index;
  if (Status s = WriteFile(file, r->body); !s.ok()) {
    return Fail("saving snapshot", s.message());
  }
  std::printf("Saved and verified snapshot to index %llu\n",
              static_cast<unsigned long long>(index));
  return 0;
}

int SnapshotRestore(const std::string& http_addr, const std::string& file) {
  auto bytes = ReadFile(file);
  if (!bytes.ok()) return Fail("reading snapshot", bytes.status().message());
  if (auto a = Verify(*bytes); !a.ok()) {
    return Fail("verifying snapshot", a.status().message());
  }
  auto r = HttpCall(http_addr, "PUT", "/v1/snapshot", *bytes, kTimeout);
  if (!r.ok()) return Fail("restoring snapshot", r.status().message());
  if (r->status != 200) {
    return Fail("restoring snapshot", "Unexpected response code: " +
                                          std::to_string(r->status) + " (" +
                                          r->body + ")");
  }
  std::printf("Restored snapshot\n");
  return 0;
}

int SnapshotInspect(const std::string& file) {
  auto bytes = ReadFile(file);
  if (!bytes.ok()) return Fail("reading snapshot", bytes.status().message());
  auto a = Verify(*bytes);
  if (!a.ok()) return Fail("verifying snapshot", a.status().message());
  const fsm::ArchiveInfo& i = a->info;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(i.state_hash));
  std::printf(" Index       %llu\n Term        %llu\n Created     %s\n",
              static_cast<unsigned long long>(i.raft_index),
              static_cast<unsigned long long>(i.term),
              UtcTime(i.created_at_unix_ms).c_str());
  std::printf(" Node        %s\n Version     %s\n", i.node.c_str(),
              i.version.c_str());
  std::printf(" Size        %llu bytes (state %llu bytes)\n State hash  %s\n",
              static_cast<unsigned long long>(i.archive_bytes),
              static_cast<unsigned long long>(i.snapshot_bytes), hash);
  std::printf("\n Table       Rows\n");
  for (const auto& [name, rows] : i.tables) {
    std::printf(" %-11s %llu\n", name.c_str(),
                static_cast<unsigned long long>(rows));
  }
  return 0;
}

}  // namespace sider::cli
