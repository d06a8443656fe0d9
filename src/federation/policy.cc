#include "federation/policy.h"

#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "warehouse/schema.h"
#include "warehouse/sql.h"
#include "warehouse/sql_ast.h"

namespace syndb::federation {

using nlohmann::json;

namespace {

const std::set<std::string>& aggregate_functions() {
  static const std::set<std::string> kNames = {
      "count", "count_star", "sum", "min", "max", "avg", "mean", "median", "quantile", "quantile_cont",
      "quantile_disc", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "mode"};
  return kNames;
}

bool is_aggregate_call(const json& e) {
  return e.value("class", "") == "FUNCTION" && aggregate_functions().count(e.value("function_name", "")) > 0;
}

// True when every column `e` reads is inside an aggregate call or a group key.
bool only_aggregated(const json& e, const json& groups) {
  if (e.is_array()) {
    for (const auto& v : e) {
      if (!only_aggregated(v, groups)) return false;
    }
    return true;
  }
  if (!e.is_object()) return true;
  if (e.contains("class")) {
    for (const auto& g : groups) {
      if (warehouse::ast_equal(e, g)) return true;
    }
    if (is_aggregate_call(e)) return true;
    const std::string cls = e.value("class", "");
    if (cls == "COLUMN_REF" || cls == "SUBQUERY" || cls == "WINDOW" || cls == "STAR") return false;
  }
  for (const auto& [k, v] : e.items()) {
    if ((v.is_object() || v.is_array()) && !only_aggregated(v, groups)) return false;
  }
  return true;
}

Status check_tables(const json& node) {
  const std::set<std::string> ctes = warehouse::cte_names(node);
  Status st = ok_status();
  warehouse::for_each_object(node, [&](const json& o) {
    if (!st.ok()) return false;
    const std::string type = warehouse::ast_string(o, "type");
    if (type == "TABLE_FUNCTION") {
      st = Error(ErrorCode::kInvalidArgument, "table functions are not allowed in remote fragments");
    } else if (type == "BASE_TABLE") {
      const std::string name = o.value("table_name", "");
      if (!o.value("schema_name", "").empty() || !o.value("catalog_name", "").empty()) {
        st = Error(ErrorCode::kInvalidArgument, "qualified table names are not allowed in remote fragments: " + name);
      } else if (!warehouse::find_data_table(name) && !ctes.count(name)) {
        st = Error(ErrorCode::kInvalidArgument, "unknown table " + name);
      }
    }
    return true;
  });
  return st;
}

std::string in_list(const std::vector<std::string>& ids) {
  if (ids.empty()) return "(NULL)";
  std::string s = "(";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + warehouse::sql_quote(ids[i]);
  return s + ")";
}

// `sql` with every SynDB table shadowed by a CTE holding only the rows of
// the datasets `ids`.
std::string narrowed(const std::string& sql, const std::vector<std::string>& ids) {
  std::string ctes;
  const std::string list = in_list(ids);
  for (const auto& t : warehouse::data_tables()) {
    if (!t.dataset_column) continue;
    ctes += std::string(ctes.empty() ? "WITH " : ", ") + t.name + " AS (SELECT * FROM main." + t.name + " WHERE " +
            t.dataset_column + " IN " + list + ")";
  }
  return ctes + " SELECT * FROM (" + sql + ") AS syndb_fragment";
}

// Fragments that parsed and passed check_tables, by SQL text: the check
// depends on the text alone, and parsing (DuckDB's json_serialize_sql) is
// most of a ticket's cost. The hub sends the same fragments again and again.
class CheckedFragments {
 public:
  std::shared_ptr<const json> find(const std::string& sql) {
    std::lock_guard lock(mu_);
    auto it = parsed_.find(sql);
    return it == parsed_.end() ? nullptr : it->second;
  }
  void add(const std::string& sql, std::shared_ptr<const json> node) {
    std::lock_guard lock(mu_);
    if (parsed_.size() >= kMaxEntries) parsed_.clear();
    parsed_.emplace(sql, std::move(node));
  }

