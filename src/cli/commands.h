// The syndb subcommands. Each returns the process exit code: 0 success,
// 1 runtime failure (one line on stderr), 2 usage error (one line on stderr).
#pragma once

#include <cstdint>
#include <set>
#include "common/result.h"
#include <string>
#include <vector>

namespace syndb::p2p {
class Host;
}

namespace syndb::cli {

// Prints `syndb: <message>` on stderr; returns exit_code (1 runtime failure, 2 usage error).
int fail(const std::string& message, int exit_code = 1);

struct KeygenOptions {
  std::string out;
  bool force = false;
};
// `syndb node` and `syndb hub`: every key of the TOML config file also has a
// flag; a flag given on the command line wins over the file.
struct NodeOptions {
  std::string config;  // TOML file
  std::string key;
  std::vector<std::string> listen;
  uint32_t handshake_timeout_ms = 10'000;
  size_t max_streams = 256;
  // Federation (a node without --data-dir runs the p2p protocols only).
  std::string data_dir;
  std::string name;
  std::vector<std::string> bootstrap;
  std::string federation_file;
  std::string federation_admin;  // pinned admin PeerId (optional)
  bool mdns = false;
  int max_schema_version = 0;  // 0 = latest; lower values are for tests of SchemaSync
  uint32_t request_timeout_ms = 5000;
  // Data plane (with --data-dir).
  std::string flight_listen = "127.0.0.1:50052";  // Flight fragments; "" = off
  std::string memory_limit;                       // DuckDB memory limit, e.g. "4GB"; "" = DuckDB default
  uint32_t fragment_timeout_ms = 60'000;
  // Hub only.
  bool hub = false;
  std::string http_listen = "127.0.0.1:8080";
  std::string flight_sql_listen = "127.0.0.1:50051";  // Flight SQL; "" = off
  uint32_t statement_timeout_ms = 300'000;            // a Flight SQL statement is cancelled after this
  uint32_t health_interval_ms = 2000, health_timeout_ms = 1500, degraded_rtt_ms = 250;
  uint32_t unreachable_after = 3, probe_backoff_ms = 1000, probe_backoff_max_ms = 30000;
};
struct TokenOptions {
  std::string hub_data_dir, label = "cli";
};
struct FederationOptions {
  std::string action, hub_url = "http://127.0.0.1:8080", admin_key, file = "federation.json", name = "syndb",
                      peer_id;
};
struct PingOptions {
  std::string addr;
  int count = 1;
  uint32_t timeout_ms = 10'000;
};
struct PerfOptions {
  std::string addr;
  uint64_t upload = 0, download = 0;
};
struct DemoOptions {
  bool keep = false;
  std::string data;    // the witvliet2021 folder (default: ../shared/data/witvliet2021 beside the repo)
  std::string dir;     // where keys, warehouses and logs go (default: a temp dir, removed afterwards)
  uint16_t http_port = 0;
  uint16_t flight_sql_port = 0;
};

struct ImportWitvlietOptions {
  std::string dir, data_dir = "syndb-data", prefix = "/toronto/witvliet2021";
  std::vector<int> datasets;
  bool ontology_only = false;
};
struct ImportCsvOptions {
  std::string file, table, dataset, data_dir = "syndb-data", delimiter = ",";
  std::vector<std::string> map;
};
struct SqlOptions {
  std::string sql, data_dir = "syndb-data", format = "table";
};
struct DatasetOptions {
  std::string action, id, data_dir = "syndb-data";
};
struct WarehouseOptions {
  std::string action, data_dir = "syndb-data";
};
struct GenSyntheticOptions {
  int64_t rows = 1'000'000;
  int datasets = 1;
  uint64_t seed = 42;
  std::string prefix = "/synthetic/gen", data_dir = "syndb-data", csv;
};

struct QueryCliOptions {
  std::string hub_url = "http://127.0.0.1:8080", sql, format = "table", output;
  bool allow_partial = false;
  uint32_t timeout_ms = 300'000;
};
// `syndb query`: POST /v1/query and print the result (table with provenance, csv, json or arrow).
int run_query(const QueryCliOptions& o);

int run_import_witvliet(const ImportWitvlietOptions& o);
int run_import_csv(const ImportCsvOptions& o);
int run_sql(const SqlOptions& o);
int run_dataset(const DatasetOptions& o);
int run_warehouse(const WarehouseOptions& o);
int run_gen_synthetic(const GenSyntheticOptions& o);

int run_keygen(const KeygenOptions& o);
int run_id(const std::string& key_file);
int run_node(NodeOptions o);
// Fills `o` from a TOML file, except the flags named in `given` (the command line wins).
Status load_node_config(const std::string& path, NodeOptions& o, const std::set<std::string>& given);
int run_federation(const FederationOptions& o);
int run_token_create(const TokenOptions& o);
int run_ping(const PingOptions& o);
int run_identify(const PingOptions& o);
int run_perf(const PerfOptions& o);
int run_demo(const DemoOptions& o);

}  // namespace syndb::cli
