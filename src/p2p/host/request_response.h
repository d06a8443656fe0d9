// Request-response: one request and one response per stream, each a
// uvarint-length-prefixed message, then both sides close (the shape of
// libp2p's request-response behaviour, used by the federation protocol and
// by the protocols that come next). Sizes and time are bounded on both sides.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "p2p/host/host.h"

namespace syndb::p2p {

struct RequestResponseConfig {
  std::string protocol;            // e.g. /syndb/federation/1.0.0
  size_t max_request = 4u << 20;   // bytes
  size_t max_response = 4u << 20;  // bytes
  uint32_t timeout_ms = 5000;      // server: until the request arrives, and again for the reply
};

// Answers a request; an Error resets the stream (the caller sees kReset).
using ResponseHandler = std::function<Task<Result<Bytes>>(Bytes request, const Connection& conn)>;
// Decides whether a peer may use the protocol at all (false: stream reset).
using RequestGate = std::function<bool(const Connection& conn)>;

// Serves `config.protocol` on `host`. A request over max_request, or not
// complete within timeout_ms, resets the stream; so does a refused gate.
void serve_requests(Host& host, RequestResponseConfig config, ResponseHandler handler, RequestGate gate = {});

// Sends one request on `conn` and waits at most timeout_ms (negotiation
// included) for the response. Errors: kTimeout, kLimitExceeded (response
// over max_response), kReset (the peer reset the stream: refused or failed),
// kUnsupported (the peer does not speak the protocol), kIo/kClosed.
Task<Result<Bytes>> send_request(Host& host, std::shared_ptr<Connection> conn, const RequestResponseConfig& config,
                                 ByteSpan request, uint32_t timeout_ms);

}  // namespace syndb::p2p
