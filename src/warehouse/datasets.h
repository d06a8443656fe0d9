// Datasets and the node's namespace (ScudDB-style prefix authority): dataset
// ids are /<institution>/<collection>/<dataset>, and a node only creates
// datasets under the namespace prefix recorded in its warehouse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "warehouse/warehouse.h"

namespace syndb::warehouse {

struct DatasetMeta {
  std::string id, title, institution, species, stage;
  std::optional<double> age_hours;
  std::string method, doi, license, citation;
  std::string policy = "public";  // public | members | aggregate_only | private
  std::optional<int> policy_k;    // required for aggregate_only
};

struct DatasetSummary {
  DatasetMeta meta;
  int64_t synapses = 0, gap_junctions = 0, cells = 0;
};

// kInvalidArgument unless id is /<a>/<b>/<c> with segments of [A-Za-z0-9._-].
Status validate_dataset_id(const std::string& id);
// A prefix is "/<institution>" or "/<institution>/<collection>".
Status validate_prefix(const std::string& prefix);

// The namespace prefix stored in node_info, or nullopt when none is set yet.
Result<std::optional<std::string>> namespace_prefix(Warehouse& w);
// Records `prefix` when none is set; kPermissionDenied when another one is.
Status claim_namespace(Warehouse& w, const std::string& prefix);

// Inserts the dataset row. kPermissionDenied outside the node's namespace,
// kInvalidArgument for a bad id or policy, or when the id already exists.
Status create_dataset(Warehouse& w, const DatasetMeta& meta);

Result<std::vector<DatasetSummary>> list_datasets(Warehouse& w);

struct OntologyTerm {
  std::string id, label, parent_id, kind;  // parent_id empty = root
};
// Inserts or replaces the terms (batched statements; no transaction of its own).
Status upsert_ontology(Warehouse& w, const std::vector<OntologyTerm>& terms);

}  // namespace syndb::warehouse
