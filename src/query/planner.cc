#include "query/planner.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>

#include "warehouse/schema.h"
#include "warehouse/sql_ast.h"

namespace syndb::query {

using nlohmann::json;
using warehouse::ast_equal;
using warehouse::for_each_object;

namespace {

constexpr uint64_t kNoLocation = 18446744073709551615ULL;

std::string cls(const json& e) { return e.is_object() ? e.value("class", "") : ""; }

json column_ref(const std::string& name) {
  return {{"class", "COLUMN_REF"}, {"type", "COLUMN_REF"}, {"alias", ""}, {"query_location", kNoLocation},
          {"column_names", json::array({name})}};
}

json conjunction(const char* type, std::vector<json> children) {
  if (children.size() == 1) return children[0];
  return {{"class", "CONJUNCTION"}, {"type", type}, {"alias", ""}, {"query_location", kNoLocation},
          {"children", std::move(children)}};
}

void split_and(const json& e, std::vector<json>* out) {
  if (cls(e) == "CONJUNCTION" && warehouse::ast_string(e, "type") == "CONJUNCTION_AND") {
    for (const auto& c : e["children"]) split_and(c, out);
  } else {
    out->push_back(e);
  }
}

// A filter that means the same at a node as at the hub: deterministic, row-local.
bool pushable(const json& e, const std::set<std::string>& aggregates) {
  static const std::set<std::string> kClasses = {"COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR",
                                                 "BETWEEN",    "CASE",     "CAST",       "FUNCTION",    "COLLATE"};
  static const std::set<std::string> kVolatile = {"random", "gen_random_uuid", "uuid", "nextval", "currval", "setseed"};
  return !warehouse::any_object(e, [&](const json& o) {
    if (!o.contains("class")) return false;
    const std::string c = cls(o);
    if (!kClasses.count(c)) return true;
    if (c == "FUNCTION") {
      const std::string f = o.value("function_name", "");
      return kVolatile.count(f) > 0 || aggregates.count(f) > 0;
    }
    return false;
  });
}

struct Instance {
  json* ref = nullptr;  // the BASE_TABLE object
  std::string table, binding;
  std::vector<json> filters;  // pushed conjuncts, column names unqualified
};

class Planner {
 public:
  Planner(warehouse::Warehouse& parser, const PlannerInput& in) : parser_(parser), in_(in) {}

  Result<Plan> run() {
    SYNDB_ASSIGN_OR_RETURN(root_, warehouse::parse_select(parser_, in_.sql));
    SYNDB_RETURN_IF_ERROR(collect_instances());
    for_each_object(root_, [&](json& o) {
      if (warehouse::ast_string(o, "type") == "SELECT_NODE" && o.contains("select_list")) analyse(o);
      return true;
    });
    Plan plan;
    auto partial = partial_aggregate(&plan);
    if (!partial.ok()) return partial.error();
    if (*partial) return plan;
    return general(std::move(plan));
  }

 private:
  const std::vector<std::string>& columns(const std::string& table) const { return in_.table_columns.at(table); }
  bool has_column(const std::string& table, const std::string& col) const {
    const auto& c = columns(table);
    return std::find(c.begin(), c.end(), col) != c.end();
  }

  Status collect_instances() {
    const std::set<std::string> ctes = warehouse::cte_names(root_);
    for (const auto& t : ctes) {
      if (warehouse::find_data_table(t)) {
        return Error(ErrorCode::kInvalidArgument, "a CTE may not be named like the SynDB table " + t);
      }
    }
    Status st = ok_status();
    for_each_object(root_, [&](json& o) {
      if (!st.ok()) return false;
      const std::string type = warehouse::ast_string(o, "type");
      if (type == "TABLE_FUNCTION") {
        st = Error(ErrorCode::kInvalidArgument, "table functions are not supported in federated queries");
      } else if (type == "BASE_TABLE") {
        const std::string name = o.value("table_name", "");
        if (!o.value("schema_name", "").empty() || !o.value("catalog_name", "").empty()) {
          st = Error(ErrorCode::kInvalidArgument, "use unqualified SynDB table names (got " + name + ")");
        } else if (warehouse::find_data_table(name)) {
          Instance inst;
          inst.ref = &o;
          inst.table = name;
          inst.binding = o.value("alias", "").empty() ? name : o.value("alias", "");
          instances_.push_back(std::move(inst));
        } else if (!ctes.count(name)) {
          std::string known;
          for (const auto& t : warehouse::data_tables()) known += std::string(known.empty() ? "" : ", ") + t.name;
          st = Error(ErrorCode::kInvalidArgument, "unknown table " + name + " (the federation has " + known + ")");
        }
      } else if (type == "JOIN" && o.value("ref_type", "") == "NATURAL") {
        natural_join_ = true;
      }
      return true;
    });
    return st;
  }

