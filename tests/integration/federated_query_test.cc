// Issue 6's correctness oracle: `syndb demo --keep` runs a hub and three
// nodes holding the Witvliet datasets 1–3, 4–6 and 7–8; every query of
// differential_corpus.sql, asked over POST /v1/query, must equal the answer
// of one DuckDB holding the union of the three nodes' data. Randomised
// filter/aggregate queries too, then the incomplete and partial cases
// (a node stopped) and the policies.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "api/http_client.h"
#include "process.h"
#include "test_fs.h"
#include "warehouse/import_witvliet.h"
#include "warehouse/schema.h"
#include "warehouse/warehouse.h"

namespace syndb {
namespace {

namespace fs = std::filesystem;
using itest::Child;
using itest::DeadlineIn;
using nlohmann::json;

fs::path WitvlietDir() {
  std::error_code ec;
  return fs::weakly_canonical(fs::path(SYNDB_SOURCE_DIR), ec).parent_path() / "shared" / "data" / "witvliet2021";
}

struct Query {
  std::string name, sql;
};

std::vector<Query> LoadCorpus() {
  std::ifstream in(std::string(SYNDB_SOURCE_DIR) + "/tests/integration/differential_corpus.sql");
  std::vector<Query> out;
  Query cur;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("-- name:", 0) == 0) {
      cur.name = line.substr(8);
      continue;
    }
    if (line.rfind("--", 0) == 0) continue;
    cur.sql += line + "\n";
    auto end = line.find_last_not_of(" \t\r");
    if (end != std::string::npos && line[end] == ';') {
      cur.sql.erase(cur.sql.rfind(';'));
      out.push_back(cur);
      cur = {};
    }
  }
  return out;
}

// True when the query has an ORDER BY outside parentheses (its row order is defined).
bool Ordered(const std::string& sql) {
  int depth = 0;
  std::string up;
  for (char c : sql) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < up.size(); ++i) {
    if (up[i] == '(') ++depth;
    if (up[i] == ')') --depth;
    if (depth == 0 && up.compare(i, 8, "ORDER BY") == 0) return true;
  }
  return false;
}

