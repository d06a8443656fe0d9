// DuckDB's own SQL parser as a library: the json extension's
// json_serialize_sql / json_deserialize_sql turn one SELECT statement into
// DuckDB's serialised AST (JSON: SELECT_NODE, SET_OPERATION_NODE, table refs
// BASE_TABLE / JOIN / SUBQUERY / TABLE_FUNCTION, expressions by "class") and
// back. The format is DuckDB's internal one, stable within the release we load.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/result.h"
#include "warehouse/warehouse.h"

namespace syndb::warehouse {

// Parses `sql`, which must be exactly one SELECT (WITH … SELECT, set
// operations), into its query node. Errors: kInvalidArgument with DuckDB's
// message for a syntax error, another statement kind or several statements.
Result<nlohmann::json> parse_select(Warehouse& w, const std::string& sql);

// SQL text for a query node from parse_select() (possibly rewritten).
// Errors: kInvalidArgument when DuckDB cannot deserialise the node.
Result<std::string> render_select(Warehouse& w, const nlohmann::json& node);

// Calls fn on every JSON object in `j` (pre-order, j itself included);
// fn returns false to skip that object's children.
void for_each_object(const nlohmann::json& j, const std::function<bool(const nlohmann::json&)>& fn);
void for_each_object(nlohmann::json& j, const std::function<bool(nlohmann::json&)>& fn);

// True when pred holds for some object in `j` (j included).
bool any_object(const nlohmann::json& j, const std::function<bool(const nlohmann::json&)>& pred);

// The names of every CTE defined anywhere in a query node.
std::set<std::string> cte_names(const nlohmann::json& node);

// o[key] when it is a string, else "" (AST objects reuse keys such as
// "type" for strings and for nested objects).
std::string ast_string(const nlohmann::json& o, const char* key);

// Structural equality of two AST fragments, ignoring source positions
// ("query_location") and aliases.
bool ast_equal(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace syndb::warehouse
