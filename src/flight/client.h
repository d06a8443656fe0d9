// A Flight client (gRPC stub + IPC decoding), used by the hub to fetch
// fragments from nodes, by the CLI, benchmarks and tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/arrow_c_data.h"
#include "common/result.h"
#include "flight/flight.grpc.pb.h"
#include "p2p/crypto/keys.h"

namespace syndb::flight {

namespace fpb = ::arrow::flight::protocol;

struct CallOptions {
  std::vector<std::pair<std::string, std::string>> headers;  // lowercase keys
  uint32_t timeout_ms = 0;                                   // 0: no deadline
};

// The headers that redeem a fragment ticket as the peer owning `key`
// (flight/ticket.h: PeerId and proof of possession).
std::vector<std::pair<std::string, std::string>> fragment_headers(const std::string& ticket,
                                                                  const p2p::Ed25519PrivateKey& key);
// {"authorization", "Bearer <token>"}.
std::pair<std::string, std::string> bearer_header(const std::string& token);

class FlightClient {
 public:
  using SchemaCallback = std::function<Status(const ArrowSchema&)>;
  using BatchCallback = std::function<Status(OwnedArrowArray)>;

  // `uri`: grpc://host:port, grpc+tcp://host:port or host:port. The channel
  // connects lazily; errors surface on the first call. kInvalidArgument for
  // another scheme (e.g. grpc+tls, not supported yet).
  static Result<std::unique_ptr<FlightClient>> connect(const std::string& uri);

  // DoGet: decodes the stream, calling on_schema once and then on_batch for
  // every record batch as it arrives. A callback error cancels the call and
  // is returned. Errors: the server's status mapped to an Error (UNAUTHENTICATED
  // and PERMISSION_DENIED -> kPermissionDenied, DEADLINE_EXCEEDED -> kTimeout,
  // UNAVAILABLE -> kIo, ...), kProtocol for a malformed stream.
  // `stats` (optional) receives the FlightData count and their header + body bytes.
  struct Stats {
    int64_t messages = 0;
    int64_t bytes = 0;
  };
  Status do_get(const std::string& ticket, const CallOptions& options, const SchemaCallback& on_schema,
                const BatchCallback& on_batch, Stats* stats = nullptr);
  Result<fpb::FlightInfo> get_flight_info(const fpb::FlightDescriptor& descriptor, const CallOptions& options);

 private:
  std::unique_ptr<fpb::FlightService::Stub> stub_;
};

// A gRPC status as an Error ("<rpc>: <message>").
Error from_grpc(const char* rpc, int code, const std::string& message);

}  // namespace syndb::flight
