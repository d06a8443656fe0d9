#include "flight/fragment_service.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "flight/flight_data.h"
#include "flight/ticket.h"

namespace syndb::flight {

FragmentService::FragmentService(warehouse::Warehouse& warehouse, p2p::PeerId node, FragmentServiceConfig config)
    : warehouse_(warehouse), node_(std::move(node)), config_(config) {}

grpc::Status FragmentService::admit(grpc::ServerContext* ctx, const std::string& ticket, std::string* sql) {
  auto t = verify_ticket(ticket, node_, unix_ms(), client_header(*ctx, kPeerIdHeader), client_header(*ctx, kProofHeader));
  if (!t.ok()) {
    ++refused_;
    spdlog::info("flight: {} from {}", t.error().message(), ctx->peer());
    return unauthenticated(t.error().message());
  }
  *sql = t->sql;
  return grpc::Status::OK;
}

grpc::Status FragmentService::describe(grpc::ServerContext* ctx, const fpb::FlightDescriptor& descriptor,
                                       std::string* schema) {
  if (descriptor.type() != fpb::FlightDescriptor::CMD) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "expected a CMD descriptor holding a fragment ticket");
  }
  std::string sql;
  grpc::Status st = admit(ctx, descriptor.cmd(), &sql);
  if (!st.ok()) return st;
  auto connection = warehouse_.connect(true);
  if (!connection.ok()) return to_grpc(connection.error());
  auto arrow_schema = (*connection)->query_schema(sql);
  if (!arrow_schema.ok()) return to_grpc(arrow_schema.error());
  auto bytes = schema_bytes(*arrow_schema->get());
  if (!bytes.ok()) return to_grpc(bytes.error());
  *schema = std::move(bytes).value();
  return grpc::Status::OK;
}

grpc::Status FragmentService::GetFlightInfo(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                                            fpb::FlightInfo* response) {
  grpc::Status st = describe(ctx, *request, response->mutable_schema());
  if (!st.ok()) return st;
  *response->mutable_flight_descriptor() = *request;
  response->add_endpoint()->mutable_ticket()->set_ticket(request->cmd());
  response->set_total_records(-1);
  response->set_total_bytes(-1);
  return grpc::Status::OK;
}

grpc::Status FragmentService::GetSchema(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                                        fpb::SchemaResult* response) {
  return describe(ctx, *request, response->mutable_schema());
}

grpc::Status FragmentService::DoGet(grpc::ServerContext* ctx, const fpb::Ticket* request,
                                    grpc::ServerWriter<fpb::FlightData>* writer) {
  std::string sql;
  grpc::Status st = admit(ctx, request->ticket(), &sql);
  if (!st.ok()) return st;
  auto connection = warehouse_.connect(true);
  if (!connection.ok()) return to_grpc(connection.error());
  QueryDeadline deadline(**connection, config_.timeout_ms);
  auto stream = (*connection)->query_arrow(sql);
  if (!stream.ok()) {
    if (deadline.expired()) return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "fragment timed out");
    return to_grpc(stream.error());
  }
  StreamStats stats;
  st = write_stream(**stream, ctx, writer, &deadline, &stats);
  ++served_;
  spdlog::debug("flight: fragment for {}: {} rows, {} batches, {} body bytes, status {}", ctx->peer(), stats.rows,
                stats.batches, stats.body_bytes, static_cast<int>(st.error_code()));
  return st;
}

}  // namespace syndb::flight
