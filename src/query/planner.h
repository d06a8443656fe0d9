// The federated planner (ARCHITECTURE.md, query; issue 6). Works on DuckDB's
// own AST (warehouse/sql_ast.h): finds every scan of a SynDB table, pushes
// projections and filters down into one fragment per table (what each node
// runs), derives the dataset predicates used to skip nodes, and, for a
// single-table aggregate over count/sum/min/max/avg, pushes partial
// aggregates down and finishes them at the hub. The final SQL is the user's
// query with each table replaced by a view over the fragments' union, so
// joins, window functions, ORDER BY and LIMIT run unchanged in the hub's DuckDB.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "warehouse/warehouse.h"

namespace syndb::query {

// One SynDB table as the query reads it.
struct TableScan {
  std::string table;         // e.g. "synapse"
  std::string view;          // hub-side view over the fragments' union (unique per query)
  std::string fragment_sql;  // what every node runs: projection + pushed filters, or a partial aggregate
  // A SELECT over a relation `syndb_datasets(<dataset column>)` keeping the
  // datasets the pushed filters can match; empty = every dataset.
  std::string dataset_filter_sql;
  // The hub copies the union into a table `view + "_m"` that the final query
  // reads, because DuckDB may scan this table more than once (self-joins,
  // CTEs) and a fragment stream can be read only once. Otherwise the final
  // query streams straight from the fragments.
  bool materialize = false;
  // A reference table without a dataset column (ontology_term): the hub and
  // every contributing node each send their whole copy (every column, pushed
  // filters only), and the hub keeps one of each distinct row; such a scan is
  // always materialised (`SELECT DISTINCT *`).
  bool distinct = false;
};

struct Plan {
  std::vector<TableScan> scans;
  std::string final_sql;          // runs at the hub over the views
  bool partial_aggregate = false;  // the fragment computes partial aggregates
};

struct PlannerInput {
  std::string sql;
  std::map<std::string, std::vector<std::string>> table_columns;  // SynDB table → columns in table order
  std::vector<std::string> output_names;                          // the query's result column names
  std::set<std::string> aggregate_functions;                      // every aggregate function name DuckDB knows
  std::string view_prefix;                                        // unique per query, e.g. "syndb_q1a2b_"
};

// `parser`: a DuckDB connection used only to parse and render SQL.
// Errors: kInvalidArgument for anything but one SELECT, for tables other than
// the SynDB tables (qualified names included), table functions, and CTEs
// named like a SynDB table.
Result<Plan> plan_query(warehouse::Warehouse& parser, const PlannerInput& input);

}  // namespace syndb::query
