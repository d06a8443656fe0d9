// Micro-benchmarks of the hub's cluster registry (copy-on-write snapshots):
//   BM_RegistryRead             snapshot() + find() on 100 clusters, one thread
//   BM_RegistryReadUnderWrites  the same on 100 and 10,000 nodes while 2
//                               background threads upsert continuously
//   BM_RegistryWrite            one upsert (copies one chunk of entry pointers
//                               and the chunk table, never the entries)
//   BM_RegistryMemoryPerNode    heap bytes per registered node (mallinfo2),
//                               10'000 nodes with 3 datasets each
// Items/s is per read or per upsert. The *_UnderWrites runs report both CPU
// time (the reader thread's own cost) and, with /real_time, wall time (which
// also includes the reader being descheduled when the writers use the cores).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "federation/registry.h"

using namespace syndb::federation;

namespace {

// A realistic base58 PeerId (52 chars, common 12D3KooW prefix) unique per i.
std::string peer_id(int i) {
  static const char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::string id = "12D3KooW";
  uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
  while (id.size() < 52) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    id += kAlphabet[x % 58];
  }
  return id;
}

DatasetEntry dataset(int node, int k) {
  DatasetEntry d;
  std::string n = std::to_string(node) + "_" + std::to_string(k);
  d.id = "witvliet_2020_dataset_" + n;
  d.title = "Connectomes across development reveal principles of brain maturation (dataset " + n + ")";
  d.institution = "Harvard University / University of Toronto";
  d.species = "Caenorhabditis elegans";
  d.stage = k == 0 ? "L1" : k == 1 ? "L3" : "adult";
  d.policy = "public";
  d.doi = "10.1038/s41586-021-03778-" + n;
  d.citation = "Witvliet D, Mulcahy B, Mitchell JK, et al. Nature 596, 257-261 (2021)";
  d.license = "CC-BY-4.0";
  d.method = "serial-section electron microscopy";
  d.age_hours = 5.0 + 10 * k;
  d.synapses = 1500 + node % 1000;
  d.gap_junctions = 200 + k;
  d.cells = 302;
  return d;
}

// What a registered node looks like after Register + a catalog sync + pings.
void fill_node(ClusterInfo& c, int i, int datasets) {
  c.name = "lab-node-" + std::to_string(i);
  c.addrs = {"/ip4/10.0." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250) + "/tcp/4001",
             "/ip6/fd00::" + std::to_string(i) + "/tcp/4001"};
  c.state = HealthState::kHealthy;
  c.last_rtt_us = 800 + i % 100;
  c.schema_version = 7;
  c.datasets.clear();
  for (int k = 0; k < datasets; ++k) c.datasets.push_back(dataset(i, k));
  c.flight_endpoint = "grpc://10.0." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250) + ":8815";
  c.registered_unix_ms = 1'700'000'000'000 + i;
  c.last_seen_unix_ms = c.registered_unix_ms + 60'000;
}

constexpr int kClusters = 100;
constexpr int kDatasetsPerCluster = 3;

// The PeerIds of the first n nodes (n = 100 or 10,000 here).
const std::vector<std::string>& ids(int n = kClusters) {
  static std::map<int, std::vector<std::string>> by_n;
  auto& v = by_n[n];
  if (v.empty()) {
    for (int i = 0; i < n; ++i) v.push_back(peer_id(i));
  }
  return v;
}

void populate(Registry& r, int n) {
  for (int i = 0; i < n; ++i) r.upsert(peer_id(i), [i](ClusterInfo& c) { fill_node(c, i, kDatasetsPerCluster); });
}

// The loop body of every read benchmark: what an HTTP handler does per request.
void read_loop(benchmark::State& state, const Registry& r, int n = kClusters) {
  const auto& keys = ids(n);
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    auto snap = r.snapshot();
    const ClusterInfo* c = snap->find(keys[i]);
    found += c != nullptr;
    benchmark::DoNotOptimize(c);
    if (++i == keys.size()) i = 0;
  }
  if (found != state.iterations()) state.SkipWithError("a registered peer was not found");
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------------------

