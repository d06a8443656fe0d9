// What answers a Flight SQL statement: the hub's local warehouse now
// (LocalQueryEngine); the federated planner implements the same interface.
#pragma once

#include <memory>
#include <string>

#include "common/arrow_c_data.h"
#include "common/result.h"
#include "warehouse/warehouse.h"

namespace syndb::flight {

// Thread-safe: called concurrently from gRPC threads.
class QueryEngine {
 public:
  virtual ~QueryEngine() = default;
  // The result schema of `sql` without running it; must equal the schema
  // execute() streams (Flight SQL clients compare them).
  virtual Result<OwnedArrowSchema> schema(const std::string& sql) = 0;
  // Runs `sql`, streaming its result.
  virtual Result<std::unique_ptr<warehouse::ArrowStream>> execute(const std::string& sql) = 0;
  // Application metadata for the client, computed after the last batch of
  // `stream` (what execute() returned) and sent as the app_metadata of the
  // stream's last FlightData (Flight.proto); "" for none. The federated
  // engine sends the result's provenance (JSON).
  virtual std::string trailing_app_metadata(const warehouse::ArrowStream& stream) const { return ""; }
};

// Runs each statement on its own untrusted (SELECT-only) connection to
// `warehouse`, interrupted after timeout_ms (from the start of execute() to
// the last batch; the stream then fails with kTimeout).
class LocalQueryEngine final : public QueryEngine {
 public:
  explicit LocalQueryEngine(warehouse::Warehouse& warehouse, uint32_t timeout_ms = 300'000)
      : warehouse_(warehouse), timeout_ms_(timeout_ms) {}
  Result<OwnedArrowSchema> schema(const std::string& sql) override;
  Result<std::unique_ptr<warehouse::ArrowStream>> execute(const std::string& sql) override;

 private:
  warehouse::Warehouse& warehouse_;
  uint32_t timeout_ms_;
};

}  // namespace syndb::flight
