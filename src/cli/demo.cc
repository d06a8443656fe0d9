// `syndb demo`: a whole federation on loopback. Creates keys and a signed
// federation file, imports the real connectome data split over three nodes
// (datasets 1–3, 4–6 and 7–8, each under its own institution's prefix),
// starts a hub and the nodes as separate `syndb hub|node` processes, waits
// until the hub sees all four Healthy with their datasets, and prints the
// federation. --keep leaves it running until SIGINT/SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/http_client.h"
#include "common/child_process.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "federation/membership.h"
#include "federation/metastore.h"
#include "p2p/crypto/keys.h"
#include "warehouse/import_witvliet.h"
#include "warehouse/schema.h"

namespace syndb::cli {

namespace fs = std::filesystem;

namespace {

fs::path default_data_dir() {
  // build/syndb → <repo>/../shared/data/witvliet2021
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    fs::path candidate = p.parent_path() / "shared" / "data" / "witvliet2021";
    if (fs::is_directory(candidate)) return candidate;
  }
  return "../shared/data/witvliet2021";
}

struct NodePlan {
  std::string name, prefix, institution;
  std::vector<int> datasets;
};

}  // namespace

int run_demo(const DemoOptions& o) {
  const std::string exe = fs::canonical("/proc/self/exe").string();
  fs::path data = o.data.empty() ? default_data_dir() : fs::path(o.data);
  if (!fs::is_directory(data / "synapses")) {
    std::fprintf(stderr, "syndb demo: connectome data not found at %s (use --data DIR)\n", data.c_str());
    return 1;
  }
  bool temp = o.dir.empty();
  fs::path dir = temp ? fs::temp_directory_path() / ("syndb-demo-" + std::to_string(getpid())) : fs::path(o.dir);
  std::error_code ec;
  if (!temp && fs::exists(dir / "hub")) {
    std::fprintf(stderr, "syndb demo: %s already holds a demo; remove it or choose another --dir\n", dir.c_str());
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "syndb demo: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }

  const std::vector<NodePlan> plan = {
      {"toronto", "/toronto/witvliet2021", "University of Toronto", {1, 2, 3}},
      {"harvard", "/harvard/witvliet2021", "Harvard University", {4, 5, 6}},
      {"lunenfeld", "/lunenfeld/witvliet2021", "Lunenfeld-Tanenbaum Research Institute", {7, 8}},
  };

  // Keys and the signed federation file admitting the hub and the nodes.
  std::fprintf(stderr, "demo: setting up in %s\n", dir.c_str());
  auto admin = p2p::Ed25519PrivateKey::generate();
  std::vector<std::string> names = {"hub"};
  for (const auto& n : plan) names.push_back(n.name);
  std::string fed_file = (dir / "federation.json").string();
  fs::remove(fed_file, ec);
  Status st = federation::init_federation(fed_file, "syndb-demo", admin);
  for (const auto& n : names) {
    auto key = p2p::Ed25519PrivateKey::generate();
    if (st.ok()) st = p2p::save_key_file((dir / (n + ".key")).string(), key, true);
    if (st.ok()) st = federation::admit_peer(fed_file, p2p::PeerId::from_public_key(key.public_key()), admin);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "syndb demo: %s\n", st.error().message().c_str());
    return 1;
  }
  // Each node's share of the data, in its own warehouse.
  for (const auto& n : plan) {
    auto w = warehouse::open_duckdb((dir / n.name).string());
    if (w.ok()) {
      auto v = (*w)->migrate(warehouse::latest_schema_version());
      if (!v.ok()) w = v.error();
    }
    if (!w.ok()) {
      std::fprintf(stderr, "syndb demo: %s\n", w.error().message().c_str());
      return 1;
    }
    warehouse::WitvlietOptions wo{data.string(), n.prefix, n.datasets, n.institution};
    auto stats = warehouse::import_witvliet(**w, wo);
    if (!stats.ok()) {
      std::fprintf(stderr, "syndb demo: import for %s: %s\n", n.name.c_str(), stats.error().message().c_str());
      return 1;
    }
    std::fprintf(stderr, "demo: %s holds %lld synapse rows in %lld datasets under %s\n", n.name.c_str(),
                 static_cast<long long>(stats->synapses), static_cast<long long>(stats->datasets), n.prefix.c_str());
  }

  // The hub holds no data, only the ontology it pushes to nodes (OntologySync).
  {
    auto w = warehouse::open_duckdb((dir / "hub").string());
    if (w.ok()) {
      auto v = (*w)->migrate(warehouse::latest_schema_version());
      warehouse::WitvlietOptions wo{data.string(), "/hub/ontology", {}, "", true};
      auto stats = v.ok() ? warehouse::import_witvliet(**w, wo) : Result<warehouse::ImportStats>(v.error());
      if (!stats.ok()) w = stats.error();
    }
    if (!w.ok()) {
      std::fprintf(stderr, "syndb demo: hub ontology: %s\n", w.error().message().c_str());
      return 1;
    }
  }

  std::vector<ChildProcess> children(1 + plan.size());
  auto cleanup = [&] {
    for (auto it = children.rbegin(); it != children.rend(); ++it) stop_child(*it);
    if (temp) fs::remove_all(dir, ec);
  };
  children[0].name = "hub";
  auto hub_lines = spawn_child(children[0],
                         {exe, "hub", "--key", (dir / "hub.key").string(), "--listen", "/ip4/127.0.0.1/tcp/0",
                          "--data-dir", (dir / "hub").string(), "--http-listen", "127.0.0.1:" + std::to_string(o.http_port),
                          "--name", "hub", "--federation-file", fed_file, "--health-interval-ms", "1000",
                          "--flight-listen", "127.0.0.1:0",
                          "--flight-sql-listen", "127.0.0.1:" + std::to_string(o.flight_sql_port)},
                         dir / "hub.log", "flight ");
  if (!hub_lines.ok()) {
    std::fprintf(stderr, "syndb demo: %s\n", hub_lines.error().message().c_str());
    cleanup();
    return 1;
  }
  std::string hub_addr = line_field(*hub_lines, "listening ");
  std::string hub_http = line_field(*hub_lines, "http ");
  std::string hub_flight_sql = line_field(*hub_lines, "flight_sql ");
  std::fprintf(stderr, "demo: hub at %s, HTTP API %s\n", hub_addr.c_str(), hub_http.c_str());
  for (size_t i = 0; i < plan.size(); ++i) {
    ChildProcess& c = children[i + 1];
    c.name = plan[i].name;
    auto lines = spawn_child(c,
                       {exe, "node", "--key", (dir / (c.name + ".key")).string(), "--listen", "/ip4/127.0.0.1/tcp/0",
                        "--data-dir", (dir / c.name).string(), "--name", c.name, "--bootstrap", hub_addr,
                        "--federation-file", fed_file, "--flight-listen", "127.0.0.1:0"},
                       dir / (c.name + ".log"), "flight ");
    if (!lines.ok()) {
      std::fprintf(stderr, "syndb demo: %s\n", lines.error().message().c_str());
      cleanup();
      return 1;
    }
    std::fprintf(stderr, "demo: node %s at %s\n", c.name.c_str(), line_field(*lines, "listening ").c_str());
  }

  // Wait until the hub sees every node Healthy with its datasets.
  Status healthy = api::wait_for_healthy_clusters(hub_http, children.size(), 60000);
  if (!healthy.ok()) {
    std::fprintf(stderr, "syndb demo: %s; logs in %s\n", healthy.error().message().c_str(), dir.c_str());
    temp = false;  // keep the logs
    cleanup();
    return 1;
  }

  std::printf("\nFederation (hub %s):\n\n", hub_http.c_str());
  std::fflush(stdout);
  FederationOptions status;
  status.action = "status";
  status.hub_url = hub_http;
  int rc = run_federation(status);
  if (rc == 0) {
    auto resp = api::http_request("GET", hub_http + "/v1/datasets?q=", "", 5000);
    auto j = resp.ok() ? nlohmann::json::parse(resp->body, nullptr, false) : nlohmann::json();
    if (!j.is_discarded() && j.contains("datasets")) {
      warehouse::TextResult t;
      t.columns = {"dataset", "stage", "policy", "held by"};
      std::map<std::string, std::string> holder;
      auto clusters = api::http_request("GET", hub_http + "/v1/federation/clusters", "", 5000);
      if (clusters.ok()) {
        auto cj = nlohmann::json::parse(clusters->body, nullptr, false);
        if (!cj.is_discarded()) {
          for (const auto& c : cj["clusters"]) holder[c.value("peer_id", "")] = c.value("name", "");
        }
      }
      std::vector<std::vector<std::optional<std::string>>> rows;
      for (const auto& d : j["datasets"]) {
        rows.push_back({d.value("id", ""), d.value("stage", ""), d.value("policy", ""),
                        holder[d.value("peer_id", "")]});
      }
      std::sort(rows.begin(), rows.end());
      t.rows = rows;
      std::printf("\nDataset catalogue (GET /v1/datasets):\n\n");
      print_table(t, stdout);
    }
  }
  // Showcase: federated queries over all three nodes, with provenance.
  struct Showcase {
    const char* title;
    const char* sql;
  };
  const Showcase showcase[] = {
      {"Synapse count and mean size per developmental stage",
       "SELECT d.stage, count(*) AS synapses, round(avg(s.size)) AS mean_size, min(d.age_hours) AS from_hours "
       "FROM synapse s JOIN dataset d ON d.id = s.dataset_id GROUP BY d.stage ORDER BY from_hours"},
      {"Strongest inputs to AVA across development (synapses onto AVAL/AVAR)",
       "SELECT d.stage, s.pre AS partner, count(*) AS synapses FROM synapse s JOIN dataset d ON d.id = s.dataset_id "
       "WHERE s.post IN ('AVAL', 'AVAR') GROUP BY d.stage, s.pre "
       "QUALIFY row_number() OVER (PARTITION BY d.stage ORDER BY count(*) DESC, s.pre) <= 3 "
       "ORDER BY min(d.age_hours), synapses DESC, partner"},
      {"Gap-junction counts per cell type",
       "SELECT coalesce(c.type, 'unknown') AS cell_type, count(*) AS gap_junctions FROM gap_junction g "
       "JOIN cell c ON c.dataset_id = g.dataset_id AND c.name = g.cell_a GROUP BY cell_type ORDER BY gap_junctions DESC"},
      {"Synapses per dataset (partial aggregates at the nodes)",
       "SELECT dataset_id, count(*) AS synapses, round(avg(size)) AS mean_size FROM synapse GROUP BY dataset_id "
       "ORDER BY dataset_id"},
  };
  for (const auto& q : showcase) {
    if (rc != 0) break;
    std::printf("\n%s:\n  %s\n\n", q.title, q.sql);
    std::fflush(stdout);
    QueryCliOptions qo;
    qo.hub_url = hub_http;
    qo.sql = q.sql;
    rc = run_query(qo);
    std::fflush(stdout);
  }
  if (o.keep) {
    auto ms = federation::Metastore::open((dir / "hub" / "hub.sqlite").string());
    auto token = ms.ok() ? (*ms)->create_token("demo") : Result<std::string>(ms.error());
    if (!token.ok()) {
      std::fprintf(stderr, "syndb demo: cannot create a Flight SQL token: %s\n", token.error().message().c_str());
      cleanup();
      return 1;
    }
    std::printf("\nhub_http=%s\n", hub_http.c_str());
    std::printf("hub_flight_sql=%s\n", hub_flight_sql.c_str());
    std::printf("token=%s\n", token->c_str());
    std::printf("# try: build/syndb federation status --hub %s\n", hub_http.c_str());
    std::printf("#      build/syndb query --hub %s \"SELECT dataset_id, count(*) FROM synapse GROUP BY ALL\"\n",
                hub_http.c_str());
    std::printf("#      build/syndb query --hub %s --format csv \"SELECT * FROM cell WHERE class = 'AVA'\"\n",
                hub_http.c_str());
    std::printf("#      curl -d '{\"sql\":\"SELECT count(*) FROM synapse\"}' %s/v1/query\n", hub_http.c_str());
    std::printf("#      curl '%s/v1/datasets?q=adult'\n", hub_http.c_str());
    std::printf("#      curl -X POST %s/v1/federation/schema/sync\n", hub_http.c_str());
    std::printf("# logs and data: %s; Ctrl-C stops everything\n", dir.c_str());
    std::fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
  }
  cleanup();
  return rc == 0 ? 0 : 1;
}

}  // namespace syndb::cli
