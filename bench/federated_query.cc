// Federated query benchmark (issue 6): a synthetic synapse table split over
// three local nodes, each query asked of the federation (Flight SQL on the
// hub: GetFlightInfo + DoGet, results decoded by our IPC reader) and of one
// DuckDB holding all rows (in this process), in the same run.
//
//   build/bench/federated_query [ROWS_PER_NODE=10000000] [RUNS=5]
//
// Targets: aggregates within 1.5x of the single DuckDB, selective filters
// within 2x, and the hub's resident memory growing by less than 64 MB while
// it streams a result of hundreds of MB (no full materialisation). The hub
// and nodes are `syndb hub|node` processes on loopback (build/syndb). Prints
// a markdown table; exit 1 when something fails (not when a target is missed).
// FEDBENCH_KEEP=1 leaves the federation running and its directory in place.
#include <google/protobuf/any.pb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "api/http_client.h"
#include "common/child_process.h"
#include "federation/membership.h"
#include "federation/metastore.h"
#include "flight/client.h"
#include "flight/flight_sql.pb.h"
#include "p2p/crypto/keys.h"
#include "warehouse/schema.h"
#include "warehouse/synthetic.h"

using namespace syndb;
namespace fs = std::filesystem;
namespace fsql = ::arrow::flight::protocol::sql;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The processes and files of this run, cleaned up however it ends.
std::vector<ChildProcess> g_children;
fs::path g_dir;

void cleanup() {
  for (auto it = g_children.rbegin(); it != g_children.rend(); ++it) stop_child(*it);
  std::error_code ec;
  if (!g_dir.empty()) fs::remove_all(g_dir, ec);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "federated_query: %s\n", what.c_str());
  cleanup();
  std::exit(1);
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().message());
  return std::move(r).value();
}
void must(const Status& s, const std::string& what) {
  if (!s.ok()) die(what + ": " + s.error().message());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// VmRSS of `pid` in bytes (0 when unreadable).
int64_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  int64_t kib = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> kib;
      return kib * 1024;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

struct Outcome {
  int64_t rows = 0, bytes = 0;
  double ms = 0;
};

// The query on the single DuckDB: every batch converted to Arrow, as the hub does.
Outcome run_reference(warehouse::Warehouse& db, const std::string& sql) {
  auto start = Clock::now();
  auto stream = must(db.query_arrow(sql), "reference query");
  Outcome o;
  for (;;) {
    OwnedArrowArray batch;
    if (!must(stream->next(&batch), "reference batch")) break;
    o.rows += batch->length;
  }
  o.ms = ms_since(start);
  return o;
}

// The query through the hub's Flight SQL service.
Outcome run_federated(flight::FlightClient& client, const flight::CallOptions& auth, const std::string& sql) {
  auto start = Clock::now();
  fsql::CommandStatementQuery q;
  q.set_query(sql);
  google::protobuf::Any any;
  any.PackFrom(q);
  flight::fpb::FlightDescriptor d;
  d.set_type(flight::fpb::FlightDescriptor::CMD);
  d.set_cmd(any.SerializeAsString());
  auto info = must(client.get_flight_info(d, auth), "GetFlightInfo");
  if (info.endpoint_size() != 1) die("GetFlightInfo: expected one endpoint");
  Outcome o;
  flight::FlightClient::Stats stats;
  must(client.do_get(
           info.endpoint(0).ticket().ticket(), auth, [](const ArrowSchema&) { return ok_status(); },
           [&](OwnedArrowArray batch) {
             o.rows += batch->length;
             return ok_status();
           },
           &stats),
       "DoGet");
  o.bytes = stats.bytes;
  o.ms = ms_since(start);
  return o;
}

// The hub's resident memory may grow by at most this while streaming (bytes).
constexpr double kHubGrowthLimit = 64e6;

struct Query {
  const char* kind;  // aggregate | filter | stream
  const char* name;
  const char* sql;
};

const Query kQueries[] = {
    {"aggregate", "count, mean size, total weight",
     "SELECT count(*) AS synapses, avg(size) AS mean_size, sum(weight) AS total_weight FROM synapse"},
    {"aggregate", "per presynaptic cell, top 20",
     "SELECT pre, count(*) AS synapses, avg(size) AS mean_size, max(sections) AS max_sections FROM synapse "
     "GROUP BY pre ORDER BY synapses DESC, pre LIMIT 20"},
    {"aggregate", "branch contacts per dataset",
     "SELECT dataset_id, count(*) AS n, sum(size) AS total_size FROM synapse WHERE post_is_branch "
     "GROUP BY dataset_id ORDER BY dataset_id"},
    {"filter", "one cell pair",
     "SELECT dataset_id, synapse_id, pre, post, size FROM synapse WHERE pre = 'AVAL' AND post = 'AVBR'"},
    {"filter", "first 50 synapses of every dataset", "SELECT * FROM synapse WHERE synapse_id < 50"},
    {"stream", "a quarter of all rows, 6 columns",
     "SELECT dataset_id, synapse_id, pre, post, size, weight FROM synapse WHERE synapse_id % 4 = 0"},
};

}  // namespace

