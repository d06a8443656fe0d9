#include "warehouse/import_csv.h"

#include <filesystem>
#include <map>

#include "common/progress.h"
#include "warehouse/datasets.h"
#include "warehouse/sql.h"

namespace syndb::warehouse {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<int64_t> import_file(Warehouse& w, const CsvImportOptions& o) {
  namespace fs = std::filesystem;
  if (o.table != "synapse" && o.table != "gap_junction" && o.table != "cell") {
    return Error(ErrorCode::kInvalidArgument, "usage: --table must be synapse, gap_junction or cell, not '" +
                                                  o.table + "'");
  }
  if (!fs::is_regular_file(o.file)) return Error(ErrorCode::kNotFound, "no such file: " + o.file);
  if (o.delimiter.size() != 1) return Error(ErrorCode::kInvalidArgument, "usage: --delimiter must be one character");
  SYNDB_RETURN_IF_ERROR(validate_dataset_id(o.dataset));

  // Target columns and their types.
  SYNDB_ASSIGN_OR_RETURN(auto tables, w.describe());
  const TableInfo* target = nullptr;
  for (const auto& t : tables) {
    if (t.name == o.table) target = &t;
  }
  if (!target) return Error(ErrorCode::kInternal, "table " + o.table + " missing; warehouse not migrated?");

  bool parquet = ends_with(o.file, ".parquet");
  std::string reader = parquet ? "read_parquet(" + sql_quote(o.file) + ")" : "";
  // Header of the file.
  std::string probe = parquet ? reader
                              : "read_csv(" + sql_quote(o.file) + ", header = true, delim = " +
                                    sql_quote(o.delimiter) + ", all_varchar = true)";
  auto header = w.query_text("SELECT column_name FROM (DESCRIBE SELECT * FROM " + probe + ")");
  if (!header.ok()) return header.error().wrap(o.file);
  std::map<std::string, bool> in_file;
  std::string header_list;
  for (const auto& row : header->rows) {
    in_file[*row[0]] = true;
    header_list += (header_list.empty() ? "" : ", ") + *row[0];
  }
  std::map<std::string, std::string> source;  // table column -> file column
  for (const auto& [col, src] : o.column_map) {
    bool known = false;
    for (const auto& c : target->columns) known = known || c.name == col;
    if (!known || col == "dataset_id") {
      return Error(ErrorCode::kInvalidArgument, "usage: --map " + col + "=" + src + ": " + o.table +
                                                    " has no column " + col + " that can be mapped");
    }
    source[col] = src;
  }
  std::vector<std::string> cols, exprs;
  std::string types;
  for (const auto& c : target->columns) {
    if (c.name == "dataset_id") continue;
    std::string src = source.count(c.name) ? source[c.name] : c.name;
    if (!in_file.count(src)) {
      if (source.count(c.name) || !c.nullable) {
        return Error(ErrorCode::kInvalidArgument, o.file + ": line 1: header has no column '" + src + "' for " +
                                                      o.table + "." + c.name + " (header: " + header_list + ")");
      }
      continue;  // nullable column absent from the file: NULL
    }
    cols.push_back(sql_ident(c.name));
    exprs.push_back(sql_ident(src));
    types += (types.empty() ? "" : ", ") + sql_quote(src) + ": " + sql_quote(c.type);
  }
  if (!parquet) {
    // Typed read: DuckDB reports a bad value with its line and column.
    reader = "read_csv(" + sql_quote(o.file) + ", header = true, delim = " + sql_quote(o.delimiter) +
             ", types = {" + types + "}, auto_detect = true)";
  }
  std::string select_list, col_list = "dataset_id";
  for (size_t i = 0; i < cols.size(); ++i) {
    col_list += ", " + cols[i];
    select_list += ", " + exprs[i];
  }

  Progress progress("import " + fs::path(o.file).filename().string());
  SYNDB_RETURN_IF_ERROR(w.begin());
  auto fail = [&](const Error& e) -> Error {
    (void)w.rollback();
    return e;
  };
  auto exists = w.query_text("SELECT 1 FROM dataset WHERE id = " + sql_quote(o.dataset));
  if (!exists.ok()) return fail(exists.error());
  if (exists->rows.empty()) {
    auto prefix = namespace_prefix(w);
    if (!prefix.ok()) return fail(prefix.error());
    if (!*prefix) {
      auto st = claim_namespace(w, o.dataset.substr(0, o.dataset.find('/', 1)));
      if (!st.ok()) return fail(st.error());
    }
    DatasetMeta meta;
    meta.id = o.dataset;
    meta.title = fs::path(o.file).filename().string();
    meta.institution = o.dataset.substr(1, o.dataset.find('/', 1) - 1);
    auto st = create_dataset(w, meta);
    if (!st.ok()) return fail(st.error());
  }
  auto before = w.query_text("SELECT count(*) FROM " + sql_ident(o.table));
  if (!before.ok()) return fail(before.error());
  auto st = w.execute("INSERT INTO " + sql_ident(o.table) + " (" + col_list + ") SELECT " +
                      sql_quote(o.dataset) + select_list + " FROM " + reader);
  if (!st.ok()) return fail(st.error().wrap(o.file));
  auto after = w.query_text("SELECT count(*) FROM " + sql_ident(o.table));
  if (!after.ok()) return fail(after.error());
  st = w.commit();
  if (!st.ok()) return fail(st.error());
  int64_t rows = std::stoll(*after->rows[0][0]) - std::stoll(*before->rows[0][0]);
  std::error_code ec;
  progress.add(static_cast<uint64_t>(rows), fs::file_size(o.file, ec));
  return rows;
}

}  // namespace syndb::warehouse
