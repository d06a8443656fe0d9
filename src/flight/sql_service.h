// Flight SQL on the hub (default :50051): standard SQL clients (JDBC, ADBC,
// arrow-rs, the Rust flight-sql client on npm) connect here.
//
// Served (apache/arrow format/FlightSql.proto; commands are
// google.protobuf.Any in FlightDescriptor.cmd, Ticket.ticket, Action.body):
//   CommandStatementQuery        GetFlightInfo/GetSchema -> ticket
//                                Any(TicketStatementQuery{handle = the SQL}) -> DoGet
//   CreatePreparedStatement / ClosePreparedStatement (DoAction), then
//   CommandPreparedStatementQuery GetFlightInfo/GetSchema/DoGet (no parameters)
//   CommandGetSqlInfo, CommandGetCatalogs, CommandGetDbSchemas,
//   CommandGetTables (with include_schema), CommandGetTableTypes
//                                GetFlightInfo/GetSchema/DoGet
// FlightInfo carries one endpoint with no locations (redeem here) and the
// same schema DoGet streams. Updates (DoPut) are refused: the federation is
// read-only through this endpoint.
//
// Authentication: every call needs `authorization: Bearer <token>` with a
// token check_token accepts (hub metastore tokens); otherwise
// UNAUTHENTICATED. Handshake also accepts `authorization: Basic
// b64(user:token)` (clients that only speak user/password) and answers with
// the `authorization: Bearer <token>` header and the token as payload.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "flight/query_engine.h"
#include "flight/server.h"
#include "warehouse/warehouse.h"

namespace syndb::flight {

struct FlightSqlConfig {
  std::function<bool(const std::string& token)> check_token;  // thread-safe; required
  std::string server_name = "SynDB";
  std::string server_version;
  size_t max_prepared_statements = 10'000;  // open handles across all clients
};

class FlightSqlService final : public fpb::FlightService::Service {
 public:
  // `engine` runs statements; `catalog` (the hub's warehouse, used only via
  // untrusted connections) answers the metadata commands. Both must outlive
  // the service.
  FlightSqlService(QueryEngine& engine, warehouse::Warehouse& catalog, FlightSqlConfig config);

  grpc::Status Handshake(grpc::ServerContext* ctx,
                         grpc::ServerReaderWriter<fpb::HandshakeResponse, fpb::HandshakeRequest>* stream) override;
  grpc::Status GetFlightInfo(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                             fpb::FlightInfo* response) override;
  grpc::Status GetSchema(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                         fpb::SchemaResult* response) override;
  grpc::Status DoGet(grpc::ServerContext* ctx, const fpb::Ticket* request,
                     grpc::ServerWriter<fpb::FlightData>* writer) override;
  grpc::Status DoAction(grpc::ServerContext* ctx, const fpb::Action* request,
                        grpc::ServerWriter<fpb::Result>* writer) override;
  grpc::Status ListActions(grpc::ServerContext* ctx, const fpb::Empty* request,
                           grpc::ServerWriter<fpb::ActionType>* writer) override;
  grpc::Status DoPut(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<fpb::PutResult, fpb::FlightData>* stream) override;

  int64_t statements_run() const { return statements_.load(); }

 private:
  struct Plan;  // what a command resolves to: SQL for the engine, or a metadata table
  grpc::Status authorize(const grpc::ServerContext& ctx) const;
  grpc::Status resolve(const std::string& any_bytes, Plan* plan);
  grpc::Status plan_schema(const Plan& plan, std::string* schema_bytes);
  // GetFlightInfo / GetSchema: authorize, resolve the CMD descriptor, compute its schema bytes.
  grpc::Status describe(const grpc::ServerContext& ctx, const fpb::FlightDescriptor& descriptor, Plan* plan,
                        std::string* schema);
  grpc::Status run(grpc::ServerContext* ctx, const Plan& plan, grpc::ServerWriter<fpb::FlightData>* writer);

  QueryEngine& engine_;
  warehouse::Warehouse& catalog_;
  FlightSqlConfig config_;
  std::mutex mu_;
  std::map<std::string, std::string> prepared_;  // handle -> SQL
  std::atomic<int64_t> statements_{0};
};

}  // namespace syndb::flight
