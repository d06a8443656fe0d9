// Import benchmark (issue 3): `syndb import csv` of a synthetic synapse CSV
// against DuckDB's own read_csv of the same file, in the same run, plus the
// import time of the real Witvliet data. Prints a markdown table.
//
//   build/bench/warehouse_import [ROWS] [WITVLIET_DIR]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "warehouse/import_csv.h"
#include "warehouse/import_witvliet.h"
#include "warehouse/schema.h"
#include "warehouse/synthetic.h"

using namespace syndb;
using namespace syndb::warehouse;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::unique_ptr<Warehouse> fresh(const fs::path& dir) {
  fs::remove_all(dir);
  auto w = open_duckdb(dir.string());
  if (!w.ok() || !(*w)->migrate(latest_schema_version()).ok()) {
    std::fprintf(stderr, "cannot open %s\n", dir.c_str());
    std::exit(1);
  }
  return std::move(w).value();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::stoll(argv[1]) : 10'000'000;
  fs::path witvliet = argc > 2 ? fs::path(argv[2]) : fs::path("../shared/data/witvliet2021");
  fs::path tmp = fs::temp_directory_path() / ("syndb-import-bench-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  fs::path csv = tmp / "synapse.csv";

  SyntheticOptions so;
  so.rows = rows;
  so.datasets = 1;
  so.prefix = "/bench/synthetic";
  auto written = write_synthetic_synapse_csv(csv.string(), so);
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.error().message().c_str());
    return 1;
  }
  double mb = static_cast<double>(fs::file_size(csv)) / 1e6;

  // DuckDB's own reader into a plain table (the reference).
  auto ref = fresh(tmp / "ref");
  auto t0 = std::chrono::steady_clock::now();
  Status st = ref->execute("CREATE TABLE t AS SELECT * FROM read_csv('" + csv.string() + "', header = true)");
  double ref_s = seconds_since(t0);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message().c_str());
    return 1;
  }
  ref.reset();

  // Ours: header check, typed read, mapping, one transaction.
  auto ours = fresh(tmp / "ours");
  CsvImportOptions co;
  co.file = csv.string();
  co.table = "synapse";
  co.dataset = "/bench/synthetic/dataset1";
  t0 = std::chrono::steady_clock::now();
  auto imported = import_file(*ours, co);
  double ours_s = seconds_since(t0);
  if (!imported.ok()) {
    std::fprintf(stderr, "%s\n", imported.error().message().c_str());
    return 1;
  }
  ours.reset();

  double real_s = -1;
  int64_t real_rows = 0;
  if (fs::is_directory(witvliet / "synapses")) {
    auto real = fresh(tmp / "real");
    t0 = std::chrono::steady_clock::now();
    auto stats = import_witvliet(*real, WitvlietOptions{witvliet.string(), "/toronto/witvliet2021", {}});
    real_s = seconds_since(t0);
    if (stats.ok()) real_rows = stats->synapses + stats->gap_junctions + stats->cells;
  }
  fs::remove_all(tmp);

  double ratio = ref_s / ours_s;  // throughput ratio ours/reference
  std::printf("| measurement | rows | MB | seconds | rows/s | MB/s |\n|---|---|---|---|---|---|\n");
  std::printf("| DuckDB read_csv (reference) | %lld | %.0f | %.2f | %.0f | %.0f |\n", static_cast<long long>(rows), mb,
              ref_s, rows / ref_s, mb / ref_s);
  std::printf("| syndb import csv | %lld | %.0f | %.2f | %.0f | %.0f |\n", static_cast<long long>(*imported), mb,
              ours_s, *imported / ours_s, mb / ours_s);
  if (real_s >= 0) {
    std::printf("| syndb import witvliet (all 8 datasets) | %lld | 9 | %.2f | %.0f | |\n",
                static_cast<long long>(real_rows), real_s, real_rows / real_s);
  }
  std::printf("\nimport csv throughput / DuckDB read_csv = %.2f (target >= 0.80): %s\n", ratio,
              ratio >= 0.8 ? "PASS" : "FAIL");
  return 0;
}