bool SameValue(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return std::fabs(x - y) <= 1e-9 * std::max({1.0, std::fabs(x), std::fabs(y)});
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameValue(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

// Rows as JSON arrays, from DuckDB itself (the oracle).
json OracleRows(warehouse::Warehouse& w, const std::string& sql) {
  auto schema = w.query_schema(sql);
  if (!schema.ok()) return json{{"error", schema.error().message()}};
  std::string cols;
  for (int64_t i = 1; i <= schema->get()->n_children; ++i) cols += (i > 1 ? ", #" : "#") + std::to_string(i);
  auto r = w.query_text("SELECT CAST(json_array(" + cols + ") AS VARCHAR) FROM (" + sql + ") AS q");
  if (!r.ok()) return json{{"error", r.error().message()}};
  json rows = json::array();
  for (const auto& row : r->rows) rows.push_back(json::parse(*row[0]));
  return rows;
}

json Sorted(json rows) {
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.dump());
  std::vector<size_t> idx(rows.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  json out = json::array();
  for (size_t i : idx) out.push_back(rows[i]);
  return out;
}

class FederatedQuery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test_support::MakeTempDir("syndb_fedquery_");
    demo_ = new Child({itest::SyndbBinary(), "demo", "--keep", "--dir", dir_ + "/demo", "--http-port", "0",
                       "--flight-sql-port", "0", "--data", WitvlietDir().string()},
                      false, dir_ + "/demo.log");
    std::string line = demo_->WaitForLine("hub_http=", DeadlineIn(std::chrono::seconds(120)));
    hub_ = line.substr(9);

    // The oracle: one DuckDB holding the same imports as the nodes and the
    // hub (the nodes' imports add cell terms to ontology_term; the hub's
    // ontology-only import adds types and classes).
    auto w = warehouse::open_duckdb(dir_ + "/oracle");
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    oracle_ = w->release();
    ASSERT_TRUE(oracle_->migrate(warehouse::latest_schema_version()).ok());
    struct Share {
      const char *prefix, *institution;
      std::vector<int> datasets;
    };
    for (const Share& s : {Share{"/toronto/witvliet2021", "University of Toronto", {1, 2, 3}},
                           Share{"/harvard/witvliet2021", "Harvard University", {4, 5, 6}},
                           Share{"/lunenfeld/witvliet2021", "Lunenfeld-Tanenbaum Research Institute", {7, 8}}}) {
      // One warehouse normally claims one namespace; the oracle holds all three.
      ASSERT_TRUE(oracle_->execute("DELETE FROM node_info").ok());
      warehouse::WitvlietOptions o{WitvlietDir().string(), s.prefix, s.datasets, s.institution};
      auto st = warehouse::import_witvliet(*oracle_, o);
      ASSERT_TRUE(st.ok()) << st.error().to_string();
    }
    ASSERT_TRUE(oracle_->execute("DELETE FROM node_info").ok());
    warehouse::WitvlietOptions onto{WitvlietDir().string(), "/hub/ontology", {}, "", true};
    ASSERT_TRUE(warehouse::import_witvliet(*oracle_, onto).ok());
  }
  static void TearDownTestSuite() {
    delete demo_;
    delete oracle_;
    test_support::RemoveTree(dir_);
  }

  static json Ask(const std::string& sql, bool allow_partial = false, int* status = nullptr) {
    json body{{"sql", sql}, {"allow_partial", allow_partial}};
    auto r = api::http_request("POST", hub_ + "/v1/query", body.dump(), 60000, "application/json");
    if (!r.ok()) return json{{"error", r.error().message()}};
    if (status) *status = r->status;
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return json{{"error", "not JSON: " + r->body.substr(0, 200)}};
    return j;
  }

  static void ExpectSame(const std::string& name, const std::string& sql) {
    json want = OracleRows(*oracle_, sql);
    ASSERT_FALSE(want.is_object()) << name << ": oracle failed: " << want.dump();
    json got = Ask(sql);
    ASSERT_TRUE(got.contains("rows")) << name << ": " << got.dump() << "\n" << sql;
    EXPECT_TRUE(got["provenance"]["complete"].get<bool>()) << name;
    json g = got["rows"], e = want;
    if (!Ordered(sql)) {
      g = Sorted(g);
      e = Sorted(e);
    }
    EXPECT_EQ(g.size(), e.size()) << name << "\n" << sql;
    EXPECT_TRUE(SameValue(g, e)) << name << "\n" << sql << "\nfederated: " << g.dump().substr(0, 1500)
                                 << "\noracle:    " << e.dump().substr(0, 1500);
  }

  static std::string dir_;
  static Child* demo_;
  static warehouse::Warehouse* oracle_;
  static std::string hub_;
};

std::string FederatedQuery::dir_;
Child* FederatedQuery::demo_ = nullptr;
warehouse::Warehouse* FederatedQuery::oracle_ = nullptr;
std::string FederatedQuery::hub_;

TEST_F(FederatedQuery, CorpusEqualsOneDuckDb) {
  auto corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 40u);
  for (const auto& q : corpus) ExpectSame(q.name, q.sql);
}

// Issue 21: ontology_term is the union of the hub's terms and the members'
// (their imports add the cell terms), one row per distinct term.
TEST_F(FederatedQuery, OntologyTermIsTheUnionOfHubAndMembers) {
  const std::string sql = "SELECT kind, count(*) AS n FROM ontology_term GROUP BY kind ORDER BY kind";
  json want = OracleRows(*oracle_, sql);
  ASSERT_TRUE(want.is_array()) << want.dump();
  bool cells = false;
  for (const auto& r : want) cells = cells || r[0] == "cell";
  ASSERT_TRUE(cells) << "the oracle holds no cell terms: " << want.dump();
  json got = Ask(sql);
  ASSERT_TRUE(got.contains("rows")) << got.dump();
  EXPECT_TRUE(SameValue(got["rows"], want)) << "federated " << got["rows"].dump() << " oracle " << want.dump();
  EXPECT_TRUE(got["provenance"]["complete"].get<bool>());
  EXPECT_EQ(got["provenance"]["nodes"].size(), 3u) << got["provenance"].dump();
  // A join of a data table with the union reads each term once.
  ExpectSame("cells per ontology class", "SELECT o.parent_id, count(*) AS n FROM cell c JOIN ontology_term o ON o.id = "
                                         "'cell:' || c.name GROUP BY ALL ORDER BY ALL");
}

