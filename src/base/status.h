// Status and Result<T>: how every fallible operation in the server reports
// failure. A function that can fail returns Status (no value) or Result<T>
// (a T or a non-OK Status). Exceptions never cross a module boundary; code
// that calls a throwing library (nlohmann::json, Boost) catches at that call
// site and converts to Status there.
//
// Thread safety: both types are values; const methods may be called
// concurrently, like any std::string.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace sider {

// Codes are part of the HTTP contract (see http/errors.cc for the mapping),
// so add new ones at the end and never renumber.
enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,  // The request is malformed. Not retryable.
  kNotFound,
  kFailedPrecondition,  // CAS index mismatch; lock held by another session.
  kPermissionDenied,
  kUnavailable,  // No leader, or shutting down. Retryable.
  kDeadlineExceeded,
  kInternal,  // A broken invariant: a bug. Log it loudly.
  kDataLoss,  // Corrupt snapshot or log entry.
  kOutcomeUnknown,  // Leadership lost mid-write: it may or may not commit.
  kTooLarge,        // A body or value over its size limit (HTTP 413).
  kConflict,        // A transaction or CAS that lost (HTTP 409 where Consul uses it).
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-OK Status; it never holds an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : rep_(std::move(value)) {}  // NOLINT: implicit on purpose.
  Result(Status status) : rep_(std::move(status)) {  // NOLINT: likewise.
    assert(!std::get<Status>(rep_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(rep_); }

  // Returns OK if this holds a value.
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }

  // REQUIRES: ok().
  const T& value() const& { return std::get<T>(rep_); }
  T& value() & { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace sider

// Propagates a non-OK Status to the caller.
#define SIDER_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::sider::Status sider_status_ = (expr);        \
    if (!sider_status_.ok()) return sider_status_; \
  } while (false)

// `SIDER_ASSIGN_OR_RETURN(auto entry, ParseEntry(body));` declares `entry`
// from a Result, or returns its Status from the enclosing function.
#define SIDER_CONCAT_INNER_(a, b) a##b
#define SIDER_CONCAT_(a, b) SIDER_CONCAT_INNER_(a, b)
#define SIDER_ASSIGN_OR_RETURN(lhs, expr) \
  SIDER_ASSIGN_OR_RETURN_IMPL_(SIDER_CONCAT_(sider_result_, __LINE__), lhs, expr)
#define SIDER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
