#include "federation/protocol.h"

#include <spdlog/spdlog.h>

#include "p2p/host/request_response.h"

namespace syndb::federation {

using namespace syndb::p2p;

namespace {

RequestResponseConfig federation_config(uint32_t timeout_ms) {
  RequestResponseConfig c;
  c.protocol = std::string(kFederationProtocol);
  c.max_request = kMaxMessage;
  c.max_response = kMaxMessage;
  c.timeout_ms = timeout_ms;
  return c;
}

}  // namespace

void serve_federation(Host& host, const Membership& membership, RequestHandler handler, uint32_t timeout_ms) {
  auto gate = [&membership](const Connection& conn) {
    if (membership.admits(conn.remote_peer)) return true;
    spdlog::warn("federation: refusing {}: not admitted to federation '{}'", conn.remote_peer.to_string(),
                 membership.name());
    return false;
  };
  auto answer = [handler](Bytes body, const Connection& conn) -> Task<Result<Bytes>> {
    pb::FederationRequest req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      spdlog::info("federation: bad request from {}: malformed protobuf", conn.remote_peer.to_string());
      co_return Error(ErrorCode::kProtocol, "malformed federation request");
    }
    pb::FederationResponse resp = co_await handler(req, conn);
    resp.set_version(kProtocolVersion);
    const std::string out = resp.SerializeAsString();
    co_return Bytes(out.begin(), out.end());
  };
  serve_requests(host, federation_config(timeout_ms), answer, gate);
}

Task<Result<pb::FederationResponse>> federation_call(Host& host, std::shared_ptr<Connection> conn,
                                                     const pb::FederationRequest& request, uint32_t timeout_ms) {
  const std::string out = request.SerializeAsString();
  auto body = co_await send_request(host, conn, federation_config(timeout_ms), as_bytes(out), timeout_ms);
  if (!body.ok()) {
    // A peer that does not admit us resets the stream right after negotiation.
    const ErrorCode code = body.error().code();
    if (code == ErrorCode::kReset || code == ErrorCode::kClosed) {
      co_return Error(ErrorCode::kPermissionDenied, "peer refused the federation request (not admitted?)");
    }
    co_return body.error();
  }
  pb::FederationResponse resp;
  if (!resp.ParseFromArray(body->data(), static_cast<int>(body->size()))) {
    co_return Error(ErrorCode::kProtocol, "malformed federation response");
  }
  if (!resp.error().empty()) co_return Error(response_error_code(resp), "peer: " + resp.error());
  if (resp.unsupported()) co_return Error(ErrorCode::kUnsupported, "peer does not support this request");
  co_return resp;
}

void set_error(pb::FederationResponse& resp, const Error& e) {
  resp.set_error(e.message().empty() ? error_code_name(e.code()) : e.message());
  pb::StatusCode code = pb::INTERNAL;
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
      code = pb::INVALID_ARGUMENT;
      break;
    case ErrorCode::kNotFound:
      code = pb::NOT_FOUND;
      break;
    case ErrorCode::kPermissionDenied:
      code = pb::PERMISSION_DENIED;
      break;
    case ErrorCode::kIo:
    case ErrorCode::kClosed:
    case ErrorCode::kReset:
      code = pb::UNAVAILABLE;
      break;
    case ErrorCode::kLimitExceeded:
      code = pb::LIMIT_EXCEEDED;
      break;
    case ErrorCode::kTimeout:
      code = pb::TIMEOUT;
      break;
    case ErrorCode::kUnsupported:
      code = pb::UNSUPPORTED;
      break;
    case ErrorCode::kProtocol:
    case ErrorCode::kInternal:
      code = pb::INTERNAL;
      break;
  }
  resp.set_code(code);
}

ErrorCode response_error_code(const pb::FederationResponse& resp) {
  switch (resp.code()) {
    case pb::INVALID_ARGUMENT:
      return ErrorCode::kInvalidArgument;
    case pb::NOT_FOUND:
      return ErrorCode::kNotFound;
    case pb::PERMISSION_DENIED:
      return ErrorCode::kPermissionDenied;
    case pb::UNAVAILABLE:
      return ErrorCode::kIo;
    case pb::LIMIT_EXCEEDED:
      return ErrorCode::kLimitExceeded;
    case pb::TIMEOUT:
      return ErrorCode::kTimeout;
    case pb::UNSUPPORTED:
      return ErrorCode::kUnsupported;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace syndb::federation
