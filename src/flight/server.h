// gRPC plumbing shared by the Flight services: the server wrapper, status
// mapping, and DoGet streaming of a warehouse result as FlightData.
#pragma once

#include <functional>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "flight/flight.grpc.pb.h"
#include "warehouse/warehouse.h"

namespace syndb::flight {

namespace fpb = ::arrow::flight::protocol;

// Error -> gRPC status, following Flight's mapping (Flight.rst "Error
// Handling"): kInvalidArgument/kProtocol INVALID_ARGUMENT, kPermissionDenied
// PERMISSION_DENIED, kNotFound NOT_FOUND, kTimeout DEADLINE_EXCEEDED,
// kUnsupported UNIMPLEMENTED, kLimitExceeded RESOURCE_EXHAUSTED, kClosed /
// kReset / kIo UNAVAILABLE, anything else INTERNAL.
grpc::Status to_grpc(const Error& e);
inline grpc::Status unauthenticated(const std::string& why) {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why);
}

// The value of request metadata `key` (lowercase), or "".
std::string client_header(const grpc::ServerContext& ctx, const std::string& key);

// Interrupts a query on `connection` if it is still running `timeout_ms`
// after construction (one waiting thread per guard; joined on destruction).
class QueryDeadline {
 public:
  QueryDeadline(warehouse::Warehouse& connection, uint32_t timeout_ms);
  ~QueryDeadline();
  QueryDeadline(const QueryDeadline&) = delete;
  QueryDeadline& operator=(const QueryDeadline&) = delete;
  bool expired() const { return expired_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> expired_{false};
  std::thread thread_;
};

struct StreamStats {
  int64_t batches = 0;
  int64_t rows = 0;
  int64_t body_bytes = 0;  // sum of data_body sizes
};

// DoGet body: writes the Schema message and then every batch of `stream` as
// FlightData, batch by batch (nothing is materialised). A producer thread
// runs the query and encodes while this thread writes, through a queue of 8
// messages, so computing and sending overlap. Returns OK at the
// end of the result; CANCELLED when the client went away; DEADLINE_EXCEEDED
// when `deadline` (may be null) expired; the query's error otherwise.
// `trailing_app_metadata` (optional) is called after the last batch; its
// result becomes the app_metadata of the last message (the Schema message
// when there are no batches).
grpc::Status write_stream(warehouse::ArrowStream& stream, grpc::ServerContext* ctx,
                          grpc::ServerWriter<fpb::FlightData>* writer, const QueryDeadline* deadline,
                          StreamStats* stats = nullptr,
                          const std::function<std::string()>& trailing_app_metadata = {});

// A running gRPC server (HTTP/2 over TCP, plaintext). Services are not owned
// and must outlive it. Calls run on gRPC's own thread pool.
class GrpcServer {
 public:
  // Binds `address` ("host:port"; port 0 picks a free one) and starts
  // serving. Errors: kIo when the address cannot be bound.
  static Result<std::unique_ptr<GrpcServer>> start(const std::string& address,
                                                   const std::vector<grpc::Service*>& services);
  ~GrpcServer();
  uint16_t port() const { return port_; }
  // Stops accepting calls; running calls get `grace_ms` to finish, then are cancelled.
  void stop(uint32_t grace_ms = 1000);

 private:
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

}  // namespace syndb::flight