  Instance* instance_of(const json* ref) {
    for (auto& i : instances_) {
      if (i.ref == ref) return &i;
    }
    return nullptr;
  }

  // Base tables joined by inner joins only (WHERE conjuncts may go below them).
  bool inner_tables(json& ref, std::vector<Instance*>* out) {
    const std::string type = warehouse::ast_string(ref, "type");
    if (type == "BASE_TABLE") {
      Instance* i = instance_of(&ref);
      if (i) out->push_back(i);
      return i != nullptr;
    }
    if (type == "JOIN") {
      const std::string rt = ref.value("ref_type", ""), jt = ref.value("join_type", "");
      bool inner = rt == "CROSS" || ((rt == "REGULAR" || rt == "NATURAL") && jt == "INNER");
      return inner && inner_tables(ref["left"], out) && inner_tables(ref["right"], out);
    }
    return false;
  }

  void analyse(json& node) {
    std::vector<Instance*> scope;
    if (!node.contains("from_table") || !inner_tables(node["from_table"], &scope)) return;
    if (node["where_clause"].is_null()) return;
    std::vector<json> conjuncts;
    split_and(node["where_clause"], &conjuncts);
    for (const auto& c : conjuncts) {
      if (!pushable(c, in_.aggregate_functions)) continue;
      Instance* target = nullptr;
      bool ok = true;
      json local = c;
      for_each_object(local, [&](json& o) {
        if (!ok || cls(o) != "COLUMN_REF") return ok;
        const auto& names = o["column_names"];
        Instance* found = nullptr;
        std::string col;
        if (names.size() == 2) {
          col = names[1];
          for (Instance* i : scope) {
            if (i->binding == names[0].get<std::string>() && has_column(i->table, col)) found = i;
          }
        } else if (names.size() == 1) {
          col = names[0];
          int n = 0;
          for (Instance* i : scope) {
            if (has_column(i->table, col)) {
              found = i;
              ++n;
            }
          }
          if (n != 1) found = nullptr;
        }
        if (!found || (target && target != found)) {
          ok = false;
        } else {
          target = found;
          o["column_names"] = json::array({col});
        }
        return false;
      });
      if (ok && target) target->filters.push_back(local);
    }
  }

  // The pushed filter of a table: the OR over its scans, each the AND of its conjuncts.
  std::optional<json> table_filter(const std::string& table, const char* only_column = nullptr) const {
    std::vector<json> per_instance;
    for (const auto& i : instances_) {
      if (i.table != table) continue;
      std::vector<json> mine;
      for (const auto& f : i.filters) {
        bool only = !only_column || !warehouse::any_object(f, [&](const json& o) {
          return cls(o) == "COLUMN_REF" && o["column_names"][0].get<std::string>() != only_column;
        });
        if (only && (!only_column || warehouse::any_object(f, [](const json& o) { return cls(o) == "COLUMN_REF"; }))) {
          mine.push_back(f);
        }
      }
      if (mine.empty()) return std::nullopt;
      per_instance.push_back(conjunction("CONJUNCTION_AND", std::move(mine)));
    }
    if (per_instance.empty()) return std::nullopt;
    return conjunction("CONJUNCTION_OR", std::move(per_instance));
  }

  Result<json> template_node(const std::string& table) {
    return warehouse::parse_select(parser_, "SELECT 1 FROM " + table);
  }

