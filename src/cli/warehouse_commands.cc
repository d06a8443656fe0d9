// import witvliet, import csv, sql, dataset list|show, warehouse version, gen synthetic.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "warehouse/datasets.h"
#include "warehouse/import_csv.h"
#include "warehouse/import_witvliet.h"
#include "warehouse/schema.h"
#include "warehouse/sql.h"
#include "warehouse/synthetic.h"

namespace syndb::cli {

using namespace syndb::warehouse;

namespace {

int fail(const Error& e) {
  return cli::fail(e.message(), e.code() == ErrorCode::kInvalidArgument && e.message().rfind("usage:", 0) == 0 ? 2 : 1);
}

// Opens the warehouse read-write and brings its schema up to date.
Result<std::unique_ptr<Warehouse>> open_for_write(const std::string& data_dir) {
  SYNDB_ASSIGN_OR_RETURN(auto w, open_duckdb(data_dir));
  SYNDB_RETURN_IF_ERROR(w->migrate(latest_schema_version()));
  return w;
}

Result<std::unique_ptr<Warehouse>> open_for_read(const std::string& data_dir) {
  OpenOptions o;
  o.read_only = true;
  SYNDB_ASSIGN_OR_RETURN(auto w, open_duckdb(data_dir, o));
  SYNDB_ASSIGN_OR_RETURN(int v, w->schema_version());
  if (v < latest_schema_version()) {
    return Error(ErrorCode::kUnsupported, "warehouse in " + data_dir + " has schema version " + std::to_string(v) +
                                              " (current " + std::to_string(latest_schema_version()) +
                                              "); run an import or `syndb warehouse migrate` first");
  }
  return w;
}

}  // namespace

int run_import_witvliet(const ImportWitvlietOptions& o) {
  auto w = open_for_write(o.data_dir);
  if (!w.ok()) return fail(w.error());
  WitvlietOptions wo{o.dir, o.prefix, o.datasets, "University of Toronto", o.ontology_only};
  auto stats = import_witvliet(**w, wo);
  if (!stats.ok()) return fail(stats.error());
  std::printf("imported %lld datasets: %lld synapse rows, %lld gap junctions, %lld cells, %lld ontology terms\n",
              static_cast<long long>(stats->datasets), static_cast<long long>(stats->synapses),
              static_cast<long long>(stats->gap_junctions), static_cast<long long>(stats->cells),
              static_cast<long long>(stats->ontology_terms));
  return 0;
}

int run_import_csv(const ImportCsvOptions& o) {
  auto w = open_for_write(o.data_dir);
  if (!w.ok()) return fail(w.error());
  CsvImportOptions co{o.file, o.table, o.dataset, {}, o.delimiter};
  for (const auto& m : o.map) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      std::fprintf(stderr, "syndb: --map wants col=source, got '%s'\n", m.c_str());
      return 2;
    }
    co.column_map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  auto rows = import_file(**w, co);
  if (!rows.ok()) return fail(rows.error());
  std::printf("imported %lld rows into %s\n", static_cast<long long>(*rows), o.table.c_str());
  return 0;
}

int run_sql(const SqlOptions& o) {
  auto w = open_for_read(o.data_dir);
  if (!w.ok()) return fail(w.error());
  if (o.format == "json") {
    // DuckDB renders each row as a JSON object keyed by column name, with
    // JSON types. Columns are read by position (#i), never by a name of ours
    // that the user's columns could shadow (a column named `t` did).
    std::string stripped = o.sql;
    while (!stripped.empty() && (stripped.back() == ';' || std::isspace(static_cast<unsigned char>(stripped.back()))))
      stripped.pop_back();
    auto schema = (*w)->query_schema(stripped);
    if (!schema.ok()) return fail(schema.error());
    std::string fields;
    for (int64_t i = 0; i < schema->get()->n_children; ++i) {
      const char* name = schema->get()->children[i]->name;
      fields += (i ? ", " : "") + sql_quote(name ? name : "") + ", #" + std::to_string(i + 1);
    }
    auto r = (*w)->query_text("SELECT CAST(json_object(" + fields + ") AS VARCHAR) FROM (" + stripped + ") AS q");
    if (!r.ok()) return fail(r.error());
    std::printf("[");
    for (size_t i = 0; i < r->rows.size(); ++i) std::printf("%s%s", i ? "," : "", r->rows[i][0]->c_str());
    std::printf("]\n");
    return 0;
  }
  auto r = (*w)->query_text(o.sql);
  if (!r.ok()) return fail(r.error());
  if (o.format == "csv") {
    print_csv(*r, stdout);
  } else {
    print_table(*r, stdout);
  }
  return 0;
}

