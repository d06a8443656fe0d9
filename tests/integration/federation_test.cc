// Integration tests of the federation control plane (issue 4): real
// `syndb hub` and `syndb node` processes on loopback, observed through the
// hub's HTTP API.
//
// Every test has its own mkdtemp directory (keys, data dirs, logs) and its
// own processes, all on port 0. Daemons' stderr goes to <dir>/<name>.log; the
// directory is kept (and named in the output) when a test fails, or always
// with SYNDB_KEEP_TEST_DIRS=1.
// There are no fixed sleeps: conditions are polled through the HTTP API every
// 50 ms (20 ms when a latency is measured) up to a deadline.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http_client.h"
#include "federation/protocol.h"
#include "p2p/identify/identify.h"
#include "p2p/multiformats/multiaddr.h"
#include "warehouse/schema.h"
#include "process.h"
#include "test_fs.h"

namespace syndb::itest {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using json = nlohmann::json;
using test_support::ReadFile;

constexpr auto kPoll = milliseconds(50);
constexpr auto kReady = seconds(20);  // default deadline for a condition to hold

// The Witvliet 2021 data: <repo>/../shared/data/witvliet2021.
fs::path WitvlietDir() {
  std::error_code ec;
  fs::path repo = fs::weakly_canonical(fs::path(SYNDB_SOURCE_DIR), ec);
  return repo.parent_path() / "shared" / "data" / "witvliet2021";
}

// GET/POST url and parse the JSON body; nullopt on a transport error, a
// non-200 status or a body that is not JSON.
std::optional<json> HttpJson(const std::string& method, const std::string& url, std::string* error = nullptr) {
  auto resp = api::http_request(method, url, "", 35'000);
  if (!resp.ok()) {
    if (error) *error = resp.error().to_string();
    return std::nullopt;
  }
  if (resp->status != 200) {
    if (error) *error = "HTTP " + std::to_string(resp->status) + ": " + resp->body;
    return std::nullopt;
  }
  json j = json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) {
    if (error) *error = "not JSON: " + resp->body;
    return std::nullopt;
  }
  return j;
}

// The cluster entry with this peer id in a /v1/federation/clusters answer.
const json* FindCluster(const json& clusters, const std::string& peer_id) {
  if (!clusters.contains("clusters")) return nullptr;
  for (const auto& c : clusters["clusters"]) {
    if (c.value("peer_id", "") == peer_id) return &c;
  }
  return nullptr;
}

std::string StateOf(const json& clusters, const std::string& peer_id) {
  const json* c = FindCluster(clusters, peer_id);
  return c ? c->value("state", "") : "";
}

// A running `syndb hub` or `syndb node`.
struct Daemon {
  std::unique_ptr<Child> proc;
  std::string name;
  std::string addr;     // first listen multiaddr, with /p2p/<id>
  std::string peer_id;
  std::string http;     // hub only: http://127.0.0.1:<port>
  fs::path log;         // stderr
  fs::path data_dir;
  fs::path key;
};

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("syndb-integration-");
    ASSERT_FALSE(dir_.empty()) << "mkdtemp: " << std::strerror(errno);
  }

  void TearDown() override {
    daemons_.clear();  // SIGTERM, then SIGKILL, and reap every process
    if (dir_.empty()) return;
    const char* keep = std::getenv("SYNDB_KEEP_TEST_DIRS");
    if (HasFailure() || (keep != nullptr && *keep != '\0' && *keep != '0')) {
      std::printf("[ keeping %s: keys, data dirs and daemon logs (*.log) ]\n", dir_.c_str());
      return;
    }
    test_support::RemoveTree(dir_);
  }

  fs::path Path(const std::string& name) const { return dir_ / name; }

  // Writes <dir>/<name>.key and returns its PeerId.
  std::string Keygen(const std::string& name) {
    auto r = RunSyndb({"keygen", "--out", Path(name + ".key").string()});
    if (r.code != 0) throw std::runtime_error("keygen failed: " + r.desc);
    return Trim(r.out);
  }

  // Imports Witvliet datasets into a data dir (before any daemon opens it).
  void Import(const fs::path& data_dir, const std::string& prefix, const std::string& datasets) {
    auto r = RunSyndb({"import", "witvliet", WitvlietDir().string(), "--data-dir", data_dir.string(), "--prefix",
                       prefix, "--datasets", datasets},
                      seconds(60));
    if (r.code != 0) throw std::runtime_error("import failed: " + r.desc);
  }

  // Runs read-only SQL on a (stopped) node's warehouse; rows as JSON objects.
  json Sql(const fs::path& data_dir, const std::string& sql) {
    auto r = RunSyndb({"sql", "--data-dir", data_dir.string(), "--format", "json", sql});
    if (r.code != 0) throw std::runtime_error("sql failed: " + r.desc);
    json j = json::parse(Trim(r.out), nullptr, false);
    if (j.is_discarded() || !j.is_array()) throw std::runtime_error("sql output is not a JSON array: " + r.desc);
    return j;
  }

  int64_t SqlCount(const fs::path& data_dir, const std::string& sql) {
    json rows = Sql(data_dir, "SELECT (" + sql + ") AS n");
    return rows.at(0).at("n").get<int64_t>();
  }

  // Starts `syndb <role> …` and waits for its ready lines.
  // key, data dir and log file are <dir>/<name>.key, <dir>/<name>/ and
  // <dir>/<log_name or name>.log.
  Daemon& Start(const std::string& role, const std::string& name, std::vector<std::string> extra,
                const std::string& log_name = "") {
    auto d = std::make_unique<Daemon>();
    d->name = name;
    d->key = Path(name + ".key");
    d->data_dir = Path(name);
    d->log = Path((log_name.empty() ? name : log_name) + ".log");
    std::vector<std::string> argv = {SyndbBinary(), role,   "--key",  d->key.string(), "--listen",
                                     "/ip4/127.0.0.1/tcp/0", "--data-dir", d->data_dir.string(), "--name", name,
                                     "--flight-listen", "127.0.0.1:0"};
    if (role == "hub") {
      for (const char* a : {"--http-listen", "127.0.0.1:0", "--flight-sql-listen", "127.0.0.1:0"}) argv.push_back(a);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    d->proc = std::make_unique<Child>(argv, false, d->log.string());
    auto deadline = DeadlineIn(kReady);
    std::string line = d->proc->WaitForLine("listening ", deadline);
    d->addr = line.substr(std::string("listening ").size());
    auto p2p = d->addr.rfind("/p2p/");
    if (p2p == std::string::npos) throw std::runtime_error("no /p2p/ in '" + line + "'");
    d->peer_id = d->addr.substr(p2p + 5);
    if (role == "hub") d->http = d->proc->WaitForLine("http ", deadline).substr(5);
    daemons_.push_back(std::move(d));
    return *daemons_.back();
  }

  Daemon& StartHub(const std::string& name, std::vector<std::string> extra = {}) {
    return Start("hub", name, std::move(extra));
  }

  Daemon& StartNode(const std::string& name, const Daemon& hub, std::vector<std::string> extra = {},
                    const std::string& log_name = "") {
    extra.insert(extra.begin(), {"--bootstrap", hub.addr});
    return Start("node", name, std::move(extra), log_name);
  }

  // Stops a daemon with SIGTERM and waits for it to exit; returns the exit code.
  int Stop(Daemon& d) {
    d.proc->Signal(SIGTERM);
    return d.proc->Wait(DeadlineIn(seconds(20)));
  }

  json Clusters(const Daemon& hub) {
    std::string err;
    auto j = HttpJson("GET", hub.http + "/v1/federation/clusters", &err);
    if (!j) throw std::runtime_error("GET clusters: " + err);
    return *j;
  }

  // Polls the clusters list every `every` until pred holds; returns the last
  // answer. Throws with the last answer and the hub log on deadline.
  json WaitClusters(const Daemon& hub, const std::string& what, const std::function<bool(const json&)>& pred,
                    Clock::duration timeout = kReady, Clock::duration every = kPoll) {
    auto deadline = Clock::now() + timeout;
    json last;
    for (;;) {
      std::string err;
      auto j = HttpJson("GET", hub.http + "/v1/federation/clusters", &err);
      if (j) {
        last = *j;
        if (pred(last)) return last;
      }
      if (Clock::now() >= deadline) {
        throw std::runtime_error("timed out waiting for " + what + "; last clusters answer: " + last.dump(1) +
                                 (j ? "" : "\nlast error: " + err) + "\nhub log " + hub.log.string());
      }
      std::this_thread::sleep_for(every);
    }
  }

  // Waits until every listed peer is in the clusters list in state `state`.
  json WaitStates(const Daemon& hub, const std::vector<std::string>& peers, const std::string& state,
                  Clock::duration timeout = kReady) {
    return WaitClusters(
        hub, "state " + state + " for " + std::to_string(peers.size()) + " peer(s)",
        [&](const json& j) {
          return std::all_of(peers.begin(), peers.end(), [&](const std::string& p) { return StateOf(j, p) == state; });
        },
        timeout);
  }

  fs::path dir_;
  std::vector<std::unique_ptr<Daemon>> daemons_;
};

