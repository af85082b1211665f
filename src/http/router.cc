#include "http/router.h"

#include <algorithm>
#include <utility>

namespace sider::http {

void Router::AddTo(Route* route, const std::vector<Method>& methods,
                   const Handler& h) {
  for (Method m : methods) route->by_method[static_cast<size_t>(m)] = h;
  route->allow.clear();
  for (size_t i = 0; i <= static_cast<size_t>(Method::kOther); ++i) {
    if (!route->by_method[i]) continue;
    if (!route->allow.empty()) route->allow += ", ";
    route->allow += MethodName(static_cast<Method>(i));
  }
}

void Router::Add(std::vector<Method> methods, std::string pattern,
                 Handler h) {
  const bool prefix = pattern.size() >= 2 &&
                      pattern.compare(pattern.size() - 2, 2, "/*") == 0;
  if (!prefix) {
    Route& route = exact_[pattern];
    route.pattern = std::move(pattern);
    AddTo(&route, methods, h);
    return;
  }
  pattern.pop_back();  // Keep the '/': "/v1/kv/*" matches "/v1/kv/...".
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const Route& r) { return r.pattern == pattern; });
  if (it == prefixes_.end()) {
    Route& added = prefixes_.emplace_back();
    added.pattern = std::move(pattern);
    added.prefix = true;
    it = prefixes_.end() - 1;
  }
  AddTo(&*it, methods, h);
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const Route& a, const Route& b) {
                     return a.pattern.size() > b.pattern.size();
                   });
}

const Router::Route* Router::Match(std::string_view path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
  for (const Route& r : prefixes_) {
    if (path.starts_with(r.pattern)) return &r;
  }
  return nullptr;
}

void Router::Dispatch(Request req, Responder respond) const {
  const Route* route = Match(req.path);
  if (route == nullptr) {
    // Go's ServeMux text, which Consul returns for unknown paths.
    respond(TextResponse(404, "404 page not found\n"));
    return;
  }
  const Handler& h = route->by_method[static_cast<size_t>(req.method)];
  if (!h) {
    Response r = TextResponse(
        405, "method " + std::string(MethodName(req.method)) +
                 " not allowed\n");
    r.SetHeader("Allow", route->allow);
    respond(std::move(r));
    return;
  }
  req.param_pos = route->prefix ? route->pattern.size() : std::string::npos;
  h(std::move(req), std::move(respond));
}

}  // namespace sider::http
