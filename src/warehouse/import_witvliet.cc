#include "warehouse/import_witvliet.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "common/progress.h"
#include "warehouse/datasets.h"
#include "warehouse/sql.h"

namespace syndb::warehouse {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Stage and age per dataset (data README, Witvliet et al. 2021 Fig. 1).
struct DatasetFacts {
  const char* stage;
  double hours;
};
constexpr DatasetFacts kFacts[8] = {{"L1", 0},  {"L1", 5},  {"L1", 8},     {"L1", 16},
                                    {"L2", 23}, {"L3", 27}, {"Adult", 50}, {"Adult", 50}};

constexpr const char* kTitle = "Connectomes across development reveal principles of brain maturation";
constexpr const char* kCitation =
    "Witvliet D., Mulcahy B., Mitchell J.K., Meirovitch Y., Berger D.R., Wu Y., Liu Y., Koh W.X., "
    "Parvathala R., Holmyard D., Schalek R.L., Shavit N., Chisholm A.D., Lichtman J.W., Samuel A.D.T., "
    "Zhen M. Connectomes across development reveal principles of brain maturation. Nature 596, 257-261 (2021).";

Result<std::string> read_file(const fs::path& p, ImportStats& stats) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  stats.bytes_read += static_cast<int64_t>(ss.str().size());
  return ss.str();
}

Result<json> read_json(const fs::path& p, ImportStats& stats) {
  SYNDB_ASSIGN_OR_RETURN(std::string text, read_file(p, stats));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Error(ErrorCode::kInvalidArgument, p.string() + ": not a JSON array");
  }
  return j;
}

// Minimal CSV for the data's own tables (no quoted fields occur in them).
Result<std::vector<std::vector<std::string>>> read_csv(const fs::path& p, ImportStats& stats) {
  SYNDB_ASSIGN_OR_RETURN(std::string text, read_file(p, stats));
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ls(line);
    std::string f;
    while (std::getline(ls, f, ',')) fields.push_back(f);
    if (line.back() == ',') fields.emplace_back();
    rows.push_back(std::move(fields));
  }
  return rows;
}

Error bad(const fs::path& file, size_t index, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, file.string() + ": entry " + std::to_string(index) + ": " + what);
}

struct CellClass {
  std::string cls, type;
};

struct Classifier {
  std::vector<std::pair<std::string, std::string>> classes;  // (class, type), longest first
  std::optional<CellClass> classify(const std::string& cell) const {
    static const std::regex kMuscle("BWM-[DV][LR](0[1-8])");
    std::smatch m;
    std::string name = cell;
    if (std::regex_match(cell, m, kMuscle)) name = "BWM" + m[1].str();
    for (const auto& [c, t] : classes) {
      if (name.compare(0, c.size(), c) == 0) return CellClass{c, t};
    }
    return std::nullopt;
  }
};

}  // namespace