#define SKIP_WITHOUT_DATA()                                                                   \
  do {                                                                                        \
    if (!fs::is_directory(WitvlietDir() / "synapses")) {                                      \
      GTEST_SKIP() << "Witvliet data not found at " << WitvlietDir();                         \
    }                                                                                         \
  } while (0)

// ---------------------------------------------------------------------------

TEST_F(FederationTest, HubAndThreeNodesRegisterWithCatalogue) {
  SKIP_WITHOUT_DATA();
  struct Plan {
    std::string name, prefix, datasets;
  };
  const std::vector<Plan> plan = {
      {"toronto", "/toronto/witvliet2021", "1,2"},  // L1, L1
      {"harvard", "/harvard/witvliet2021", "3,7"},  // L1, Adult
      {"lunenfeld", "/lunenfeld/witvliet2021", "6"},  // L3
  };
  Keygen("hub");
  // What each node holds: dataset id -> (stage, synapse rows), read from its warehouse.
  std::map<std::string, std::map<std::string, std::pair<std::string, int64_t>>> held;
  for (const auto& p : plan) {
    Keygen(p.name);
    Import(Path(p.name), p.prefix, p.datasets);
    json rows = Sql(Path(p.name),
                    "SELECT d.id, d.stage, (SELECT count(*) FROM synapse s WHERE s.dataset_id = d.id) AS synapses "
                    "FROM dataset d");
    for (const auto& r : rows) {
      held[p.name][r.at("id").get<std::string>()] = {r.at("stage").get<std::string>(),
                                                      r.at("synapses").get<int64_t>()};
    }
    ASSERT_EQ(held[p.name].size(), static_cast<size_t>(std::count(p.datasets.begin(), p.datasets.end(), ',') + 1))
        << p.name;
  }

  Daemon& hub = StartHub("hub", {"--health-interval-ms", "300"});
  std::map<std::string, std::string> peer_of;  // name -> peer id
  std::vector<std::string> all = {hub.peer_id};
  for (const auto& p : plan) {
    Daemon& n = StartNode(p.name, hub);
    peer_of[p.name] = n.peer_id;
    all.push_back(n.peer_id);
  }

  // All four Healthy, each node with its full catalogue.
  json clusters = WaitClusters(hub, "4 Healthy clusters with their catalogues", [&](const json& j) {
    if (j["clusters"].size() != 4) return false;
    for (const auto& p : all) {
      if (StateOf(j, p) != "Healthy") return false;
    }
    for (const auto& p : plan) {
      const json* c = FindCluster(j, peer_of[p.name]);
      if (!c || (*c)["datasets"].size() != held[p.name].size()) return false;
    }
    return true;
  });
  const json* hub_entry = FindCluster(clusters, hub.peer_id);
  ASSERT_NE(hub_entry, nullptr);
  EXPECT_TRUE(hub_entry->value("local", false));
  EXPECT_EQ(hub_entry->value("name", ""), "hub");
  for (const auto& p : plan) {
    const json* c = FindCluster(clusters, peer_of[p.name]);
    ASSERT_NE(c, nullptr) << p.name;
    EXPECT_EQ(c->value("name", ""), p.name);
    EXPECT_FALSE(c->value("local", true));
    EXPECT_EQ(c->value("schema_version", 0), warehouse::latest_schema_version()) << p.name;
    EXPECT_TRUE((*c)["last_rtt_us"].is_number()) << c->dump();
    std::map<std::string, int64_t> got;
    for (const auto& d : (*c)["datasets"]) got[d.value("id", "")] = d.value("synapses", int64_t{-1});
    std::map<std::string, int64_t> want;
    for (const auto& [id, info] : held[p.name]) want[id] = info.second;
    EXPECT_EQ(got, want) << p.name << ": dataset ids and synapse rows at the hub vs. in the node's warehouse";
    for (const auto& [id, n] : want) EXPECT_GT(n, 0) << id;
  }

  // Full-text search finds exactly the L1 datasets, attributed to their holders.
  std::map<std::string, std::string> l1;  // dataset id -> holder peer id
  for (const auto& [name, ds] : held) {
    for (const auto& [id, info] : ds) {
      if (info.first == "L1") l1[id] = peer_of[name];
    }
  }
  ASSERT_EQ(l1.size(), 3u);
  std::string err;
  auto search = HttpJson("GET", hub.http + "/v1/datasets?q=L1", &err);
  ASSERT_TRUE(search) << err;
  std::map<std::string, std::string> found;
  for (const auto& d : (*search)["datasets"]) {
    found[d.value("id", "")] = d.value("peer_id", "");
    EXPECT_EQ(d.value("stage", ""), "L1") << d.dump();
  }
  EXPECT_EQ(found, l1) << search->dump(1);

  // Prometheus metrics.
  auto metrics = api::http_request("GET", hub.http + "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error().to_string();
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("syndb_federation_clusters{state=\"Healthy\"} 4\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("syndb_federation_clusters{state=\"Unreachable\"} 0\n"), std::string::npos)
      << metrics->body;

  auto healthz = HttpJson("GET", hub.http + "/healthz", &err);
  ASSERT_TRUE(healthz) << err;
  EXPECT_EQ(healthz->value("status", ""), "ok");
  EXPECT_EQ(healthz->value("peer_id", ""), hub.peer_id);

  // `syndb federation status` prints one row per cluster.
  auto status = RunSyndb({"federation", "status", "--hub", hub.http}, seconds(20));
  ASSERT_EQ(status.code, 0) << status.desc;
  for (const auto& p : plan) {
    bool row = false;
    for (const auto& line : SplitLines(status.out)) {
      if (line.find(p.name) != std::string::npos && line.find(peer_of[p.name]) != std::string::npos &&
          line.find("Healthy") != std::string::npos) {
        row = true;
      }
    }
    EXPECT_TRUE(row) << "no Healthy row for " << p.name << " in\n" << status.out;
  }
  EXPECT_NE(status.out.find("hub (hub)"), std::string::npos) << status.out;
}

TEST_F(FederationTest, SchemaSyncFromV1) {
  const int latest = warehouse::latest_schema_version();
  ASSERT_GT(latest, 1);
  Keygen("hub");
  Keygen("old");
  Daemon& hub = StartHub("hub", {"--health-interval-ms", "200"});
  Daemon& old = StartNode("old", hub, {"--max-schema-version", "1"});

  json clusters = WaitStates(hub, {old.peer_id}, "Healthy");
  EXPECT_EQ(FindCluster(clusters, old.peer_id)->value("schema_version", 0), 1) << clusters.dump(1);

  std::string err;
  auto sync = HttpJson("POST", hub.http + "/v1/federation/schema/sync", &err);
  ASSERT_TRUE(sync) << err;
  EXPECT_EQ(sync->value("target_version", 0), latest) << sync->dump(1);
  const json* entry = nullptr;
  for (const auto& n : (*sync)["nodes"]) {
    if (n.value("peer_id", "") == old.peer_id) entry = &n;
  }
  ASSERT_NE(entry, nullptr) << sync->dump(1);
  EXPECT_EQ(entry->value("status", ""), "synced") << sync->dump(1);
  EXPECT_EQ(entry->value("name", ""), "old");
  EXPECT_EQ(entry->value("from", 0), 1);
  EXPECT_EQ(entry->value("to", 0), latest);

  // The registry shows the new version, and later pings confirm it.
  WaitClusters(hub, "schema_version " + std::to_string(latest), [&](const json& j) {
    const json* c = FindCluster(j, old.peer_id);
    return c && c->value("schema_version", 0) == latest && c->value("state", "") == "Healthy";
  });
  int64_t seen = FindCluster(Clusters(hub), old.peer_id)->value("last_seen_unix_ms", int64_t{0});
  json later = WaitClusters(hub, "a later ping", [&](const json& j) {
    const json* c = FindCluster(j, old.peer_id);
    return c && c->value("last_seen_unix_ms", int64_t{0}) > seen;
  });
  EXPECT_EQ(FindCluster(later, old.peer_id)->value("schema_version", 0), latest);

  // A second sync has nothing to do for this node.
  auto again = HttpJson("POST", hub.http + "/v1/federation/schema/sync", &err);
  ASSERT_TRUE(again) << err;
  for (const auto& n : (*again)["nodes"]) {
    if (n.value("peer_id", "") == old.peer_id) {
      EXPECT_EQ(n.value("status", ""), "current") << again->dump(1);
    }
  }

  // The node's warehouse really is migrated.
  ASSERT_EQ(Stop(old), 0);
  auto version = RunSyndb({"warehouse", "version", "--data-dir", old.data_dir.string()});
  ASSERT_EQ(version.code, 0) << version.desc;
  EXPECT_EQ(Trim(version.out), std::to_string(latest));
}

TEST_F(FederationTest, OntologyPushedOnRegistration) {
  SKIP_WITHOUT_DATA();
  Keygen("hub");
  Keygen("bare");
  Import(Path("hub"), "/hubinst/witvliet2021", "1");
  const int64_t hub_terms = SqlCount(Path("hub"), "SELECT count(*) FROM ontology_term");
  ASSERT_GT(hub_terms, 0);

  Daemon& hub = StartHub("hub", {"--health-interval-ms", "200"});
  Daemon& bare = StartNode("bare", hub);
  // The push is the first command in the node's actor's mailbox, run before
  // its first ping; once the node is Healthy the push has been answered.
  WaitStates(hub, {bare.peer_id}, "Healthy");
  ASSERT_EQ(Stop(bare), 0) << bare.proc->Describe();

  EXPECT_EQ(SqlCount(bare.data_dir, "SELECT count(*) FROM dataset"), 0);
  EXPECT_EQ(SqlCount(bare.data_dir, "SELECT count(*) FROM ontology_term"), hub_terms)
      << "the node did not receive the hub's ontology; hub log " << hub.log << ", node log " << bare.log;
}

TEST_F(FederationTest, KilledNodeGoesUnreachableAndRecovers) {
  constexpr int kInterval = 200, kTimeout = 200, kAfter = 3;
  Keygen("hub");
  Keygen("victim");
  Daemon& hub = StartHub("hub", {"--health-interval-ms", std::to_string(kInterval), "--health-timeout-ms",
                                 std::to_string(kTimeout), "--unreachable-after", std::to_string(kAfter),
                                 "--probe-backoff-ms", "200"});
  Daemon& victim = StartNode("victim", hub);
  WaitStates(hub, {victim.peer_id}, "Healthy");

  auto killed_at = Clock::now();
  victim.proc->Signal(SIGKILL);
  ASSERT_EQ(victim.proc->Wait(DeadlineIn(seconds(10))), -SIGKILL);
  WaitStates(hub, {victim.peer_id}, "Unreachable", seconds(10));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at);
  // 3 ping intervals + one timeout, plus a margin for scheduling and polling.
  EXPECT_LT(took.count(), kAfter * kInterval + kTimeout + 1000) << "Healthy -> Unreachable took " << took.count()
                                                                 << " ms";

  // The audit trail: Healthy -> ... -> Unreachable, every step with a reason.
  std::string err;
  auto events = HttpJson("GET", hub.http + "/v1/federation/health/events?peer_id=" + victim.peer_id, &err);
  ASSERT_TRUE(events) << err;
  std::vector<json> chrono((*events)["events"].rbegin(), (*events)["events"].rend());  // oldest first
  ASSERT_FALSE(chrono.empty());
  size_t healthy_at = chrono.size();
  for (size_t i = 0; i < chrono.size(); ++i) {
    if (chrono[i].value("to", "") == "Healthy") healthy_at = i;
  }
  ASSERT_LT(healthy_at, chrono.size()) << events->dump(1);
  ASSERT_LT(healthy_at + 1, chrono.size()) << events->dump(1);
  std::string prev = "Healthy";
  for (size_t i = healthy_at + 1; i < chrono.size(); ++i) {
    EXPECT_EQ(chrono[i].value("from", ""), prev) << events->dump(1);
    EXPECT_FALSE(chrono[i].value("reason", "").empty()) << chrono[i].dump();
    EXPECT_EQ(chrono[i].value("name", ""), "victim");
    EXPECT_GT(chrono[i].value("unix_ms", int64_t{0}), 0);
    prev = chrono[i].value("to", "");
  }
  EXPECT_EQ(prev, "Unreachable") << events->dump(1);
  EXPECT_NE(chrono.back().value("reason", "").find("consecutive failures"), std::string::npos) << events->dump(1);

  // Restarted with the same key and data dir: Healthy again within a few seconds.
  auto restarted_at = Clock::now();
  Daemon& again = StartNode("victim", hub, {}, "victim-restarted");
  ASSERT_EQ(again.peer_id, victim.peer_id);
  WaitStates(hub, {victim.peer_id}, "Healthy", seconds(5));
  auto recovered = std::chrono::duration_cast<milliseconds>(Clock::now() - restarted_at);
  std::printf("[ Unreachable %lld ms after SIGKILL; Healthy %lld ms after restart ]\n",
              static_cast<long long>(took.count()), static_cast<long long>(recovered.count()));
  auto after = HttpJson("GET", hub.http + "/v1/federation/health/events?peer_id=" + victim.peer_id, &err);
  ASSERT_TRUE(after) << err;
  ASSERT_FALSE((*after)["events"].empty());
  const json& newest = (*after)["events"][0];
  EXPECT_EQ(newest.value("from", ""), "Unreachable") << after->dump(1);
  EXPECT_EQ(newest.value("to", ""), "Healthy") << after->dump(1);
  EXPECT_FALSE(newest.value("reason", "").empty());
}

