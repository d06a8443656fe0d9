#include "warehouse/datasets.h"

#include <fmt/format.h>

#include <cctype>

#include "warehouse/schema.h"
#include "warehouse/sql.h"

namespace syndb::warehouse {

namespace {

bool valid_segment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

}  // namespace

Status validate_dataset_id(const std::string& id) {
  auto segs = segments(id);
  if (segs.size() != 3 || !valid_segment(segs[0]) || !valid_segment(segs[1]) || !valid_segment(segs[2])) {
    return Error(ErrorCode::kInvalidArgument,
                 "dataset id '" + id + "' is not of the form /<institution>/<collection>/<dataset>");
  }
  return ok_status();
}

Status validate_prefix(const std::string& prefix) {
  auto segs = segments(prefix);
  bool ok = (segs.size() == 1 || segs.size() == 2);
  for (auto s : segs) ok = ok && valid_segment(s);
  if (!ok) {
    return Error(ErrorCode::kInvalidArgument,
                 "prefix '" + prefix + "' is not of the form /<institution> or /<institution>/<collection>");
  }
  return ok_status();
}

Result<std::optional<std::string>> namespace_prefix(Warehouse& w) {
  SYNDB_ASSIGN_OR_RETURN(auto r, w.query_text("SELECT value FROM node_info WHERE key = 'namespace_prefix'"));
  if (r.rows.empty() || !r.rows[0][0]) return std::optional<std::string>();
  return std::optional<std::string>(*r.rows[0][0]);
}

Status claim_namespace(Warehouse& w, const std::string& prefix) {
  SYNDB_RETURN_IF_ERROR(validate_prefix(prefix));
  SYNDB_ASSIGN_OR_RETURN(auto current, namespace_prefix(w));
  if (current) {
    if (*current == prefix) return ok_status();
    return Error(ErrorCode::kPermissionDenied,
                 "this node's namespace is " + *current + "; it cannot also claim " + prefix);
  }
  return w.execute("INSERT INTO node_info VALUES ('namespace_prefix', " + sql_quote(prefix) + ")");
}

Status create_dataset(Warehouse& w, const DatasetMeta& m) {
  SYNDB_RETURN_IF_ERROR(validate_dataset_id(m.id));
  SYNDB_ASSIGN_OR_RETURN(auto prefix, namespace_prefix(w));
  if (!prefix) {
    return Error(ErrorCode::kPermissionDenied, "this node has no namespace yet; cannot create " + m.id);
  }
  if (m.id.compare(0, prefix->size() + 1, *prefix + "/") != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "dataset " + m.id + " is outside this node's namespace " + *prefix + "; refusing to create it");
  }
  bool known_policy = false;
  for (const char* p : kPolicies) known_policy = known_policy || m.policy == p;
  if (!known_policy) return Error(ErrorCode::kInvalidArgument, "unknown access policy '" + m.policy + "'");
  if (m.policy == "aggregate_only" && (!m.policy_k || *m.policy_k < 1)) {
    return Error(ErrorCode::kInvalidArgument, "policy aggregate_only needs k >= 1");
  }
  SYNDB_ASSIGN_OR_RETURN(auto exists, w.query_text("SELECT 1 FROM dataset WHERE id = " + sql_quote(m.id)));
  if (!exists.rows.empty()) return Error(ErrorCode::kInvalidArgument, "dataset " + m.id + " already exists");
  std::string age = m.age_hours ? fmt::format("{}", *m.age_hours) : "NULL";
  std::string k = m.policy_k ? std::to_string(*m.policy_k) : "NULL";
  return w.execute("INSERT INTO dataset VALUES (" + sql_quote(m.id) + ", " + sql_quote(m.title) + ", " +
                   sql_quote(m.institution) + ", " + sql_quote_or_null(m.species) + ", " +
                   sql_quote_or_null(m.stage) + ", " + age + ", " + sql_quote_or_null(m.method) + ", " +
                   sql_quote_or_null(m.doi) + ", " + sql_quote_or_null(m.license) + ", " +
                   sql_quote_or_null(m.citation) + ", " + sql_quote(m.policy) + ", " + k + ")");
}

Status upsert_ontology(Warehouse& w, const std::vector<OntologyTerm>& terms) {
  constexpr size_t kBatch = 512;  // rows per statement
  for (size_t i = 0; i < terms.size(); i += kBatch) {
    std::string sql = "INSERT OR REPLACE INTO ontology_term VALUES ";
    for (size_t k = i; k < std::min(terms.size(), i + kBatch); ++k) {
      const auto& t = terms[k];
      sql += (k == i ? "(" : ", (") + sql_quote(t.id) + ", " + sql_quote(t.label) + ", " +
             sql_quote_or_null(t.parent_id) + ", " + sql_quote(t.kind) + ")";
    }
    SYNDB_RETURN_IF_ERROR(w.execute(sql));
  }
  return ok_status();
}

Result<std::vector<DatasetSummary>> list_datasets(Warehouse& w) {
  SYNDB_ASSIGN_OR_RETURN(auto r, w.query_text(
      "SELECT d.id, d.title, d.institution, d.species, d.stage, d.age_hours, d.method, d.doi, d.license, "
      "d.citation, d.policy, d.policy_k, "
      "(SELECT count(*) FROM synapse s WHERE s.dataset_id = d.id), "
      "(SELECT count(*) FROM gap_junction g WHERE g.dataset_id = d.id), "
      "(SELECT count(*) FROM cell c WHERE c.dataset_id = d.id) "
      "FROM dataset d ORDER BY d.id"));
  std::vector<DatasetSummary> out;
  for (const auto& row : r.rows) {
    auto text = [&](size_t i) { return row[i].value_or(""); };
    DatasetSummary s;
    s.meta = DatasetMeta{text(0), text(1), text(2), text(3), text(4), std::nullopt, text(6), text(7), text(8),
                         text(9), text(10), std::nullopt};
    if (row[5]) s.meta.age_hours = std::stod(*row[5]);
    if (row[11]) s.meta.policy_k = std::stoi(*row[11]);
    s.synapses = std::stoll(text(12));
    s.gap_junctions = std::stoll(text(13));
    s.cells = std::stoll(text(14));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace syndb::warehouse
