// Result<T> and Status: the one error type of the code base.
//
// Every fallible call returns a Result<T> (a value or an Error) or a Status
// (Result<void>). Nothing is thrown on the wire or data path; peer input that
// does not parse becomes an Error with a code and a message that says what and
// where. Thread-safety: plain values, no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace syndb {

enum class ErrorCode {
  kInvalidArgument,   // bad input from a user or a caller
  kProtocol,          // a peer broke a wire format or protocol rule
  kIo,                // socket or file error
  kTimeout,           // a deadline passed
  kClosed,            // the other side closed (EOF where more was needed)
  kReset,             // stream or connection reset
  kPermissionDenied,  // authentication or authorisation failed
  kNotFound,
  kLimitExceeded,     // a configured bound (size, count) was hit
  kUnsupported,       // e.g. protocol not supported by the peer ("na")
  kInternal,
};

const char* error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<message>" prefixed by context: Error(kIo, "eof").wrap("noise") -> "noise: eof".
  Error wrap(const std::string& context) const { return Error(code_, context + ": " + message_); }
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace syndb

#define SYNDB_CONCAT_INNER(a, b) a##b
#define SYNDB_CONCAT(a, b) SYNDB_CONCAT_INNER(a, b)

// Evaluates expr (a Result or Status); returns its Error from the enclosing
// function when it failed.
#define SYNDB_RETURN_IF_ERROR(expr)                      \
  do {                                                   \
    auto&& syndb_status_ = (expr);                       \
    if (!syndb_status_.ok()) return syndb_status_.error(); \
  } while (0)

// SYNDB_ASSIGN_OR_RETURN(auto x, f()): binds the value or returns the Error.
#define SYNDB_ASSIGN_OR_RETURN(lhs, expr)                                  \
  auto SYNDB_CONCAT(syndb_result_, __LINE__) = (expr);                     \
  if (!SYNDB_CONCAT(syndb_result_, __LINE__).ok())                         \
    return SYNDB_CONCAT(syndb_result_, __LINE__).error();                  \
  lhs = std::move(SYNDB_CONCAT(syndb_result_, __LINE__)).value()

// Coroutine forms of the two macros above (co_return instead of return).
#define SYNDB_CO_RETURN_IF_ERROR(expr)                      \
  do {                                                      \
    auto syndb_status_ = (expr);                            \
    if (!syndb_status_.ok()) co_return syndb_status_.error(); \
  } while (0)

#define SYNDB_CO_ASSIGN_OR_RETURN(lhs, expr)                               \
  auto SYNDB_CONCAT(syndb_result_, __LINE__) = (expr);                     \
  if (!SYNDB_CONCAT(syndb_result_, __LINE__).ok())                         \
    co_return SYNDB_CONCAT(syndb_result_, __LINE__).error();               \
  lhs = std::move(SYNDB_CONCAT(syndb_result_, __LINE__)).value()
