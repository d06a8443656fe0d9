// `syndb query --hub URL "SQL"`: one federated question, printed.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "api/http_client.h"
#include "cli/commands.h"
#include "cli/table.h"

namespace syndb::cli {

using nlohmann::json;

namespace {

std::optional<std::string> cell_text(const json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return std::string(buf);
  }
  return v.dump();
}

void print_provenance(const json& p, std::FILE* out) {
  const auto& nodes = p.value("nodes", json::array());
  const auto& datasets = p.value("datasets", json::array());
  std::fprintf(out, "provenance: %s, %zu node(s), %zu dataset(s)%s, %.1f ms\n",
               p.value("complete", false) ? "complete" : "INCOMPLETE", nodes.size(), datasets.size(),
               p.value("partial_aggregate", false) ? ", partial aggregates computed at the nodes" : "",
               p.value("ms", 0.0));
  for (const auto& n : nodes) {
    std::string ids;
    for (const auto& d : n["datasets"]) ids += (ids.empty() ? "" : " ") + d.get<std::string>();
    std::fprintf(out, "  %-10s %8lld rows %7.1f ms  %s\n", n.value("name", "").c_str(),
                 static_cast<long long>(n.value("rows", int64_t{0})), n.value("ms", 0.0), ids.c_str());
  }
  for (const auto& m : p.value("missing", json::array())) {
    std::string ids;
    for (const auto& d : m["datasets"]) ids += (ids.empty() ? "" : " ") + d.get<std::string>();
    std::fprintf(out, "  MISSING %s (%s): %s\n", m.value("name", "").c_str(), m.value("reason", "").c_str(),
                 ids.c_str());
  }
  std::set<std::string> cites;
  for (const auto& d : datasets) {
    std::string c = d.value("citation", "");
    if (!d.value("doi", "").empty()) c += (c.empty() ? "doi:" : " doi:") + d.value("doi", "");
    if (!c.empty()) cites.insert(c);
  }
  for (const auto& c : cites) std::fprintf(out, "  cite: %s\n", c.c_str());
}

}  // namespace

int run_query(const QueryCliOptions& o) {
  static const std::set<std::string> kFormats = {"table", "csv", "json", "arrow"};
  if (!kFormats.count(o.format)) return fail("--format must be table, csv, json or arrow, not '" + o.format + "'", 2);
  if (o.sql.empty()) return fail("no SQL given", 2);
  if (o.format == "arrow" && o.output.empty() && isatty(STDOUT_FILENO)) {
    return fail("--format arrow writes binary; redirect stdout or use --output FILE", 2);
  }
  const std::string accept = o.format == "csv"     ? "text/csv"
                             : o.format == "arrow" ? "application/vnd.apache.arrow.stream"
                                                   : "application/json";
  json body{{"sql", o.sql}, {"allow_partial", o.allow_partial}};
  auto resp = api::http_request("POST", o.hub_url + "/v1/query", body.dump(), o.timeout_ms, accept);
  if (!resp.ok()) return fail(resp.error().message());
  if (resp->status != 200) {
    auto j = json::parse(resp->body, nullptr, false);
    std::string msg = !j.is_discarded() && j.contains("error") ? j["error"].get<std::string>() : resp->body;
    return fail("query failed (HTTP " + std::to_string(resp->status) + "): " + msg);
  }
  std::FILE* out = stdout;
  if (!o.output.empty()) {
    out = std::fopen(o.output.c_str(), "wb");
    if (!out) return fail("cannot write " + o.output);
  }
  if (o.format != "table") {
    std::fwrite(resp->body.data(), 1, resp->body.size(), out);
    if (o.format == "json") std::fputc('\n', out);
    auto h = resp->headers.find("x-syndb-provenance");
    if (o.format != "json" && h != resp->headers.end()) {
      auto p = json::parse(h->second, nullptr, false);
      if (!p.is_discarded()) print_provenance(p, stderr);
    }
  } else {
    auto j = json::parse(resp->body, nullptr, false);
    if (j.is_discarded()) return fail("hub answered something that is not JSON");
    warehouse::TextResult t;
    for (const auto& c : j["columns"]) t.columns.push_back(c.value("name", ""));
    for (const auto& row : j["rows"]) {
      std::vector<std::optional<std::string>> cells;
      for (const auto& v : row) cells.push_back(cell_text(v));
      t.rows.push_back(std::move(cells));
    }
    print_table(t, out);
    print_provenance(j["provenance"], out);
  }
  if (out != stdout) std::fclose(out);
  return 0;
}

}  // namespace syndb::cli
