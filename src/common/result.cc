#include "common/result.h"

namespace syndb {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kProtocol: return "protocol error";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kClosed: return "closed";
    case ErrorCode::kReset: return "reset";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kLimitExceeded: return "limit exceeded";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Error::to_string() const { return std::string(error_code_name(code_)) + ": " + message_; }

}  // namespace syndb
