// Router: maps (method, path) to a Handler.
//
// Patterns are exact paths ("/v1/status/leader") or prefixes ending in "/*"
// ("/v1/kv/*"): a prefix matches every path that starts with the part before
// '*', and the rest of the path (possibly empty) is the request's Param().
// An exact pattern beats a prefix; among prefixes the longest wins. A path
// that matches no pattern is answered 404; a path whose pattern exists but
// not for the request's method is answered 405 with an Allow header. The
// router follows whatever methods the caller registers (Consul accepts some
// writes as GET; register them that way).
//
// Threading: Add() only while building, before the server starts. After
// that the Router is immutable and Dispatch() may run on any number of
// threads at once. The Router must outlive every Server using it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/http.h"

namespace sider::http {

class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registering the same (method, pattern) twice replaces the handler.
  void Add(std::vector<Method> methods, std::string pattern, Handler h);

  // Calls the matching handler with `req` (Param() set), or answers 404/405
  // through `respond` itself.
  void Dispatch(Request req, Responder respond) const;

 private:
  struct Route {
    std::string pattern;  // Without the trailing '*' for prefixes.
    bool prefix = false;
    // Indexed by Method; an empty Handler means "not registered".
    Handler by_method[static_cast<size_t>(Method::kOther) + 1];
    std::string allow;  // "GET, PUT", for 405 answers.
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };

  static void AddTo(Route* route, const std::vector<Method>& methods,
                    const Handler& h);
  const Route* Match(std::string_view path) const;

  std::unordered_map<std::string, Route, StringHash, std::equal_to<>> exact_;
  std::vector<Route> prefixes_;  // Longest first.
};

}  // namespace sider::http
