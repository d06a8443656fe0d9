// Data-plane benchmark (issue 5): DoGet of a synthetic synapse table from a
// node's Flight service over loopback, against raw TCP (iperf3 -R, one
// stream) measured in the same run, plus when the first batch arrives
// compared with how long DuckDB alone needs for the whole query.
//
//   build/bench/flight_doget [ROWS=10000000] [RUNS=3]
//
// The Flight server runs in this process (gRPC's threads) and the client
// decodes every batch with our IPC reader, as the hub will. Prints a
// markdown table; exit 1 if something fails (not when a target is missed).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "flight/client.h"
#include "flight/fragment_service.h"
#include "flight/ticket.h"
#include "warehouse/schema.h"
#include "warehouse/synthetic.h"

using namespace syndb;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "flight_doget: %s\n", what.c_str());
  std::exit(1);
}

// iperf3 -R over loopback, one stream, 3 s: received MB/s.
double iperf3_mbps() {
  int port = 20000 + static_cast<int>(::getpid() % 20000);
  pid_t server = ::fork();
  if (server == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::string p = std::to_string(port);
    ::execlp("iperf3", "iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", p.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string out;
  for (int attempt = 0; attempt < 50; ++attempt) {
    ::usleep(100'000);
    std::string cmd = "iperf3 -c 127.0.0.1 -p " + std::to_string(port) + " -t 3 -R -J 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    out.clear();
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (::pclose(p) == 0) break;
  }
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.contains("end")) die("iperf3 gave no result (is iperf3 installed?)");
  return j["end"]["sum_received"]["bits_per_second"].get<double>() / 8 / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::stoll(argv[1]) : 10'000'000;
  int runs = argc > 2 ? std::stoi(argv[2]) : 3;
  fs::path dir = fs::temp_directory_path() / ("syndb-flight-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    std::fprintf(stderr, "flight_doget: generating %lld synthetic synapse rows...\n", static_cast<long long>(rows));
    auto w = warehouse::open_duckdb(dir.string());
    if (!w.ok() || !(*w)->migrate(warehouse::latest_schema_version()).ok()) die("cannot create the warehouse");
    warehouse::SyntheticOptions so;
    so.rows = rows;
    so.datasets = 3;
    auto n = warehouse::generate_synthetic(**w, so);
    if (!n.ok()) die(n.error().to_string());
  }
  warehouse::OpenOptions sandbox;
  sandbox.sandbox = true;
  auto wh = warehouse::open_duckdb(dir.string(), sandbox);
  if (!wh.ok()) die(wh.error().to_string());
  const std::string sql = "SELECT * FROM synapse";

  // DuckDB alone: the whole query, consumed locally.
  double local_ms = 0;
  {
    auto conn = (*wh)->connect(true);
    auto t0 = Clock::now();
    auto stream = (*conn)->query_arrow(sql);
    if (!stream.ok()) die(stream.error().to_string());
    OwnedArrowArray b;
    for (;;) {
      auto more = (*stream)->next(&b);
      if (!more.ok()) die(more.error().to_string());
      if (!*more) break;
    }
    local_ms = ms_since(t0);
  }

  auto node_key = p2p::Ed25519PrivateKey::generate();
  auto client_key = p2p::Ed25519PrivateKey::generate();
  auto node_id = p2p::PeerId::from_public_key(node_key.public_key());
  flight::FragmentServiceConfig fc;
  fc.timeout_ms = 600'000;
  flight::FragmentService service(**wh, node_id, fc);
  auto server = flight::GrpcServer::start("127.0.0.1:0", {&service});
  if (!server.ok()) die(server.error().to_string());
  auto client = flight::FlightClient::connect("grpc://127.0.0.1:" + std::to_string((*server)->port()));

  std::vector<double> mbps, first_ms, total_ms;
  int64_t bytes = 0, got_rows = 0;
  for (int r = 0; r < runs; ++r) {
    flight::FragmentTicket t{sql, "", p2p::PeerId::from_public_key(client_key.public_key()).to_string(),
                             node_id.to_string(), unix_ms() + 600'000};
    std::string ticket = flight::mint_ticket(t, node_key);
    flight::CallOptions o;
    o.headers = flight::fragment_headers(ticket, client_key);
    flight::FlightClient::Stats stats;
    double first = -1;
    got_rows = 0;
    auto t0 = Clock::now();
    Status st = (*client)->do_get(
        ticket, o, [](const ArrowSchema&) { return ok_status(); },
        [&](OwnedArrowArray batch) {
          if (first < 0) first = ms_since(t0);
          got_rows += batch->length;
          return ok_status();
        },
        &stats);
    double total = ms_since(t0);
    if (!st.ok()) die(st.error().to_string());
    if (got_rows != rows) die("DoGet returned " + std::to_string(got_rows) + " rows");
    bytes = stats.bytes;
    mbps.push_back(static_cast<double>(stats.bytes) / 1e6 / (total / 1e3));
    first_ms.push_back(first);
    total_ms.push_back(total);
    std::fprintf(stderr, "flight_doget: run %d: %.0f MB/s, first batch %.1f ms, total %.0f ms\n", r + 1, mbps.back(),
                 first, total);
  }
  (*server)->stop();
  wh->reset();
  fs::remove_all(dir);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::fprintf(stderr, "flight_doget: iperf3 -R for 3 s...\n");
  double raw = iperf3_mbps();
  double ratio = median(mbps) / raw;
  std::printf("| metric | value | target | verdict |\n|---|---|---|---|\n");
  std::printf("| DoGet `%s`, %lld rows, %.0f MB on the wire | %.0f MB/s (median of %d) | | |\n", sql.c_str(),
              static_cast<long long>(rows), static_cast<double>(bytes) / 1e6, median(mbps), runs);
  std::printf("| raw TCP (iperf3 -R, 1 stream, same run) | %.0f MB/s | | |\n", raw);
  std::printf("| DoGet / raw TCP | %.2f | >= 0.40 | %s |\n", ratio, ratio >= 0.40 ? "PASS" : "FAIL");
  std::printf("| first batch after | %.1f ms | before the query finishes | %s |\n", median(first_ms),
              median(first_ms) < local_ms ? "PASS" : "FAIL");
  std::printf("| the same query in DuckDB alone (all batches) | %.0f ms | | |\n", local_ms);
  std::printf("| DoGet total | %.0f ms | | |\n", median(total_ms));
  std::printf("| DuckDB alone / DoGet time (the engine's own Arrow export rate is the ceiling) | %.2f | | |\n",
              local_ms / median(total_ms));
  return 0;
}