 private:
  static constexpr size_t kMaxEntries = 256;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const json>> parsed_;
};

Result<std::shared_ptr<const json>> parse_and_check(warehouse::Warehouse& w, const std::string& fragment) {
  static CheckedFragments checked;
  if (auto node = checked.find(fragment)) return node;
  SYNDB_ASSIGN_OR_RETURN(json parsed, warehouse::parse_select(w, fragment));
  SYNDB_RETURN_IF_ERROR(check_tables(parsed));
  auto node = std::make_shared<const json>(std::move(parsed));
  checked.add(fragment, node);
  return node;
}

}  // namespace

Result<std::string> apply_policy(warehouse::Warehouse& w, const std::string& fragment, bool admitted_requester) {
  SYNDB_ASSIGN_OR_RETURN(std::shared_ptr<const json> parsed, parse_and_check(w, fragment));
  const json& node = *parsed;
  // A fragment that reads no dataset's rows (only ontology_term, or no table
  // at all) has nothing a dataset policy guards.
  const bool reads_datasets = warehouse::any_object(node, [](const json& o) {
    if (warehouse::ast_string(o, "type") != "BASE_TABLE") return false;
    const auto* t = warehouse::find_data_table(o.value("table_name", ""));
    return !t || t->dataset_column;  // a CTE's name counts as a dataset table: conservative
  });
  if (!reads_datasets) return fragment;

  SYNDB_ASSIGN_OR_RETURN(auto rows, w.query_text("SELECT id, policy, coalesce(policy_k, 0) FROM main.dataset ORDER BY id"));
  std::vector<std::string> readable, aggregate_only;
  std::string aggregate_dataset;
  int k = 0;
  for (const auto& r : rows.rows) {
    const std::string id = r[0].value_or(""), policy = r[1].value_or("private");
    const int policy_k = std::stoi(r[2].value_or("0"));
    if (policy == "public" || (policy == "members" && admitted_requester)) {
      readable.push_back(id);
    } else if (policy == "aggregate_only") {
      readable.push_back(id);
      aggregate_only.push_back(id);
      if (policy_k > k) {
        k = policy_k;
        aggregate_dataset = id;
      }
    }
  }

  const std::string sql =
      readable.size() == rows.rows.size() ? fragment : narrowed(fragment, readable);
  if (k == 0) return sql;

  // aggregate_only(k): the shape first, then the group sizes.
  const std::string refusal = "dataset " + aggregate_dataset + " is aggregate_only(" + std::to_string(k) + "): ";
  const json groups = node.value("group_expressions", json::array());
  bool aggregate = warehouse::ast_string(node, "type") == "SELECT_NODE" && (!groups.empty() || warehouse::any_object(node["select_list"], is_aggregate_call));
  if (aggregate) aggregate = only_aggregated(node["select_list"], groups) && only_aggregated(node["having"], groups);
  if (!aggregate) {
    return Error(ErrorCode::kPermissionDenied,
                 refusal + "only aggregate queries (count, sum, avg, min, max … with every column grouped or aggregated) may read it");
  }
  json counted = node;
  counted["select_list"].push_back({{"class", "FUNCTION"}, {"type", "FUNCTION"}, {"alias", "syndb_group_rows"},
                                    {"query_location", 18446744073709551615ULL}, {"function_name", "count_star"},
                                    {"schema", ""}, {"children", json::array()}, {"filter", nullptr},
                                    {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", json::array()}}},
                                    {"distinct", false}, {"is_operator", false}, {"export_state", false},
                                    {"catalog", ""}});
  counted["modifiers"] = json::array();  // ORDER BY / LIMIT do not change group sizes
  // Every group the query could show, HAVING or not, counted over the
  // aggregate_only datasets' rows alone: a group with 1 protected row among
  // k public ones would reveal it (the public rows can be subtracted).
  counted["having"] = nullptr;
  SYNDB_ASSIGN_OR_RETURN(std::string counted_sql, warehouse::render_select(w, counted));
  const std::string check = narrowed(counted_sql, aggregate_only);
  SYNDB_ASSIGN_OR_RETURN(auto small, w.query_text("SELECT count(*) FROM (" + check +
                                                  ") AS g WHERE g.syndb_group_rows BETWEEN 1 AND " +
                                                  std::to_string(k - 1)));
  const std::string n = small.rows.empty() ? "0" : small.rows[0][0].value_or("0");
  if (n != "0") {
    return Error(ErrorCode::kPermissionDenied,
                 refusal + "the query would reveal " + n + " group(s) with fewer than " + std::to_string(k) +
                     " rows from aggregate_only datasets");
  }
  return sql;
}

}  // namespace syndb::federation