TEST_F(FederatedQuery, RandomisedFiltersAndAggregatesEqualOneDuckDb) {
  std::mt19937 rng(20261121);
  const std::vector<std::string> filters = {
      "size > 500000", "size IS NULL", "pre LIKE 'AV%'", "post IN ('AVAL', 'AVAR', 'RIAL')", "sections BETWEEN 2 AND 5",
      "dataset_id LIKE '/harvard/%'", "dataset_id = '/toronto/witvliet2021/dataset2'", "NOT post_is_branch",
      "weight < 0.5 OR size < 100000", "pre = 'nope'"};
  const std::vector<std::string> groups = {"", "dataset_id", "pre", "post_is_branch", "sections", "upper(substr(pre, 1, 2))"};
  const std::vector<std::string> aggs = {"count(*)", "count(size)", "sum(size)", "min(size)", "max(weight)",
                                         "avg(size)", "sum(sections)", "avg(sections)", "count(DISTINCT pre)",
                                         "median(size)"};
  for (int i = 0; i < 25; ++i) {
    std::string where = filters[rng() % filters.size()];
    if (rng() % 2) where += " AND " + filters[rng() % filters.size()];
    std::string g = groups[rng() % groups.size()];
    std::string select = g.empty() ? "" : g + " AS g, ";
    select += aggs[rng() % aggs.size()] + " AS a1, " + aggs[rng() % aggs.size()] + " AS a2";
    std::string sql = "SELECT " + select + " FROM synapse WHERE " + where + (g.empty() ? "" : " GROUP BY " + g);
    ExpectSame("random " + std::to_string(i), sql);
  }
}

TEST_F(FederatedQuery, ProvenanceNamesNodesDatasetsAndCitations) {
  json got = Ask("SELECT count(*) FROM synapse WHERE dataset_id LIKE '/harvard/%'");
  ASSERT_TRUE(got.contains("provenance")) << got.dump();
  const json& p = got["provenance"];
  EXPECT_TRUE(p["complete"].get<bool>());
  EXPECT_TRUE(p["partial_aggregate"].get<bool>());
  ASSERT_EQ(p["nodes"].size(), 1u) << "the dataset filter prunes the other nodes: " << p.dump();
  EXPECT_EQ(p["nodes"][0]["name"], "harvard");
  EXPECT_EQ(p["nodes"][0]["rows"], 1) << "one partial aggregate row";
  EXPECT_EQ(p["datasets"].size(), 3u);
  for (const auto& d : p["datasets"]) EXPECT_NE(d["citation"].get<std::string>().find("Witvliet"), std::string::npos);
  EXPECT_NE(p["fragments"][0].get<std::string>().find("count_star()"), std::string::npos) << p.dump();
}

TEST_F(FederatedQuery, ConcurrentAndRepeatedQueriesEachGetTheWholeAnswer) {
  // The hub reuses a statement's plan (and its view names) only when no
  // other query holds it; identical statements at the same time must still
  // each read their own fragments, and a repeat must read fresh ones.
  const std::string join =
      "SELECT d.stage, count(*) AS n FROM synapse s JOIN dataset d ON d.id = s.dataset_id "
      "WHERE s.post IN ('AVAL', 'AVAR') GROUP BY d.stage";
  const std::string agg = "SELECT pre, count(*) AS n, sum(size) AS total FROM synapse GROUP BY pre";
  json want_join = Sorted(OracleRows(*oracle_, join)), want_agg = Sorted(OracleRows(*oracle_, agg));
  ASSERT_FALSE(want_join.empty());
  for (int round = 0; round < 2; ++round) {
    std::vector<json> got(6);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
      threads.emplace_back([&, i] { got[i] = Ask(i % 2 ? agg : join); });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i].contains("rows")) << got[i].dump();
      EXPECT_TRUE(SameValue(Sorted(got[i]["rows"]), i % 2 ? want_agg : want_join)) << "round " << round << ", query " << i;
    }
  }
}