int run_dataset(const DatasetOptions& o) {
  auto w = open_for_read(o.data_dir);
  if (!w.ok()) return fail(w.error());
  auto list = list_datasets(**w);
  if (!list.ok()) return fail(list.error());
  if (o.action == "list") {
    TextResult t;
    t.columns = {"id", "stage", "age_hours", "policy", "synapses", "gap_junctions", "cells"};
    for (const auto& d : *list) {
      std::string policy = d.meta.policy + (d.meta.policy_k ? "(" + std::to_string(*d.meta.policy_k) + ")" : "");
      t.rows.push_back({d.meta.id, d.meta.stage, d.meta.age_hours ? fmt::format("{}", *d.meta.age_hours) : "",
                        policy, std::to_string(d.synapses), std::to_string(d.gap_junctions),
                        std::to_string(d.cells)});
    }
    print_table(t, stdout);
    return 0;
  }
  for (const auto& d : *list) {
    if (d.meta.id != o.id) continue;
    nlohmann::ordered_json j;
    j["id"] = d.meta.id;
    j["title"] = d.meta.title;
    j["institution"] = d.meta.institution;
    j["species"] = d.meta.species;
    j["stage"] = d.meta.stage;
    j["age_hours"] = d.meta.age_hours ? nlohmann::ordered_json(*d.meta.age_hours) : nullptr;
    j["method"] = d.meta.method;
    j["doi"] = d.meta.doi;
    j["license"] = d.meta.license;
    j["citation"] = d.meta.citation;
    j["policy"] = d.meta.policy;
    j["policy_k"] = d.meta.policy_k ? nlohmann::ordered_json(*d.meta.policy_k) : nullptr;
    j["rows"] = {{"synapse", d.synapses}, {"gap_junction", d.gap_junctions}, {"cell", d.cells}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::fprintf(stderr, "syndb: no dataset %s in %s\n", o.id.c_str(), o.data_dir.c_str());
  return 1;
}

int run_warehouse(const WarehouseOptions& o) {
  if (o.action == "migrate") {
    auto w = open_for_write(o.data_dir);
    if (!w.ok()) return fail(w.error());
  }
  OpenOptions ro;
  ro.read_only = true;
  auto w = open_duckdb(o.data_dir, ro);
  if (!w.ok()) return fail(w.error());
  auto v = (*w)->schema_version();
  if (!v.ok()) return fail(v.error());
  std::printf("%d\n", *v);
  return 0;
}

int run_gen_synthetic(const GenSyntheticOptions& o) {
  SyntheticOptions so{o.rows, o.datasets, o.seed, o.prefix};
  if (!o.csv.empty()) {
    auto n = write_synthetic_synapse_csv(o.csv, so);
    if (!n.ok()) return fail(n.error());
    std::printf("wrote %lld synapse rows to %s\n", static_cast<long long>(*n), o.csv.c_str());
    return 0;
  }
  auto w = open_for_write(o.data_dir);
  if (!w.ok()) return fail(w.error());
  auto n = generate_synthetic(**w, so);
  if (!n.ok()) return fail(n.error());
  std::printf("generated %lld synapse rows in %d datasets\n", static_cast<long long>(*n), o.datasets);
  return 0;
}

}  // namespace syndb::cli
