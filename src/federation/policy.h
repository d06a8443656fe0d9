// Dataset policies, enforced by the node that owns the data (ARCHITECTURE.md,
// "Security"; issue 6). A hub cannot widen them: every fragment a node serves
// passes through apply_policy() when its ticket is minted.
//   public            any peer the federation protocols admit
//   members           admitted peers only (the federation file)
//   private           never leaves the node
//   aggregate_only(k) only aggregates, over groups of at least k input rows
#pragma once

#include <string>

#include "common/result.h"
#include "warehouse/warehouse.h"

namespace syndb::federation {

// Checks a remote fragment and returns the SQL the node will run for it: the
// fragment with every SynDB table narrowed (a CTE of the same name) to the
// datasets `admitted_requester` may read. The fragment may name only the
// SynDB tables (unqualified) and its own CTEs; no table functions.
// When a readable dataset is aggregate_only(k), the fragment must be an
// aggregate (GROUP BY and/or aggregate functions; every selected column
// inside an aggregate or a group key) whose groups each hold 0 or ≥ k rows;
// the node runs it once to count.
// `w`: an untrusted connection to the node's warehouse.
// Errors: kInvalidArgument (not one SELECT, unknown/qualified table, table
// function), kPermissionDenied (aggregate_only violated; the message names
// the dataset and k).
Result<std::string> apply_policy(warehouse::Warehouse& w, const std::string& fragment, bool admitted_requester);

}  // namespace syndb::federation