TEST_F(FederatedQuery, BadQueriesAreClearErrors) {
  int status = 0;
  json j = Ask("SELECT * FROM nosuchtable", false, &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(j.value("error", "").find("nosuchtable"), std::string::npos) << j.dump();
  j = Ask("DELETE FROM synapse", false, &status);
  EXPECT_EQ(status, 400) << j.dump();
  j = Ask("SELECT * FROM read_csv('/etc/passwd')", false, &status);
  EXPECT_EQ(status, 400) << j.dump();
  j = Ask("SELECT nosuchcolumn FROM synapse", false, &status);
  EXPECT_EQ(status, 400) << j.dump();
}

TEST_F(FederatedQuery, ResultTooLargeForHttpIsRefusedAndTheHubCarriesOn) {
  // A cross join of every synapse row with every other: far beyond the
  // 64 MiB the HTTP API builds in memory. The hub stops there.
  int status = 0;
  json j = Ask("SELECT a.pre, b.post, a.size FROM synapse a, synapse b", false, &status);
  EXPECT_EQ(status, 413) << j.dump().substr(0, 300);
  EXPECT_NE(j.value("error", "").find("Flight SQL"), std::string::npos) << j.dump().substr(0, 300);
  ExpectSame("after the refusal", "SELECT count(*) FROM synapse");
}

TEST_F(FederatedQuery, CsvAndArrowFormats) {
  json body{{"sql", "SELECT post, count(*) AS n FROM synapse WHERE post LIKE 'AVA%' GROUP BY post ORDER BY post"}};
  auto csv = api::http_request("POST", hub_ + "/v1/query", body.dump(), 60000, "text/csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->status, 200);
  EXPECT_EQ(csv->body.rfind("post,n\r\nAVAL,", 0), 0u) << csv->body;
  EXPECT_EQ(csv->headers["x-syndb-complete"], "true");
  auto arrow = api::http_request("POST", hub_ + "/v1/query", body.dump(), 60000, "application/vnd.apache.arrow.stream");
  ASSERT_TRUE(arrow.ok());
  EXPECT_EQ(arrow->status, 200);
  EXPECT_EQ(arrow->content_type, "application/vnd.apache.arrow.stream");
  ASSERT_GT(arrow->body.size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(arrow->body[0]), 0xFF) << "IPC continuation marker";
}

// Last: stops a node. Default = an error naming it; allow_partial = marked incomplete.
TEST_F(FederatedQuery, UnreachableNodeFailsOrIsNamedAsMissing) {
  std::string sql = "SELECT dataset_id, count(*) FROM synapse GROUP BY dataset_id";
  // Harvard's process, by its unique --data-dir.
  int pid = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream cmd(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    if (c.find(dir_ + "/demo/harvard") != std::string::npos && c.find("node") != std::string::npos) {
      pid = std::atoi(e.path().filename().c_str());
    }
  }
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Until the hub notices, a ticket request fails (unreachable); either way harvard is missing.
  int status = 0;
  json j;
  for (int i = 0; i < 100; ++i) {
    j = Ask(sql, false, &status);
    if (status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 503) << j.dump();
  EXPECT_NE(j.value("error", "").find("harvard"), std::string::npos) << j.dump();
  EXPECT_NE(j.value("error", "").find("/harvard/witvliet2021/dataset4"), std::string::npos) << j.dump();

  j = Ask(sql, true, &status);
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_FALSE(j["provenance"]["complete"].get<bool>());
  ASSERT_EQ(j["provenance"]["missing"].size(), 1u);
  EXPECT_EQ(j["provenance"]["missing"][0]["name"], "harvard");
  EXPECT_EQ(j["rows"].size(), 5u) << "datasets 1-3 and 7-8 answer";
  for (const auto& r : j["rows"]) EXPECT_EQ(r[0].get<std::string>().find("/harvard/"), std::string::npos);
  // A query that needs no harvard data stays complete.
  j = Ask("SELECT count(*) FROM synapse WHERE dataset_id LIKE '/toronto/%'", false, &status);
  EXPECT_EQ(status, 200) << j.dump();
}

}  // namespace
}  // namespace syndb