// An in-process peer that registers with the hub and then accepts every
// federation stream without ever answering.
class StalledPeer {
 public:
  StalledPeer() : host_(io_, p2p::Ed25519PrivateKey::generate()), identify_(host_) {}
  ~StalledPeer() { Stop(); }

  std::string peer_id() const { return host_.peer_id().to_string(); }
  int stalled_requests() const { return stalled_.load(); }

  // Listens, serves the stalling handler, runs the io_context on its own
  // thread, dials the hub and registers. Returns "" or an error.
  std::string Start(const std::string& hub_addr) {
    auto bound = host_.listen(*p2p::Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
    if (!bound.ok()) return bound.error().to_string();
    federation::serve_federation(
        host_, membership_,
        [this](const pb::FederationRequest&, const p2p::Connection&) -> p2p::Task<pb::FederationResponse> {
          ++stalled_;
          auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(60));
          timers_.push_back(timer);
          co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
          co_return pb::FederationResponse{};
        },
        60'000);
    auto hub = p2p::Multiaddr::from_string(hub_addr);
    if (!hub.ok()) return hub.error().to_string();
    auto registered = std::make_shared<std::promise<std::string>>();
    auto result = registered->get_future();
    asio::co_spawn(
        io_,
        [this, hub = *hub, registered]() -> p2p::Task<void> {
          auto conn = co_await host_.connect(hub);
          if (!conn.ok()) {
            registered->set_value("connect: " + conn.error().to_string());
            co_return;
          }
          pb::FederationRequest req;
          req.set_version(federation::kProtocolVersion);
          auto* reg = req.mutable_register_();
          reg->set_name("stalled");
          for (const auto& a : host_.listen_addrs()) reg->add_listen_addrs(a.bytes().data(), a.bytes().size());
          reg->set_schema_version(warehouse::latest_schema_version());
          auto resp = co_await federation::federation_call(host_, *conn, req, 5000);
          if (!resp.ok()) {
            registered->set_value("register: " + resp.error().to_string());
          } else if (!resp->has_register_ack()) {
            registered->set_value("register: no RegisterAck");
          } else {
            registered->set_value("");
          }
        },
        asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) return "register: no answer in 20 s";
    return result.get();
  }

  void Stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      host_.close();
      for (auto& t : timers_) t->cancel();
      work_.reset();
    });
    // Give the cancelled coroutines a moment to unwind, then stop regardless.
    auto stopper = std::async(std::launch::async, [this] {
      for (int i = 0; i < 100 && !io_.stopped(); ++i) std::this_thread::sleep_for(milliseconds(20));
      io_.stop();
    });
    thread_.join();
    stopper.wait();
  }

 private:
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{asio::make_work_guard(io_)};
  p2p::Host host_;
  p2p::IdentifyService identify_;
  federation::Membership membership_ = federation::Membership::open_federation();
  std::vector<std::shared_ptr<asio::steady_timer>> timers_;  // touched only on the io thread
  std::atomic<int> stalled_{0};
  std::thread thread_;
};