  Result<std::string> dataset_filter_sql(const std::string& table) {
    const auto* t = warehouse::find_data_table(table);
    if (!t->dataset_column) return std::string();
    auto f = table_filter(table, t->dataset_column);
    if (!f) return std::string();
    SYNDB_ASSIGN_OR_RETURN(json node, template_node("syndb_datasets"));
    node["select_list"] = json::array({column_ref(t->dataset_column)});
    node["where_clause"] = *f;
    return warehouse::render_select(parser_, node);
  }

  // Whether DuckDB may scan `table` more than once: several references, or
  // any CTE (a CTE referenced twice may be inlined twice; a recursive one
  // rescans). A fragment stream can be read once, so such tables are copied.
  bool read_twice(const std::string& table) const {
    return std::count_if(instances_.begin(), instances_.end(), [&](const Instance& i) { return i.table == table; }) > 1 ||
           !warehouse::cte_names(root_).empty();
  }

  std::vector<std::string> tables_read() const {
    std::vector<std::string> tables;
    for (const auto& i : instances_) {
      if (std::find(tables.begin(), tables.end(), i.table) == tables.end()) tables.push_back(i.table);
    }
    return tables;
  }

  Result<Plan> general(Plan plan) {
    std::set<std::string> referenced;
    bool star = natural_join_;
    for_each_object(root_, [&](const json& o) {
      if (cls(o) == "COLUMN_REF") referenced.insert(o["column_names"].back().get<std::string>());
      if (cls(o) == "STAR") star = true;
      if (warehouse::ast_string(o, "type") == "JOIN") {
        for (const auto& u : o.value("using_columns", json::array())) referenced.insert(u.get<std::string>());
      }
      return true;
    });
    for (const auto& table : tables_read()) {
      TableScan scan;
      scan.table = table;
      scan.view = in_.view_prefix + table;
      bool renamed = false;
      for (const auto& i : instances_) {
        if (i.table == table && !i.ref->value("column_name_alias", json::array()).empty()) renamed = true;
      }
      const bool reference = !warehouse::find_data_table(table)->dataset_column;
      SYNDB_ASSIGN_OR_RETURN(json node, template_node(table));
      json select = json::array();
      for (const auto& c : columns(table)) {
        if (star || renamed || reference || referenced.count(c)) select.push_back(column_ref(c));
      }
      if (select.empty()) {
        // Only the row count matters (count(*)): one narrow column.
        SYNDB_ASSIGN_OR_RETURN(json one, warehouse::parse_select(parser_, "SELECT true AS syndb_row"));
        select = one["select_list"];
      }
      node["select_list"] = select;
      if (auto f = table_filter(table)) node["where_clause"] = *f;
      SYNDB_ASSIGN_OR_RETURN(scan.fragment_sql, warehouse::render_select(parser_, node));
      SYNDB_ASSIGN_OR_RETURN(scan.dataset_filter_sql, dataset_filter_sql(table));
      scan.distinct = reference;
      scan.materialize = reference || read_twice(table);
      plan.scans.push_back(std::move(scan));
    }
    for (auto& i : instances_) {
      const auto& scan = *std::find_if(plan.scans.begin(), plan.scans.end(),
                                       [&](const TableScan& s) { return s.table == i.table; });
      if ((*i.ref)["alias"].get<std::string>().empty()) (*i.ref)["alias"] = i.table;
      (*i.ref)["table_name"] = scan.materialize ? scan.view + "_m" : scan.view;
    }
    SYNDB_ASSIGN_OR_RETURN(plan.final_sql, warehouse::render_select(parser_, root_));
    return plan;
  }

  // ---- partial aggregates ----

  bool decomposable(const json& e) const {
    static const std::set<std::string> kNames = {"count_star", "count", "sum", "min", "max", "avg", "mean"};
    if (cls(e) != "FUNCTION" || !kNames.count(e.value("function_name", ""))) return false;
    if (e.value("distinct", false) || !e["filter"].is_null()) return false;
    if (!e["order_bys"].value("orders", json::array()).empty()) return false;
    if (e["children"].size() > 1) return false;
    return !warehouse::any_object(e["children"], [&](const json& o) {
      const std::string c = cls(o);
      return c == "SUBQUERY" || c == "WINDOW" ||
             (c == "FUNCTION" && in_.aggregate_functions.count(o.value("function_name", "")));
    });
  }

