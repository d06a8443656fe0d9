// Import of the Witvliet et al. 2021 C. elegans connectomes
// (../shared/data/witvliet2021, files from dwitvliet/nature2021) into the
// SynDB tables. All or nothing: one transaction, rolled back on any error.
//
// Mapping:
// - synapse: one row per entry of a synapse's `post` list (duplicates kept);
//   synapse_id = catmaid_id (first element when it is a list, as in
//   Dataset7); size = the synapse's `size`; weight = that partner's
//   `post_weights` entry; sections = len(size_proportion_per_section);
//   post_is_branch from tables/synapse_list.csv (matched on dataset, syn_id,
//   post and occurrence order; 'unknown' or no row → NULL). Dataset7 has no
//   sizes or weights: NULL.
// - gap_junction: one row per distinct catmaid_id (the files list each
//   junction once per direction; the first direction is kept).
// - cell: every cell named in the dataset's synapses, gap junctions or volume
//   file; class by the longest class name in tables/neurons.csv that prefixes
//   the cell name (body-wall muscles BWM-DL01 → BWM01); volume from
//   physical_contact/DatasetN_volumes.csv when present.
// - ontology_term: type:<t> → class:<c> → cell:<name>.
#pragma once

#include <string>
#include <vector>

#include "warehouse/warehouse.h"

namespace syndb::warehouse {

struct WitvlietOptions {
  std::string dir;            // the witvliet2021 folder
  std::string prefix;         // /<institution>/<collection>, e.g. /toronto/witvliet2021
  std::vector<int> datasets;  // 1..8; empty = all
  std::string institution = "University of Toronto";  // dataset.institution
  bool ontology_only = false;  // only the type and class terms (e.g. for a hub that holds no data)
};

struct ImportStats {
  int64_t datasets = 0, synapses = 0, gap_junctions = 0, cells = 0, ontology_terms = 0;
  int64_t bytes_read = 0;
};

// Errors: kNotFound for a missing file, kInvalidArgument for malformed data
// (file and position in the message), kPermissionDenied outside the node's
// namespace. Nothing is written on error.
Result<ImportStats> import_witvliet(Warehouse& w, const WitvlietOptions& options);

}  // namespace syndb::warehouse
