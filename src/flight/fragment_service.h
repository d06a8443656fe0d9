// The node's Flight service (internal, default :50052): runs query fragments
// named by tickets and streams their results as Arrow.
//
// RPCs (apache/arrow format/Flight.proto):
//   GetFlightInfo(FlightDescriptor{CMD, cmd = ticket}) -> FlightInfo with the
//     result schema and one endpoint redeeming the same ticket here;
//   GetSchema(same) -> SchemaResult;
//   DoGet(Ticket) -> the fragment's result, streamed as DuckDB produces it.
// Everything else is UNIMPLEMENTED. A ticket that fails verification
// (flight/ticket.h) is refused with UNAUTHENTICATED.
//
// Sandbox: each fragment runs on its own untrusted connection (one SELECT,
// no writes; warehouse::Warehouse::connect) to a database opened with
// OpenOptions::sandbox (no file or network access, locked configuration,
// the node's memory limit), and is interrupted after timeout_ms.
#pragma once

#include <atomic>
#include <cstdint>

#include "flight/server.h"
#include "p2p/crypto/peer_id.h"
#include "warehouse/warehouse.h"

namespace syndb::flight {

struct FragmentServiceConfig {
  uint32_t timeout_ms = 60'000;  // per fragment, from DoGet to the last batch
};

class FragmentService final : public fpb::FlightService::Service {
 public:
  // `warehouse` must outlive the service; only its connect() is used, from gRPC threads.
  FragmentService(warehouse::Warehouse& warehouse, p2p::PeerId node, FragmentServiceConfig config = {});

  grpc::Status GetFlightInfo(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                             fpb::FlightInfo* response) override;
  grpc::Status GetSchema(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                         fpb::SchemaResult* response) override;
  grpc::Status DoGet(grpc::ServerContext* ctx, const fpb::Ticket* request,
                     grpc::ServerWriter<fpb::FlightData>* writer) override;

  int64_t fragments_served() const { return served_.load(); }
  int64_t tickets_refused() const { return refused_.load(); }

 private:
  // Verifies the ticket against the call's peer metadata; fills *sql.
  grpc::Status admit(grpc::ServerContext* ctx, const std::string& ticket, std::string* sql);
  grpc::Status describe(grpc::ServerContext* ctx, const fpb::FlightDescriptor& descriptor, std::string* schema);

  warehouse::Warehouse& warehouse_;
  p2p::PeerId node_;
  FragmentServiceConfig config_;
  std::atomic<int64_t> served_{0};
  std::atomic<int64_t> refused_{0};
};

}  // namespace syndb::flight
