// libFuzzer target: what the Flight services and client decode from the
// network.
//   byte 0 % 4 == 0: a fragment ticket (+ peer id and proof strings) given
//     to verify_ticket — must be refused (the fuzzer cannot forge Ed25519),
//     with kPermissionDenied and no crash;
//   1: a FlightData protobuf, then its data_header/data_body handed to the
//     IPC reader's decode_message (the DoGet client path);
//   2: schema bytes (FlightInfo.schema) for parse_schema_bytes;
//   3: a Flight SQL command (google.protobuf.Any) resolved by a
//     FlightSqlService through GetSchema on an in-memory warehouse.
#include <google/protobuf/any.pb.h>
#include <grpcpp/test/server_context_test_spouse.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "arrow/ipc_reader.h"
#include "common/clock.h"
#include "flight/flight_data.h"
#include "flight/query_engine.h"
#include "flight/sql_service.h"
#include "flight/ticket.h"
#include "warehouse/schema.h"

namespace {

using namespace syndb;

struct Sql {
  Sql() {
    auto w = warehouse::open_duckdb(":memory:");
    if (!w.ok()) __builtin_trap();
    wh = std::move(w).value();
    if (!wh->migrate(warehouse::latest_schema_version()).ok()) __builtin_trap();
    engine = std::make_unique<flight::LocalQueryEngine>(*wh);
    flight::FlightSqlConfig c;
    c.check_token = [](const std::string&) { return true; };
    service = std::make_unique<flight::FlightSqlService>(*engine, *wh, c);
  }
  std::unique_ptr<warehouse::Warehouse> wh;
  std::unique_ptr<flight::LocalQueryEngine> engine;
  std::unique_ptr<flight::FlightSqlService> service;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  static const p2p::PeerId node = p2p::PeerId::from_public_key(p2p::Ed25519PrivateKey::generate().public_key());
  switch (data[0] % 4) {
    case 0: {
      auto a = input.find('\n');
      auto b = a == std::string::npos ? a : input.find('\n', a + 1);
      std::string ticket = input.substr(0, a);
      std::string peer = a == std::string::npos ? "" : input.substr(a + 1, b == std::string::npos ? b : b - a - 1);
      std::string proof = b == std::string::npos ? "" : input.substr(b + 1);
      auto r = flight::verify_ticket(ticket, node, unix_ms(), peer, proof);
      if (r.ok() || r.error().code() != ErrorCode::kPermissionDenied) __builtin_trap();
      break;
    }
    case 1: {
      flight::fpb::FlightData fd;
      if (!fd.ParseFromString(input)) break;
      syndb::arrow::ReaderOptions o;
      o.max_body_bytes = 1 << 20;
      o.max_array_length = 1 << 12;
      syndb::arrow::IpcStreamReader reader(o);
      (void)reader.decode_message(as_bytes(fd.data_header()), as_bytes(fd.data_body()));
      while (reader.next()) {
      }
      break;
    }
    case 2: {
      auto s = flight::parse_schema_bytes(input);
      if (!s.ok() && s.error().code() == ErrorCode::kInternal) __builtin_trap();
      break;
    }
    default: {
      static Sql sql;
      flight::fpb::FlightDescriptor d;
      d.set_type(flight::fpb::FlightDescriptor::CMD);
      d.set_cmd(input);
      grpc::ServerContext ctx;
      grpc::testing::ServerContextTestSpouse spouse(&ctx);  // owns the metadata strings: keep it alive
      spouse.AddClientMetadata("authorization", "Bearer fuzz");
      flight::fpb::SchemaResult result;
      (void)sql.service->GetSchema(&ctx, &d, &result);
      break;
    }
  }
  return 0;
}
