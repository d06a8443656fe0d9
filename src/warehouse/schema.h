// The SynDB data model as numbered migrations (ARCHITECTURE.md, "Data
// model"). Table and column names are a public interface: users write SQL
// against them. Migration N is applied once, in order, inside a transaction,
// and recorded in schema_migrations(version, description, applied_at).
#pragma once

#include <string>
#include <vector>

namespace syndb::warehouse {

struct Migration {
  int version;
  std::string description;
  std::string sql;  // one or more statements separated by ';'
};

// All migrations this build knows, in version order (1, 2, …).
const std::vector<Migration>& migrations();
int latest_schema_version();

// The tables federated queries may read. `dataset_column` names the column
// holding the dataset id (the key of policies and of node selection), or is
// null for shared reference tables (ontology_term, the same on every node).
struct DataTable {
  const char* name;
  const char* dataset_column;
};
const std::vector<DataTable>& data_tables();
const DataTable* find_data_table(const std::string& name);

// Access policies of a dataset (dataset.policy).
inline constexpr const char* kPolicies[] = {"public", "members", "aggregate_only", "private"};

}  // namespace syndb::warehouse
