#include "warehouse/sql_ast.h"

#include "warehouse/sql.h"

namespace syndb::warehouse {

using nlohmann::json;

namespace {

Result<std::string> scalar(Warehouse& w, const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto r, w.query_text(sql));
  if (r.rows.size() != 1 || r.rows[0].size() != 1 || !r.rows[0][0]) {
    return Error(ErrorCode::kInternal, "DuckDB's SQL serialiser returned no value");
  }
  return *r.rows[0][0];
}

}  // namespace

Result<json> parse_select(Warehouse& w, const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto text, scalar(w, "SELECT json_serialize_sql(" + sql_quote(sql) + ")"));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Error(ErrorCode::kInternal, "DuckDB's SQL serialiser returned invalid JSON");
  if (doc.value("error", false)) {
    std::string msg = doc.value("error_message", "cannot parse the query");
    if (msg.find("Only SELECT") != std::string::npos) msg = "only SELECT queries are supported";
    return Error(ErrorCode::kInvalidArgument, msg);
  }
  const auto& stmts = doc["statements"];
  if (!stmts.is_array() || stmts.size() != 1) {
    return Error(ErrorCode::kInvalidArgument, "expected exactly one SELECT statement");
  }
  if (!stmts[0].value("named_param_map", json::array()).empty()) {
    return Error(ErrorCode::kInvalidArgument, "query parameters are not supported");
  }
  return stmts[0]["node"];
}

Result<std::string> render_select(Warehouse& w, const json& node) {
  json doc = {{"error", false}, {"statements", json::array({{{"node", node}, {"named_param_map", json::array()}}})}};
  auto text = scalar(w, "SELECT json_deserialize_sql(" + sql_quote(doc.dump()) + ")");
  if (!text.ok()) return Error(ErrorCode::kInvalidArgument, "cannot render a query: " + text.error().message());
  return text;
}

void for_each_object(const json& j, const std::function<bool(const json&)>& fn) {
  if (j.is_object()) {
    if (!fn(j)) return;
    for (const auto& [k, v] : j.items()) for_each_object(v, fn);
  } else if (j.is_array()) {
    for (const auto& v : j) for_each_object(v, fn);
  }
}

void for_each_object(json& j, const std::function<bool(json&)>& fn) {
  if (j.is_object()) {
    if (!fn(j)) return;
    for (auto& [k, v] : j.items()) for_each_object(v, fn);
  } else if (j.is_array()) {
    for (auto& v : j) for_each_object(v, fn);
  }
}

bool any_object(const json& j, const std::function<bool(const json&)>& pred) {
  bool found = false;
  for_each_object(j, [&](const json& o) {
    if (pred(o)) found = true;
    return !found;
  });
  return found;
}

std::set<std::string> cte_names(const json& node) {
  std::set<std::string> names;
  for_each_object(node, [&](const json& o) {
    auto m = o.find("cte_map");
    if (m != o.end() && m->is_object()) {
      for (const auto& e : m->value("map", json::array())) names.insert(e.value("key", ""));
    }
    return true;
  });
  return names;
}

std::string ast_string(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool ast_equal(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (k == "query_location" || k == "alias") continue;
      auto it = b.find(k);
      if (it == b.end() || !ast_equal(v, *it)) return false;
    }
    for (const auto& [k, v] : b.items()) {
      if (k != "query_location" && k != "alias" && !a.contains(k)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!ast_equal(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace syndb::warehouse
