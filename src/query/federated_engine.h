// FederatedEngine: answers one SQL question from every node's data
// (ARCHITECTURE.md, query; issue 6). Per query: plan (query/planner.h), pick
// the nodes from the registry (Healthy or Degraded, this hub's schema
// version, holding a dataset the pushed filters can match; private datasets
// never count), get a ticket per fragment from each node
// (GetFlightEndpoint over /syndb/federation/1.0.0, the node applies its
// policies), fetch the fragments in parallel over Flight (DoGet) into one
// bounded queue per table, which the hub's in-memory DuckDB scans as a view
// (Warehouse::register_arrow_view), and stream the final query's result.
// Nothing is materialised except a table DuckDB may read twice (self-join, CTE).
//
// Thread-safe: queries run concurrently (HTTP and Flight SQL threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "federation/protocol.h"
#include "federation/registry.h"
#include "flight/query_engine.h"
#include "p2p/crypto/keys.h"

namespace syndb::query {

struct EngineConfig {
  uint32_t statement_timeout_ms = 300'000;  // whole query, from execute() to the last batch
  uint32_t ticket_timeout_ms = 5'000;       // one GetFlightEndpoint
  size_t queue_batches = 16;                // per table: batches buffered between the fetches and DuckDB
  std::string memory_limit;                 // the merge database's DuckDB memory_limit ("" = default)
  // Fragment streams (one thread each, blocking on Flight) across all running
  // queries. A query takes all it needs at once or waits (up to its statement
  // timeout); one that needs more than this is refused (kLimitExceeded).
  size_t max_fetch_threads = 64;
};

struct QueryOptions {
  // When a node holding relevant data is unreachable: false = fail the query
  // (kIo naming the node), true = answer from the others, marked incomplete.
  bool allow_partial = false;
  // Stream one VARCHAR column "row" holding each row as a JSON array
  // (for the HTTP API's JSON and CSV output) instead of the result's columns.
  bool json_rows = false;
};

struct NodeReport {
  std::string peer_id, name;
  std::vector<std::string> datasets;  // contributing datasets held there
  int64_t rows = 0;                   // fragment rows received (all tables)
  int64_t bytes = 0;                  // Flight message bytes received
  double ms = 0;                      // from ticket request to the end of its last fragment, ms
};

struct MissingNode {
  std::string peer_id, name, state, reason;
  std::vector<std::string> datasets;  // relevant datasets the answer lacks
};

// Where an answer came from. Complete once the result stream has ended.
struct Provenance {
  std::vector<NodeReport> nodes;
  std::vector<federation::DatasetEntry> datasets;  // with citation, DOI, licence
  std::vector<MissingNode> missing;
  bool complete = true;  // false iff something relevant is missing
  bool partial_aggregate = false;
  std::vector<std::string> fragments;  // the SQL sent to nodes, one per table
  double ms = 0;                       // planning to last batch, ms
  nlohmann::json to_json() const;
};

class FederatedResult;

class FederatedEngine final : public flight::QueryEngine {
 public:
  // Asks nodes for tickets, all at once, each bounded by timeout_ms
  // (HubService::flight_endpoints_blocking): one result per request.
  using TicketRequest = std::pair<std::string, syndb::pb::GetFlightEndpoint>;  // node PeerId, fragment
  using TicketSource = std::function<std::vector<Result<syndb::pb::FlightEndpoint>>(
      const std::vector<TicketRequest>& requests, uint32_t timeout_ms)>;

  // `hub_warehouse`: the hub's own warehouse, for the SynDB schema and the
  // shared ontology_term table. `key`: the hub's identity (tickets are
  // redeemed with proof of it). Errors: kIo when the merge database cannot open.
  static Result<std::unique_ptr<FederatedEngine>> create(const federation::Registry& registry,
                                                         warehouse::Warehouse& hub_warehouse, TicketSource tickets,
                                                         const p2p::Ed25519PrivateKey& key, EngineConfig config);
  ~FederatedEngine() override;

  // Runs `sql` over the federation. Errors: kInvalidArgument (not a
  // supported SELECT, unknown table), kIo (a node holding relevant data is
  // unreachable and allow_partial is off), kPermissionDenied (a node's
  // policy refused its fragment; the message names node and dataset),
  // kTimeout. Errors while streaming surface from next().
  Result<std::unique_ptr<FederatedResult>> run(const std::string& sql, const QueryOptions& options);

  // flight::QueryEngine (Flight SQL): run() without allow_partial.
  Result<OwnedArrowSchema> schema(const std::string& sql) override;
  Result<std::unique_ptr<warehouse::ArrowStream>> execute(const std::string& sql) override;
  // The provenance (Provenance::to_json) of a finished result from execute().
  std::string trailing_app_metadata(const warehouse::ArrowStream& stream) const override;

  struct Impl;

 private:
  explicit FederatedEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The result stream of one federated query.
class FederatedResult final : public warehouse::ArrowStream {
 public:
  struct State;
  explicit FederatedResult(std::unique_ptr<State> state);
  ~FederatedResult() override;
  const ArrowSchema& schema() const override;
  // The query's result columns (names, types), also when json_rows streams
  // them as one VARCHAR column.
  const ArrowSchema& columns() const;
  Result<bool> next(OwnedArrowArray* out) override;
  // Valid at any time; final after next() returned false.
  Provenance provenance() const;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace syndb::query