  struct Rewrite {
    const json* groups;
    std::vector<json> parts;  // partial aggregates the nodes compute
    std::set<std::string> select_aliases;
    bool failed = false;
  };

  int part_index(Rewrite& rw, const json& call) {
    for (size_t i = 0; i < rw.parts.size(); ++i) {
      if (ast_equal(rw.parts[i], call)) return static_cast<int>(i);
    }
    rw.parts.push_back(call);
    return static_cast<int>(rw.parts.size() - 1);
  }

  Result<json> snippet(const std::string& expr) {
    SYNDB_ASSIGN_OR_RETURN(json node, warehouse::parse_select(parser_, "SELECT " + expr));
    return node["select_list"][0];
  }

  // Rewrites an expression over the table into one over the partial results.
  Result<json> rewrite(const json& e, Rewrite& rw, bool allow_alias) {
    if (!e.is_object() && !e.is_array()) return e;
    if (e.is_array()) {
      json out = json::array();
      for (const auto& v : e) {
        SYNDB_ASSIGN_OR_RETURN(json r, rewrite(v, rw, allow_alias));
        out.push_back(std::move(r));
      }
      return out;
    }
    if (e.contains("class")) {
      for (size_t g = 0; g < rw.groups->size(); ++g) {
        if (ast_equal(e, (*rw.groups)[g])) {
          json ref = column_ref("syndb_g" + std::to_string(g));
          ref["alias"] = e["alias"];
          return ref;
        }
      }
      const std::string c = cls(e);
      if (decomposable(e)) {
        const std::string f = e.value("function_name", "");
        json merged;
        if (f == "avg" || f == "mean") {
          json s = e, n = e;
          s["function_name"] = "sum";
          n["function_name"] = "count";
          std::string ps = "syndb_a" + std::to_string(part_index(rw, s));
          std::string pn = "syndb_a" + std::to_string(part_index(rw, n));
          SYNDB_ASSIGN_OR_RETURN(merged, snippet("sum(" + ps + ") / nullif(sum(" + pn + "), 0)"));
        } else {
          std::string p = "syndb_a" + std::to_string(part_index(rw, e));
          std::string sql = (f == "count" || f == "count_star") ? "CAST(coalesce(sum(" + p + "), 0) AS BIGINT)"
                                                                : f + "(" + p + ")";
          SYNDB_ASSIGN_OR_RETURN(merged, snippet(sql));
        }
        merged["alias"] = e["alias"];
        return merged;
      }
      if (c == "COLUMN_REF") {
        const auto& names = e["column_names"];
        if (allow_alias && names.size() == 1 && rw.select_aliases.count(names[0].get<std::string>())) return e;
        rw.failed = true;
        return e;
      }
      if (c == "SUBQUERY" || c == "WINDOW" || c == "STAR" ||
          (c == "FUNCTION" && in_.aggregate_functions.count(e.value("function_name", "")))) {
        rw.failed = true;
        return e;
      }
    }
    json out = json::object();
    for (const auto& [k, v] : e.items()) {
      SYNDB_ASSIGN_OR_RETURN(json r, rewrite(v, rw, allow_alias));
      out[k] = std::move(r);
    }
    return out;
  }

