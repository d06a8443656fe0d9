#include "federation/protocol.h"

#include <spdlog/spdlog.h>

#include "p2p/watchdog.h"

namespace syndb::federation {

using namespace syndb::p2p;

void serve_federation(Host& host, const Membership& membership, RequestHandler handler, uint32_t timeout_ms) {
  host.set_stream_handler(std::string(kFederationProtocol), [&host, &membership, handler, timeout_ms](
                                                                 NegotiatedStream ns) -> Task<void> {
    const PeerId& peer = ns.connection->remote_peer;
    if (!membership.admits(peer)) {
      spdlog::warn("federation: refusing {}: not admitted to federation '{}'", peer.to_string(), membership.name());
      ns.stream->reset();
      co_return;
    }
    Watchdog wd(host.io(), timeout_ms, ns.stream.get());
    auto body = co_await read_length_prefixed(*ns.stream, kMaxMessage);
    wd.disarm();
    pb::FederationRequest req;
    if (!body.ok() || !req.ParseFromArray(body->data(), static_cast<int>(body->size()))) {
      spdlog::info("federation: bad request from {}: {}", peer.to_string(),
                   body.ok() ? "malformed protobuf" : body.error().to_string());
      ns.stream->reset();
      co_return;
    }
    pb::FederationResponse resp = co_await handler(req, *ns.connection);
    resp.set_version(kProtocolVersion);
    std::string out = resp.SerializeAsString();
    Watchdog wd2(host.io(), timeout_ms, ns.stream.get());
    Status st = co_await write_length_prefixed(*ns.stream, as_bytes(out));
    if (st.ok()) st = co_await ns.stream->close_write();
    wd2.disarm();
    if (!st.ok()) ns.stream->reset();
  });
}

Task<Result<pb::FederationResponse>> federation_call(Host& host, std::shared_ptr<Connection> conn,
                                                     const pb::FederationRequest& request, uint32_t timeout_ms) {
  const std::vector<std::string> protos{std::string(kFederationProtocol)};
  auto start = std::chrono::steady_clock::now();
  auto opened = co_await host.new_stream(conn, protos, timeout_ms);
  if (!opened.ok()) {
    // A peer that does not admit us resets the stream right after negotiation.
    if (opened.error().code() == ErrorCode::kReset) {
      co_return Error(ErrorCode::kPermissionDenied, "peer refused the federation protocol (not admitted?)");
    }
    co_return opened.error();
  }
  auto ns = std::move(opened).value();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  uint32_t left = timeout_ms > elapsed.count() ? timeout_ms - static_cast<uint32_t>(elapsed.count()) : 1;
  Watchdog wd(host.io(), left, ns.stream.get());
  std::string out = request.SerializeAsString();
  Status st = co_await write_length_prefixed(*ns.stream, as_bytes(out));
  if (st.ok()) st = co_await ns.stream->close_write();
  Result<Bytes> body = Error(ErrorCode::kInternal, "");
  if (st.ok()) body = co_await read_length_prefixed(*ns.stream, kMaxMessage);
  wd.disarm();
  if (wd.fired()) {
    ns.stream->reset();
    co_return Error(ErrorCode::kTimeout, "no federation response within " + std::to_string(timeout_ms) + " ms");
  }
  if (!st.ok()) {
    ns.stream->reset();
    if (st.error().code() == ErrorCode::kReset) {
      co_return Error(ErrorCode::kPermissionDenied, "peer refused the federation request (not admitted?)");
    }
    co_return st.error();
  }
  if (!body.ok()) {
    ns.stream->reset();
    if (body.error().code() == ErrorCode::kReset || body.error().code() == ErrorCode::kClosed) {
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
    case ErrorCode::kInvalidArgument: code = pb::INVALID_ARGUMENT; break;
    case ErrorCode::kNotFound: code = pb::NOT_FOUND; break;
    case ErrorCode::kPermissionDenied: code = pb::PERMISSION_DENIED; break;
    case ErrorCode::kIo:
    case ErrorCode::kClosed:
    case ErrorCode::kReset: code = pb::UNAVAILABLE; break;
    case ErrorCode::kLimitExceeded: code = pb::LIMIT_EXCEEDED; break;
    case ErrorCode::kTimeout: code = pb::TIMEOUT; break;
    case ErrorCode::kUnsupported: code = pb::UNSUPPORTED; break;
    case ErrorCode::kProtocol:
    case ErrorCode::kInternal: code = pb::INTERNAL; break;
  }
  resp.set_code(code);
}

ErrorCode response_error_code(const pb::FederationResponse& resp) {
  switch (resp.code()) {
    case pb::INVALID_ARGUMENT: return ErrorCode::kInvalidArgument;
    case pb::NOT_FOUND: return ErrorCode::kNotFound;
    case pb::PERMISSION_DENIED: return ErrorCode::kPermissionDenied;
    case pb::UNAVAILABLE: return ErrorCode::kIo;
    case pb::LIMIT_EXCEEDED: return ErrorCode::kLimitExceeded;
    case pb::TIMEOUT: return ErrorCode::kTimeout;
    case pb::UNSUPPORTED: return ErrorCode::kUnsupported;
    default: return ErrorCode::kInternal;
  }
}

}  // namespace syndb::federation
