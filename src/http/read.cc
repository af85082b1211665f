#include "http/read.h"

#include <charconv>

#include "base/duration.h"
#include "server/cluster_info.h"

namespace sider::http {
std::string RequestNamespace(const Request& req) {
  auto ns = req.Get("ns");
  return ns && !ns->empty() ? *ns : std::string("default");
}

Result<ReadParams> ParseReadParams(const Request& req) {
  ReadParams p;
  if (auto index = req.Get("index")) {
    const char* b = index->data();
    const char* e = b + index->size();
    auto [ptr, ec] = std::from_chars(b, e, p.index);
    if (index->empty() || ec != std::errc() || ptr != e) {
      return Status(Code::kInvalidArgument, "Invalid index");
    }
  }
  std::chrono::nanoseconds wait{0};  // 0: Consul's default applies.
  if (auto w = req.Get("wait")) {
    auto parsed = ParseGoDuration(*w);
    if (!parsed.ok()) {
      return Status(Code::kInvalidArgument, "Invalid wait time");
    }
    wait = *parsed;
  }
  p.wait = server::BlockingTimeout(wait);
  p.stale = req.Has("stale");
  p.consistent = req.Has("consistent");
  if (p.stale && p.consistent) {
    return Status(Code::kInvalidArgument,
                  "Cannot specify ?stale with ?consistent, conflicting "
                  "semantics.");
  }
  p.ns = RequestNamespace(req);
  return p;
}

void SetIndexHeader(Response& r, uint64_t index) {
  r.SetHeader("X-Consul-Index", std::to_string(index == 0 ? 1 : index));
}

void EnsureIndexHeader(Response& r, uint64_t index) {
  EnsureIndexHeader(r, [index] { return index; });
}

void EnsureIndexHeader(Response& r, const std::function<uint64_t()>& index) {
  for (const auto& [name, value] : r.headers) {
    if (name == "X-Consul-Index") return;
  }
  SetIndexHeader(r, index());
}

void AddClusterHeaders(const server::ClusterInfo& cluster, Response& r) {
  // A reply forwarded from the leader keeps the leader's view.
  for (const auto& [name, value] : r.headers) {
    if (name == "X-Consul-KnownLeader") return;
  }
  r.SetHeader("X-Consul-KnownLeader", cluster.KnownLeader() ? "true" : "false");
  r.SetHeader("X-Consul-LastContact", std::to_string(cluster.LastContactMs()));
}

}  // namespace sider::http