int main(int argc, char** argv) {
  int64_t rows_per_node = 10'000'000;
  int runs = 5;
  try {
    if (argc > 1) rows_per_node = std::stoll(argv[1]);
    if (argc > 2) runs = std::stoi(argv[2]);
  } catch (const std::exception&) {
    rows_per_node = 0;
  }
  if (argc > 3 || rows_per_node <= 0 || runs <= 0) {
    std::fprintf(stderr, "usage: federated_query [ROWS_PER_NODE>0, default 10000000] [RUNS>0, default 5]\n");
    return 2;
  }
  const fs::path exe = fs::canonical("/proc/self/exe");
  const std::string syndb_bin = (exe.parent_path().parent_path() / "syndb").string();
  if (!fs::exists(syndb_bin)) die(syndb_bin + " not found (build it first)");

  char tmpl[] = "/tmp/syndb-fedbench.XXXXXX";
  if (!::mkdtemp(tmpl)) die("mkdtemp failed");
  const fs::path dir = tmpl;
  g_dir = dir;
  g_children.resize(4);
  auto& children = g_children;

  // Keys and the federation file.
  const std::vector<std::string> nodes = {"node1", "node2", "node3"};
  auto admin = p2p::Ed25519PrivateKey::generate();
  const std::string fed_file = (dir / "federation.json").string();
  must(federation::init_federation(fed_file, "syndb-bench", admin), "federation file");
  for (const std::string n : {"hub", "node1", "node2", "node3"}) {
    auto key = p2p::Ed25519PrivateKey::generate();
    must(p2p::save_key_file((dir / (n + ".key")).string(), key, true), "key");
    must(federation::admit_peer(fed_file, p2p::PeerId::from_public_key(key.public_key()), admin), "admit");
  }

  // Data: node i holds 4 datasets under /bench<i>/synthetic; the reference
  // DuckDB gets a copy of every node's rows.
  {
    auto hub = must(warehouse::open_duckdb((dir / "hub").string()), "hub warehouse");
    must(hub->migrate(warehouse::latest_schema_version()), "migrate hub");
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    warehouse::SyntheticOptions o;
    o.rows = rows_per_node;
    o.datasets = 4;
    o.seed = 1 + i;
    o.prefix = "/bench" + std::to_string(i + 1) + "/synthetic";
    auto t = Clock::now();
    auto w = must(warehouse::open_duckdb((dir / nodes[i]).string()), "node warehouse");
    must(w->migrate(warehouse::latest_schema_version()), "migrate node");
    must(warehouse::generate_synthetic(*w, o), "generate");
    std::fprintf(stderr, "bench: %s holds %lld synapse rows under %s (%.1f s)\n", nodes[i].c_str(),
                 static_cast<long long>(rows_per_node), o.prefix.c_str(), ms_since(t) / 1000);
  }
  auto reference = must(warehouse::open_duckdb((dir / "reference").string()), "reference warehouse");
  must(reference->migrate(warehouse::latest_schema_version()), "migrate reference");
  for (const auto& n : nodes) {
    must(reference->execute("ATTACH '" + (dir / n / "warehouse.duckdb").string() + "' AS src (READ_ONLY)"), "attach");
    for (const auto& t : warehouse::data_tables()) {
      if (!t.dataset_column) continue;  // shared reference tables: none generated
      must(reference->execute(std::string("INSERT INTO ") + t.name + " SELECT * FROM src." + t.name), "copy");
    }
    must(reference->execute("DETACH src"), "detach");
  }
  std::fprintf(stderr, "bench: the reference DuckDB holds all %lld rows\n", static_cast<long long>(3 * rows_per_node));

  // The federation.
  children[0].name = "hub";
  auto hub_lines = spawn_child(children[0],
                               {syndb_bin, "hub", "--key", (dir / "hub.key").string(), "--listen",
                                "/ip4/127.0.0.1/tcp/0", "--data-dir", (dir / "hub").string(), "--http-listen",
                                "127.0.0.1:0", "--name", "hub", "--federation-file", fed_file,
                                "--flight-listen", "127.0.0.1:0", "--flight-sql-listen", "127.0.0.1:0"},
                               dir / "hub.log", "flight ");
  if (!hub_lines.ok()) die(hub_lines.error().message());
  const std::string hub_addr = line_field(*hub_lines, "listening ");
  const std::string hub_http = line_field(*hub_lines, "http ");
  const std::string hub_flight_sql = line_field(*hub_lines, "flight_sql ");
  for (size_t i = 0; i < nodes.size(); ++i) {
    ChildProcess& c = children[i + 1];
    c.name = nodes[i];
    auto lines = spawn_child(c,
                             {syndb_bin, "node", "--key", (dir / (c.name + ".key")).string(), "--listen",
                              "/ip4/127.0.0.1/tcp/0", "--data-dir", (dir / c.name).string(), "--name", c.name,
                              "--bootstrap", hub_addr, "--federation-file", fed_file, "--flight-listen",
                              "127.0.0.1:0"},
                             dir / (c.name + ".log"), "flight ");
    if (!lines.ok()) die(lines.error().message());
  }
  must(api::wait_for_healthy_clusters(hub_http, children.size(), 60000), "federation");
  auto metastore = must(federation::Metastore::open((dir / "hub" / "hub.sqlite").string()), "hub metastore");
  flight::CallOptions auth;
  auth.headers = {flight::bearer_header(must(metastore->create_token("bench"), "token"))};
  auto client = must(flight::FlightClient::connect(hub_flight_sql), "Flight SQL client");
  std::fprintf(stderr, "bench: federation ready (hub %s, Flight SQL %s)\n", hub_http.c_str(), hub_flight_sql.c_str());

  std::printf("| kind | query | rows | one DuckDB ms | federated ms | ratio | target | result |\n");
  std::printf("|---|---|---:|---:|---:|---:|---|---|\n");
  bool all_pass = true;
  int64_t stream_bytes = 0, rss_before = 0, rss_peak = 0;
  for (const auto& q : kQueries) {
    const bool stream = std::string(q.kind) == "stream";
    // Warm-up (caches, first-query planning), and the row counts must agree.
    Outcome ref = run_reference(*reference, q.sql);
    Outcome fed;
    std::atomic<bool> sampling{false};
    std::thread sampler;
    if (stream) {
      rss_before = rss_peak = rss_bytes(children[0].proc->pid());
      sampling = true;
      sampler = std::thread([&] {
        while (sampling) {
          rss_peak = std::max(rss_peak, rss_bytes(children[0].proc->pid()));
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
    }
    fed = run_federated(*client, auth, q.sql);
    if (stream) {
      sampling = false;
      sampler.join();
      stream_bytes = fed.bytes;
    }
    if (ref.rows != fed.rows) {
      die(std::string(q.name) + ": the federation returned " + std::to_string(fed.rows) + " rows, DuckDB " +
          std::to_string(ref.rows));
    }
    std::vector<double> ref_ms, fed_ms;
    for (int r = 0; r < (stream ? 1 : runs); ++r) {
      ref_ms.push_back(run_reference(*reference, q.sql).ms);
      fed_ms.push_back(run_federated(*client, auth, q.sql).ms);
    }
    const double a = median(ref_ms), b = median(fed_ms), ratio = b / a;
    const double target = std::string(q.kind) == "aggregate" ? 1.5 : std::string(q.kind) == "filter" ? 2.0 : 0;
    const bool pass = target == 0 || ratio <= target;
    all_pass = all_pass && pass;
    std::printf("| %s | %s | %lld | %.1f | %.1f | %.2f× | %s | %s |\n", q.kind, q.name,
                static_cast<long long>(ref.rows), a, b, ratio, target == 0 ? "(info)" : (target == 1.5 ? "≤ 1.5×" : "≤ 2×"),
                target == 0 ? "" : (pass ? "PASS" : "FAIL"));
    std::fflush(stdout);
  }
  // Bounded: the hub holds a few queued batches per fragment and DuckDB's
  // vectors in flight, whatever the result size.
  const double growth = static_cast<double>(rss_peak - rss_before);
  const bool mem_pass = growth < kHubGrowthLimit;
  std::printf("| memory | hub RSS while streaming the %.1f MB result: %.1f MB before, %.1f MB peak | | | | +%.1f MB | < +%.0f MB | %s |\n",
              stream_bytes / 1e6, rss_before / 1e6, rss_peak / 1e6, growth / 1e6, kHubGrowthLimit / 1e6,
              mem_pass ? "PASS" : "FAIL");
  std::printf("\n%lld rows per node × 3 nodes (hub + 3 `syndb node` processes on loopback); median of %d runs "
              "after one warm-up (the stream: one run); %u cores.\n",
              static_cast<long long>(rows_per_node), runs, std::thread::hardware_concurrency());
  std::fprintf(stderr, "bench: %s\n", all_pass && mem_pass ? "all targets met" : "some targets missed");
  client.reset();
  metastore.reset();
  reference.reset();
  if (std::getenv("FEDBENCH_KEEP")) {
    // For investigation: the federation keeps running (stop the processes yourself).
    std::fprintf(stderr, "bench: kept %s; hub %s; pids", dir.c_str(), hub_http.c_str());
    for (const auto& c : children) std::fprintf(stderr, " %d", c.proc ? c.proc->pid() : -1);
    std::fprintf(stderr, "\n");
    return 0;
  }
  cleanup();
  return 0;
}