Result<ImportStats> import_witvliet(Warehouse& w, const WitvlietOptions& o) {
  ImportStats stats;
  fs::path dir(o.dir);
  if (!fs::is_directory(dir / "synapses")) {
    return Error(ErrorCode::kNotFound, o.dir + " does not look like the witvliet2021 data (no synapses/ folder)");
  }
  SYNDB_RETURN_IF_ERROR(validate_prefix(o.prefix));
  std::vector<int> ids = o.datasets;
  if (ids.empty() && !o.ontology_only) ids = {1, 2, 3, 4, 5, 6, 7, 8};
  if (o.ontology_only) ids.clear();
  for (int id : ids) {
    if (id < 1 || id > 8) return Error(ErrorCode::kInvalidArgument, "no dataset " + std::to_string(id) + " (1..8)");
  }

  // Cell classes and types.
  Classifier classifier;
  SYNDB_ASSIGN_OR_RETURN(auto neurons, read_csv(dir / "tables" / "neurons.csv", stats));
  for (size_t i = 1; i < neurons.size(); ++i) {
    if (neurons[i].size() < 3) return bad(dir / "tables" / "neurons.csv", i + 1, "expected class,members,type");
    classifier.classes.emplace_back(neurons[i][0], neurons[i][2]);
  }
  std::sort(classifier.classes.begin(), classifier.classes.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

  // post_is_branch per (dataset, syn_id, post), in file order.
  std::map<std::tuple<std::string, int64_t, std::string>, std::vector<std::optional<bool>>> branch;
  SYNDB_ASSIGN_OR_RETURN(auto synapse_list, read_csv(dir / "tables" / "synapse_list.csv", stats));
  for (size_t i = 1; i < synapse_list.size(); ++i) {
    const auto& r = synapse_list[i];
    if (r.size() < 7) return bad(dir / "tables" / "synapse_list.csv", i + 1, "expected 7 columns");
    std::optional<bool> b;
    if (r[6] == "yes") b = true;
    if (r[6] == "no") b = false;
    int64_t syn_id = 0;
    try {
      syn_id = std::stoll(r[3]);
    } catch (...) {
      return bad(dir / "tables" / "synapse_list.csv", i + 1, "syn_id '" + r[3] + "' is not an integer");
    }
    branch[{r[0], syn_id, r[2]}].push_back(b);
  }

  Progress progress("import witvliet");
  SYNDB_RETURN_IF_ERROR(w.begin());
  std::unique_ptr<Appender> syn_app, gj_app, cell_app;
  auto fail = [&](const Error& e) -> Error {
    (void)w.rollback();  // also discards rows the appenders still buffer
    return e;
  };
  Status st = o.ontology_only ? ok_status() : claim_namespace(w, "/" + o.prefix.substr(1, o.prefix.find('/', 1) - 1));
  if (!st.ok()) return fail(st.error());
  for (auto [app, table] : {std::pair{&syn_app, "synapse"}, {&gj_app, "gap_junction"}, {&cell_app, "cell"}}) {
    auto created = w.appender(table);
    if (!created.ok()) return fail(created.error());
    *app = std::move(created).value();
  }

  std::set<std::string> all_cells;
  for (int n : ids) {
    std::string name = "Dataset" + std::to_string(n);
    std::string dataset_id = o.prefix + "/dataset" + std::to_string(n);
    DatasetMeta meta;
    meta.id = dataset_id;
    meta.title = std::string(kTitle) + " (" + name + ", " + kFacts[n - 1].stage + ")";
    meta.institution = o.institution;
    meta.species = "Caenorhabditis elegans";
    meta.stage = kFacts[n - 1].stage;
    meta.age_hours = kFacts[n - 1].hours;
    meta.method = "serial-section electron microscopy";
    meta.doi = "10.1038/s41586-021-03778-8";
    meta.license = "CC-BY-4.0";
    meta.citation = kCitation;
    st = create_dataset(w, meta);
    if (!st.ok()) return fail(st.error());
    ++stats.datasets;

    std::map<std::string, std::optional<double>> cells;  // name -> volume
    fs::path syn_file = dir / "synapses" / (name + "_synapses.json");
    auto synapses = read_json(syn_file, stats);
    if (!synapses.ok()) return fail(synapses.error());
    for (size_t i = 0; i < synapses->size(); ++i) {
      const json& s = (*synapses)[i];
      if (!s.is_object() || !s.contains("pre") || !s.contains("post") || !s["post"].is_array() ||
          !s.contains("catmaid_id")) {
        return fail(bad(syn_file, i, "missing pre, post or catmaid_id"));
      }
      const json& cid = s["catmaid_id"].is_array() && !s["catmaid_id"].empty() ? s["catmaid_id"][0] : s["catmaid_id"];
      if (!cid.is_number_integer()) return fail(bad(syn_file, i, "catmaid_id is not an integer"));
      int64_t synapse_id = cid.get<int64_t>();
      std::string pre = s["pre"].get<std::string>();
      Value size = s.contains("size") && s["size"].is_number() ? Value(s["size"].get<double>()) : Value();
      Value sections = s.contains("size_proportion_per_section") && s["size_proportion_per_section"].is_array()
                           ? Value(static_cast<int64_t>(s["size_proportion_per_section"].size()))
                           : Value();
      const json& posts = s["post"];
      const json* weights = s.contains("post_weights") ? &s["post_weights"] : nullptr;
      if (weights && (!weights->is_array() || weights->size() != posts.size())) {
        return fail(bad(syn_file, i, "post_weights does not match post"));
      }
      cells.try_emplace(pre);
      std::map<std::string, size_t> seen;
      for (size_t k = 0; k < posts.size(); ++k) {
        if (!posts[k].is_string()) return fail(bad(syn_file, i, "post entry is not a cell name"));
        std::string post = posts[k].get<std::string>();
        cells.try_emplace(post);
        Value weight = weights && (*weights)[k].is_number() ? Value((*weights)[k].get<double>()) : Value();
        Value is_branch;
        auto it = branch.find({name, synapse_id, post});
        size_t occurrence = seen[post]++;
        if (it != branch.end() && occurrence < it->second.size() && it->second[occurrence]) {
          is_branch = *it->second[occurrence];
        }
        st = syn_app->append_row({dataset_id, synapse_id, pre, post, size, weight, sections, is_branch});
        if (!st.ok()) return fail(st.error());
        ++stats.synapses;
        progress.add(1, 0);
      }
    }

    fs::path gj_file = dir / "synapses" / (name + "_gapjunctions.json");
    auto gaps = read_json(gj_file, stats);
    if (!gaps.ok()) return fail(gaps.error());
    std::set<int64_t> seen_junctions;
    for (size_t i = 0; i < gaps->size(); ++i) {
      const json& g = (*gaps)[i];
      if (!g.is_object() || !g.contains("n1") || !g.contains("n2") || !g.contains("catmaid_id") ||
          !g["catmaid_id"].is_number_integer()) {
        return fail(bad(gj_file, i, "missing n1, n2 or catmaid_id"));
      }
      int64_t gid = g["catmaid_id"].get<int64_t>();
      std::string a = g["n1"].get<std::string>(), b = g["n2"].get<std::string>();
      cells.try_emplace(a);
      cells.try_emplace(b);
      if (!seen_junctions.insert(gid).second) continue;
      st = gj_app->append_row({dataset_id, gid, a, b});
      if (!st.ok()) return fail(st.error());
      ++stats.gap_junctions;
      progress.add(1, 0);
    }

    fs::path vol_file = dir / "physical_contact" / (name + "_volumes.csv");
    if (fs::exists(vol_file)) {
      auto vols = read_csv(vol_file, stats);
      if (!vols.ok()) return fail(vols.error());
      for (size_t i = 1; i < vols->size(); ++i) {
        const auto& r = (*vols)[i];
        if (r.size() < 2) return fail(bad(vol_file, i + 1, "expected Cell,Volume_nm^3"));
        try {
          cells[r[0]] = std::stod(r[1]);
        } catch (...) {
          return fail(bad(vol_file, i + 1, "volume '" + r[1] + "' is not a number"));
        }
      }
    }
    for (const auto& [cell, volume] : cells) {
      auto cc = classifier.classify(cell);
      st = cell_app->append_row({dataset_id, cell, cc ? Value(cc->cls) : Value(), cc ? Value(cc->type) : Value(),
                                    volume ? Value(*volume) : Value()});
      if (!st.ok()) return fail(st.error());
      ++stats.cells;
      all_cells.insert(cell);
    }
    progress.add(0, 0);
  }
  for (auto* app : {&syn_app, &gj_app, &cell_app}) {
    st = (*app)->close();
    if (!st.ok()) return fail(st.error());
  }

  // Ontology: types, classes, cells (upserted: several imports share terms).
  std::vector<OntologyTerm> terms;
  std::set<std::string> types;
  for (const auto& [c, t] : classifier.classes) types.insert(t);
  for (const auto& t : types) terms.push_back({"type:" + t, t, "", "type"});
  for (const auto& [c, t] : classifier.classes) terms.push_back({"class:" + c, c, "type:" + t, "class"});
  for (const auto& cell : all_cells) {
    auto cc = classifier.classify(cell);
    terms.push_back({"cell:" + cell, cell, cc ? "class:" + cc->cls : "", "cell"});
  }
  st = upsert_ontology(w, terms);
  if (!st.ok()) return fail(st.error());
  stats.ontology_terms = static_cast<int64_t>(terms.size());
  progress.add(0, static_cast<uint64_t>(stats.bytes_read));
  st = w.commit();
  if (!st.ok()) return fail(st.error());
  return stats;
}

}  // namespace syndb::warehouse
