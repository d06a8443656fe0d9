// Synthetic SynDB data for scale tests: the same schema as the real
// connectomes, with distributions shaped like them (polyadic synapses with
// 1–4 partners whose weights sum to 1, log-normal sizes, 1–30 sections,
// ~15% branch contacts, cell names from the C. elegans classes), generated
// inside DuckDB. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>

#include "warehouse/warehouse.h"

namespace syndb::warehouse {

struct SyntheticOptions {
  int64_t rows = 1'000'000;  // synapse rows in total
  int datasets = 1;
  uint64_t seed = 42;
  std::string prefix = "/synthetic/gen";  // dataset ids are <prefix>/dataset<k>
};

// Creates the datasets and their synapse, gap_junction and cell rows in one
// transaction; returns the number of synapse rows.
Result<int64_t> generate_synthetic(Warehouse& w, const SyntheticOptions& options);

// Writes synapse rows (header: dataset_id,synapse_id,pre,post,size,weight,
// sections,post_is_branch) to a CSV file; returns the row count.
Result<int64_t> write_synthetic_synapse_csv(const std::string& path, const SyntheticOptions& options);

}  // namespace syndb::warehouse