void BM_RegistryRead(benchmark::State& state) {
  Registry r;
  populate(r, kClusters);
  read_loop(state, r);
}
BENCHMARK(BM_RegistryRead);

// Shared by the Setup/Teardown of BM_RegistryReadUnderWrites.
struct Background {
  Registry registry;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> upserts{0};
  std::vector<std::thread> writers;
  std::chrono::steady_clock::time_point started;
};
std::unique_ptr<Background> g_bg;

void start_writers(const benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  (void)ids(n);  // built before the writers start
  g_bg = std::make_unique<Background>();
  populate(g_bg->registry, n);
  for (int w = 0; w < 2; ++w) {
    g_bg->writers.emplace_back([w, n] {
      Background& bg = *g_bg;
      const auto& keys = ids(n);
      uint64_t n = 0;
      size_t i = static_cast<size_t>(w) * 37;
      while (!bg.stop.load(std::memory_order_relaxed)) {
        // What the health monitor does after every ping.
        bg.registry.upsert(keys[i % keys.size()], [n](ClusterInfo& c) {
          c.last_rtt_us = 700 + n % 300;
          c.last_seen_unix_ms += 1;
          c.state = n % 10 == 0 ? HealthState::kDegraded : HealthState::kHealthy;
        });
        ++n;
        i += 7;
        bg.upserts.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Let both writers get going before the timed loop starts.
  while (g_bg->upserts.load() < 100) std::this_thread::yield();
  g_bg->started = std::chrono::steady_clock::now();
  g_bg->upserts.store(0);
}

void stop_writers(const benchmark::State&) {
  g_bg->stop.store(true);
  for (auto& t : g_bg->writers) t.join();
  g_bg.reset();
}

void BM_RegistryReadUnderWrites(benchmark::State& state) {
  read_loop(state, g_bg->registry, static_cast<int>(state.range(0)));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_bg->started).count();
  // Proof that the writers were busy during the timed loop (wall-clock rate).
  state.counters["bg_upserts_per_s"] = benchmark::Counter(static_cast<double>(g_bg->upserts.load()) / secs);
}
BENCHMARK(BM_RegistryReadUnderWrites)->Arg(100)->Arg(10'000)->Setup(start_writers)->Teardown(stop_writers);
BENCHMARK(BM_RegistryReadUnderWrites)
    ->Arg(100)
    ->Arg(10'000)
    ->Setup(start_writers)
    ->Teardown(stop_writers)
    ->UseRealTime();

// One upsert into a registry of range(0) clusters (copy-on-write: O(size)).
void BM_RegistryWrite(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Registry r;
  populate(r, n);
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(peer_id(i));
  size_t i = 0;
  uint64_t k = 0;
  for (auto _ : state) {
    r.upsert(keys[i], [k](ClusterInfo& c) { c.last_rtt_us = 700 + k % 300; });
    if (++i == keys.size()) i = 0;
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RegistryWrite)->Arg(10)->Arg(100)->Arg(1000)->Arg(10'000);

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();  // all arenas: small chunks plus mmapped blocks
  return mi.uordblks + mi.hblkhd;
}

// Heap bytes per registered node: N nodes, each with 3 datasets, registered
// one upsert at a time as the hub does. Includes malloc chunk overhead and the
// snapshot vector's spare capacity. The timed part is building the registry.
void BM_RegistryMemoryPerNode(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);
    size_t before = heap_in_use();
    state.ResumeTiming();
    auto r = std::make_unique<Registry>();
    populate(*r, n);
    state.PauseTiming();
    size_t after = heap_in_use();
    auto snap = r->snapshot();
    if (snap->clusters.size() != static_cast<size_t>(n)) state.SkipWithError("wrong node count");
    state.counters["bytes_per_node"] = static_cast<double>(after - before) / n;
    state.counters["nodes"] = n;
    state.counters["sizeof_ClusterInfo"] = sizeof(ClusterInfo);
    state.counters["sizeof_DatasetEntry"] = sizeof(DatasetEntry);
    snap.reset();
    r.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_RegistryMemoryPerNode)->Arg(2000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
