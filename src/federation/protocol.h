// /syndb/federation/1.0.0 (docs/federation-protocol.md): one request and one
// response per libp2p stream, each a uvarint-length-prefixed protobuf
// (proto/federation.proto), at most kMaxMessage bytes, bounded in time.
#pragma once

#include <functional>
#include <memory>

#include "federation.pb.h"
#include "federation/membership.h"
#include "p2p/host/host.h"

namespace syndb::federation {

inline constexpr std::string_view kFederationProtocol = "/syndb/federation/1.0.0";
inline constexpr std::string_view kHubProtocol = "/syndb/hub/1.0.0";  // advertised by hubs via identify
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kMaxMessage = 4 * 1024 * 1024;  // bytes

using RequestHandler =
    std::function<p2p::Task<pb::FederationResponse>(const pb::FederationRequest&, const p2p::Connection&)>;

// Serves the protocol on `host`: requests from peers `membership` does not
// admit are refused (logged, stream reset); others go to `handler`. A request
// that does not arrive within timeout_ms, or does not parse, resets the stream.
void serve_federation(p2p::Host& host, const Membership& membership, RequestHandler handler, uint32_t timeout_ms);

// Marks `resp` as failed with `e`'s message and its code (StatusCode).
void set_error(pb::FederationResponse& resp, const Error& e);
// The ErrorCode a failed response carries: StatusCode mapped back;
// STATUS_UNSPECIFIED (an older peer) is kInternal.
ErrorCode response_error_code(const pb::FederationResponse& resp);

// Sends one request on `conn` and waits (at most timeout_ms) for the answer.
// Errors: kTimeout, kProtocol (malformed response), kPermissionDenied (the
// peer refused us), kUnsupported (it does not speak the protocol), kIo/kReset;
// a response with `error` set: the peer's code (response_error_code) and
// "peer: <message>".
p2p::Task<Result<pb::FederationResponse>> federation_call(p2p::Host& host, std::shared_ptr<p2p::Connection> conn,
                                                          const pb::FederationRequest& request, uint32_t timeout_ms);

}  // namespace syndb::federation
