// Query filters shared by catalog and health handlers: repeated ?tag= and
// ?node-meta=key:value.
//
// Thread safety: free functions over values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/http.h"
#include "store/catalog_store.h"

namespace sider::http::handlers {

using NodeMeta = std::vector<std::pair<std::string, std::string>>;

// ?node-meta=k:v (repeated). A value without ':' is a key with an empty
// value, as Consul parses it.
NodeMeta ParseNodeMeta(const Request& req);
bool NodeMetaMatches(const structs::Node& node, const NodeMeta& meta);

// ?tag= (repeated) and ?node-meta=.
Result<store::ServiceFilter> ParseServiceFilter(const Request& req);

}  // namespace sider::http::handlers
