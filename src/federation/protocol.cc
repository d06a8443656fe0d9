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

namespace {

// ErrorCode ↔ StatusCode, one table both ways: set_error takes the first row
// with the error's code, response_error_code the first row with the status.
struct CodePair {
  ErrorCode error;
  pb::StatusCode status;
};
constexpr CodePair kCodes[] = {
    {ErrorCode::kInvalidArgument, pb::INVALID_ARGUMENT},
    {ErrorCode::kNotFound, pb::NOT_FOUND},
    {ErrorCode::kPermissionDenied, pb::PERMISSION_DENIED},
    {ErrorCode::kIo, pb::UNAVAILABLE},
    {ErrorCode::kClosed, pb::UNAVAILABLE},
    {ErrorCode::kReset, pb::UNAVAILABLE},
    {ErrorCode::kLimitExceeded, pb::LIMIT_EXCEEDED},
    {ErrorCode::kTimeout, pb::TIMEOUT},
    {ErrorCode::kUnsupported, pb::UNSUPPORTED},
    {ErrorCode::kInternal, pb::INTERNAL},
    {ErrorCode::kProtocol, pb::INTERNAL},
};

}  // namespace

void set_error(pb::FederationResponse& resp, const Error& e) {
  resp.set_error(e.message().empty() ? error_code_name(e.code()) : e.message());
  pb::StatusCode code = pb::INTERNAL;
  for (const auto& c : kCodes) {
    if (c.error == e.code()) {
      code = c.status;
      break;
    }
  }
  resp.set_code(code);
}

ErrorCode response_error_code(const pb::FederationResponse& resp) {
  for (const auto& c : kCodes) {
    if (c.status == resp.code()) return c.error;
  }
  return ErrorCode::kInternal;  // STATUS_UNSPECIFIED: an older peer
}

}  // namespace syndb::federation
