#include "http/handlers/filters.h"

namespace sider::http::handlers {

NodeMeta ParseNodeMeta(const Request& req) {
  NodeMeta out;
  for (const std::string& kv : req.GetAll("node-meta")) {
    const auto colon = kv.find(':');
    if (colon == std::string::npos) {
      out.emplace_back(kv, "");
    } else {
      out.emplace_back(kv.substr(0, colon), kv.substr(colon + 1));
    }
  }
  return out;
}

bool NodeMetaMatches(const structs::Node& node, const NodeMeta& meta) {
  for (const auto& [k, v] : meta) {
    auto it = node.meta.find(k);
    if (it == node.meta.end() || it->second != v) return false;
  }
  return true;
}

Result<store::ServiceFilter> ParseServiceFilter(const Request& req) {
  store::ServiceFilter f;
  f.tags = req.GetAll("tag");
  f.node_meta = ParseNodeMeta(req);
  return f;
}

}  // namespace sider::http::handlers
