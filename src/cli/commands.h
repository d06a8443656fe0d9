// The syndb subcommands. Each returns the process exit code: 0 success,
// 1 runtime failure (one line on stderr), 2 usage error (one line on stderr).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace syndb::cli {

struct KeygenOptions {
  std::string out;
  bool force = false;
};
struct NodeOptions {
  std::string key;
  std::vector<std::string> listen;
  uint32_t handshake_timeout_ms = 10'000;
  size_t max_streams = 256;
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
};

struct ImportWitvlietOptions {
  std::string dir, data_dir = "syndb-data", prefix = "/toronto/witvliet2021";
  std::vector<int> datasets;
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

int run_import_witvliet(const ImportWitvlietOptions& o);
int run_import_csv(const ImportCsvOptions& o);
int run_sql(const SqlOptions& o);
int run_dataset(const DatasetOptions& o);
int run_warehouse(const WarehouseOptions& o);
int run_gen_synthetic(const GenSyntheticOptions& o);

int run_keygen(const KeygenOptions& o);
int run_id(const std::string& key_file);
int run_node(const NodeOptions& o);
int run_ping(const PingOptions& o);
int run_identify(const PingOptions& o);
int run_perf(const PerfOptions& o);
int run_demo(const DemoOptions& o, const char* argv0);

}  // namespace syndb::cli
