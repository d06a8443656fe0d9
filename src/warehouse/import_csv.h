// Import of any CSV/TSV (DuckDB's read_csv) or Parquet file (read_parquet)
// into a dataset-scoped SynDB table (synapse, gap_junction, cell). One
// transaction: a header mismatch or a value of the wrong type is reported
// with file, line and column, and nothing is written.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "warehouse/warehouse.h"

namespace syndb::warehouse {

struct CsvImportOptions {
  std::string file;
  std::string table;    // synapse | gap_junction | cell
  std::string dataset;  // dataset id; created (with the file name as title) when absent
  // (table column, file column) pairs; columns not listed map to the file
  // column of the same name. dataset_id always comes from `dataset`.
  std::vector<std::pair<std::string, std::string>> column_map;
  std::string delimiter = ",";
};

// Returns the number of rows imported.
Result<int64_t> import_file(Warehouse& w, const CsvImportOptions& options);

}  // namespace syndb::warehouse