TEST_F(FederationTest, StalledNodeDoesNotDelayOthers) {
  Keygen("hub");
  Keygen("a");
  Keygen("b");
  // The stalled peer keeps being probed (every 300 ms) once its circuit opens,
  // so its requests overlap the whole observation window.
  Daemon& hub = StartHub("hub", {"--health-interval-ms", "200", "--health-timeout-ms", "300", "--probe-backoff-ms",
                                 "300", "--probe-backoff-max-ms", "300"});
  Daemon& a = StartNode("a", hub);
  Daemon& b = StartNode("b", hub);
  WaitStates(hub, {a.peer_id, b.peer_id}, "Healthy");

  StalledPeer stalled;
  std::string err = stalled.Start(hub.addr);
  ASSERT_EQ(err, "");
  json clusters = WaitClusters(hub, "the stalled peer Degraded or Unreachable", [&](const json& j) {
    std::string s = StateOf(j, stalled.peer_id());
    return s == "Degraded" || s == "Unreachable";
  });
  EXPECT_EQ(FindCluster(clusters, stalled.peer_id())->value("name", ""), "stalled");
  EXPECT_GT(stalled.stalled_requests(), 0) << "the hub never sent the stalled peer a request";

  // For 3 s, sample every 100 ms: the real nodes stay Healthy and their
  // last_seen_unix_ms advances with no gap of a second or more.
  struct Track {
    int64_t last_seen = 0;
    Clock::time_point last_change;
    milliseconds max_gap{0};
    int advances = 0;
  };
  std::map<std::string, Track> track;
  auto window_start = Clock::now();
  for (const auto* d : {&a, &b}) track[d->peer_id] = Track{0, window_start, milliseconds(0), 0};
  int stalled_before = stalled.stalled_requests();
  std::set<std::string> stalled_states;
  while (Clock::now() - window_start < seconds(3)) {
    json j = Clusters(hub);
    auto now = Clock::now();
    stalled_states.insert(StateOf(j, stalled.peer_id()));
    for (auto& [peer, t] : track) {
      const json* c = FindCluster(j, peer);
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->value("state", ""), "Healthy") << c->dump();
      int64_t seen = c->value("last_seen_unix_ms", int64_t{0});
      if (seen > t.last_seen) {
        if (t.last_seen != 0) ++t.advances;
        t.max_gap = std::max(t.max_gap, std::chrono::duration_cast<milliseconds>(now - t.last_change));
        t.last_seen = seen;
        t.last_change = now;
      }
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto end = Clock::now();
  for (auto& [peer, t] : track) {
    t.max_gap = std::max(t.max_gap, std::chrono::duration_cast<milliseconds>(end - t.last_change));
    std::printf("[ %s: %d advances of last_seen in 3 s, longest gap %lld ms ]\n", peer.c_str(), t.advances,
                static_cast<long long>(t.max_gap.count()));
    EXPECT_LT(t.max_gap.count(), 1000) << peer << ": pings to a healthy node stalled";
    EXPECT_GE(t.advances, 3) << peer;
  }
  EXPECT_GT(stalled.stalled_requests(), stalled_before) << "the stalled peer was not probed during the window";
  EXPECT_EQ(stalled_states.count("Healthy"), 0u);
  stalled.Stop();
}

TEST_F(FederationTest, NonAdmittedPeerIsRefused) {
  const std::string hub_id = Keygen("hub");
  const std::string a_id = Keygen("a");
  const std::string b_id = Keygen("b");
  const std::string fed = Path("federation.json").string();
  const std::string admin = Path("admin.key").string();
  auto init = RunSyndb({"federation", "init", "--admin-key", admin, "--file", fed, "--name", "itest"});
  ASSERT_EQ(init.code, 0) << init.desc;
  for (const auto& id : {hub_id, a_id}) {
    auto admit = RunSyndb({"federation", "admit", id, "--admin-key", admin, "--file", fed});
    ASSERT_EQ(admit.code, 0) << admit.desc;
  }

  Daemon& hub = StartHub("hub", {"--federation-file", fed, "--health-interval-ms", "200"});
  Daemon& a = StartNode("a", hub, {"--federation-file", fed});
  Daemon& b = StartNode("b", hub, {"--federation-file", fed});
  ASSERT_EQ(b.peer_id, b_id);
  WaitStates(hub, {a.peer_id}, "Healthy");

  // The hub refuses B and says why, naming B (the event this test waits for;
  // no fixed window).
  auto deadline = Clock::now() + kReady;
  std::string log;
  for (;;) {
    log = ReadFile(hub.log);
    bool said = false;
    for (const auto& line : SplitLines(log)) {
      if (line.find("not admitted") != std::string::npos && line.find(b.peer_id) != std::string::npos) said = true;
    }
    if (said) break;
    ASSERT_LT(Clock::now(), deadline) << "no 'not admitted' line naming " << b.peer_id << " in the hub log:\n" << log;
    std::this_thread::sleep_for(kPoll);
  }
  // Refused, so never registered.
  json j = Clusters(hub);
  ASSERT_EQ(FindCluster(j, b.peer_id), nullptr) << "a peer that is not admitted registered: " << j.dump(1);
  EXPECT_LE(j["clusters"].size(), 2u);
  for (const auto& line : SplitLines(log)) {
    EXPECT_FALSE(line.find("not admitted") != std::string::npos && line.find(a.peer_id) != std::string::npos)
        << "the admitted node was refused: " << line;
  }

  // identify and ping still work for peers outside the federation.
  auto ping = RunSyndb({"ping", hub.addr, "--count", "2", "--timeout-ms", "10000"}, seconds(20));
  ASSERT_EQ(ping.code, 0) << ping.desc;
  EXPECT_NE(ping.out.find("rtt_us="), std::string::npos) << ping.desc;
  auto ident = RunSyndb({"identify", hub.addr, "--timeout-ms", "10000"}, seconds(20));
  ASSERT_EQ(ident.code, 0) << ident.desc;
  json info = json::parse(Trim(ident.out), nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << ident.desc;
  EXPECT_NE(ident.out.find(std::string(federation::kHubProtocol)), std::string::npos) << ident.out;
  EXPECT_NE(ident.out.find(std::string(federation::kFederationProtocol)), std::string::npos) << ident.out;

  // B is still connected (identify worked for it too) but was never admitted.
  EXPECT_NE(ReadFile(b.log).find("register with hub"), std::string::npos) << ReadFile(b.log);
  EXPECT_EQ(FindCluster(Clusters(hub), b.peer_id), nullptr);
  EXPECT_EQ(StateOf(Clusters(hub), a.peer_id), "Healthy");
}

}  // namespace
}  // namespace syndb::itest