  Result<bool> partial_aggregate(Plan* plan) {
    json& node = root_;
    if (warehouse::ast_string(node, "type") != "SELECT_NODE" || instances_.size() != 1) return false;
    // A reference table's copies overlap: rows are deduplicated at the hub first.
    if (!warehouse::find_data_table(instances_[0].table)->dataset_column) return false;
    if (warehouse::ast_string(node["from_table"], "type") != "BASE_TABLE") return false;
    if (!node["cte_map"].value("map", json::array()).empty()) return false;
    if (node.value("aggregate_handling", "") != "STANDARD_HANDLING" || !node["qualify"].is_null()) return false;
    if (!node["sample"].is_null() || !node["from_table"]["sample"].is_null()) return false;
    const json& groups = node["group_expressions"];
    for (const auto& g : groups) {
      if (cls(g) == "CONSTANT" || warehouse::any_object(g, [](const json& o) { return cls(o) == "SUBQUERY"; })) return false;
      if (cls(g) == "COLUMN_REF" && !has_column(instances_[0].table, g["column_names"].back().get<std::string>())) return false;
    }
    if (!groups.empty()) {
      json expected = json::array({json::array()});
      for (size_t i = 0; i < groups.size(); ++i) expected[0].push_back(i);
      if (node["group_sets"] != expected) return false;
    }
    bool any_aggregate = warehouse::any_object(node["select_list"], [&](const json& o) { return decomposable(o); });
    if (groups.empty() && !any_aggregate) return false;
    if (node["select_list"].size() != in_.output_names.size()) return false;
    // Every WHERE conjunct must have been pushed: the nodes filter before aggregating.
    if (!node["where_clause"].is_null()) {
      std::vector<json> conjuncts;
      split_and(node["where_clause"], &conjuncts);
      if (instances_[0].filters.size() != conjuncts.size()) return false;
    }

    Rewrite rw;
    rw.groups = &groups;
    for (const auto& item : node["select_list"]) {
      if (!item.value("alias", "").empty()) rw.select_aliases.insert(item.value("alias", ""));
    }
    json select = json::array();
    for (size_t i = 0; i < node["select_list"].size(); ++i) {
      SYNDB_ASSIGN_OR_RETURN(json r, rewrite(node["select_list"][i], rw, false));
      r["alias"] = in_.output_names[i];
      select.push_back(std::move(r));
    }
    SYNDB_ASSIGN_OR_RETURN(json having, rewrite(node["having"], rw, true));
    SYNDB_ASSIGN_OR_RETURN(json modifiers, rewrite(node["modifiers"], rw, true));
    if (rw.failed) return false;

    TableScan scan;
    scan.table = instances_[0].table;
    scan.view = in_.view_prefix + scan.table;
    json fragment = node;
    json fragment_select = json::array();
    for (size_t g = 0; g < groups.size(); ++g) {
      json e = groups[g];
      e["alias"] = "syndb_g" + std::to_string(g);
      fragment_select.push_back(std::move(e));
    }
    for (size_t p = 0; p < rw.parts.size(); ++p) {
      json e = rw.parts[p];
      e["alias"] = "syndb_a" + std::to_string(p);
      fragment_select.push_back(std::move(e));
    }
    fragment["select_list"] = fragment_select;
    fragment["having"] = nullptr;
    fragment["modifiers"] = json::array();
    SYNDB_ASSIGN_OR_RETURN(scan.fragment_sql, warehouse::render_select(parser_, fragment));
    SYNDB_ASSIGN_OR_RETURN(scan.dataset_filter_sql, dataset_filter_sql(scan.table));

    json final_node = node;
    final_node["select_list"] = select;
    final_node["having"] = having;
    final_node["modifiers"] = modifiers;
    final_node["where_clause"] = nullptr;
    scan.materialize = read_twice(scan.table);
    final_node["from_table"]["table_name"] = scan.materialize ? scan.view + "_m" : scan.view;
    final_node["from_table"]["alias"] = "";
    json final_groups = json::array();
    for (size_t g = 0; g < groups.size(); ++g) final_groups.push_back(column_ref("syndb_g" + std::to_string(g)));
    final_node["group_expressions"] = final_groups;
    SYNDB_ASSIGN_OR_RETURN(plan->final_sql, warehouse::render_select(parser_, final_node));
    plan->scans.push_back(std::move(scan));
    plan->partial_aggregate = true;
    return true;
  }

  warehouse::Warehouse& parser_;
  const PlannerInput& in_;
  json root_;
  std::vector<Instance> instances_;
  bool natural_join_ = false;
};

}  // namespace

Result<Plan> plan_query(warehouse::Warehouse& parser, const PlannerInput& input) {
  Planner p(parser, input);
  return p.run();
}

}  // namespace syndb::query
