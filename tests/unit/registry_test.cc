// The hub's cluster registry (federation/registry.h): copy-on-write
// snapshots in chunks, the shared index, concurrent readers and writers.
#include "federation/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace syndb::federation {
namespace {

DatasetEntry dataset_with_id(std::string id) {
  DatasetEntry d;
  d.id = std::move(id);
  return d;
}

TEST(RegistryTest, StartsEmpty) {
  Registry r;
  auto s = r.snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->version, 0u);
  EXPECT_TRUE(s->clusters.empty());
  EXPECT_EQ(s->find("nobody"), nullptr);
}

TEST(RegistryTest, UpsertCreatesThenModifies) {
  Registry r;
  r.upsert("peerA", [](ClusterInfo& c) {
    EXPECT_EQ(c.peer_id, "peerA");  // a new entry arrives with its key set and defaults
    EXPECT_EQ(c.state, HealthState::kUnknown);
    EXPECT_TRUE(c.name.empty());
    c.name = "alpha";
    c.addrs = {"/ip4/127.0.0.1/tcp/4001"};
  });
  auto s1 = r.snapshot();
  ASSERT_EQ(s1->clusters.size(), 1u);
  const ClusterInfo* a = s1->find("peerA");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "alpha");

  r.upsert("peerA", [](ClusterInfo& c) {
    EXPECT_EQ(c.name, "alpha");  // the existing entry, not a fresh one
    c.state = HealthState::kHealthy;
    c.last_rtt_us = 1234;
  });
  auto s2 = r.snapshot();
  ASSERT_EQ(s2->clusters.size(), 1u);
  a = s2->find("peerA");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "alpha");
  EXPECT_EQ(a->state, HealthState::kHealthy);
  EXPECT_EQ(a->last_rtt_us, 1234u);

  r.upsert("peerB", [](ClusterInfo& c) { c.name = "beta"; });
  auto s3 = r.snapshot();
  ASSERT_EQ(s3->clusters.size(), 2u);
  ASSERT_NE(s3->find("peerB"), nullptr);
  EXPECT_EQ(s3->find("peerB")->name, "beta");
  EXPECT_EQ(s3->find("peerC"), nullptr);
}

TEST(RegistryTest, VersionsIncreaseWithEveryWrite) {
  Registry r;
  uint64_t last = r.snapshot()->version;
  for (int i = 0; i < 10; ++i) {
    r.upsert("p" + std::to_string(i % 3), [i](ClusterInfo& c) { c.schema_version = i; });
    uint64_t v = r.snapshot()->version;
    EXPECT_GT(v, last);
    last = v;
  }
  r.remove("p0");
  EXPECT_GT(r.snapshot()->version, last);
}

TEST(RegistryTest, OldSnapshotsAreImmutable) {
  Registry r;
  r.upsert("peerA", [](ClusterInfo& c) {
    c.name = "alpha";
    c.datasets.push_back(dataset_with_id("ds1"));
  });
  auto old = r.snapshot();
  const ClusterInfo* old_a = old->find("peerA");
  ASSERT_NE(old_a, nullptr);

  r.upsert("peerA", [](ClusterInfo& c) {
    c.name = "alpha-renamed";
    c.datasets.clear();
  });
  r.upsert("peerB", [](ClusterInfo& c) { c.name = "beta"; });
  r.remove("peerA");

  // The old snapshot still reads exactly as when it was taken.
  EXPECT_EQ(old->clusters.size(), 1u);
  EXPECT_EQ(old->find("peerA"), old_a);
  EXPECT_EQ(old_a->name, "alpha");
  ASSERT_EQ(old_a->datasets.size(), 1u);
  EXPECT_EQ(old_a->datasets[0].id, "ds1");
  EXPECT_EQ(old->find("peerB"), nullptr);

  auto now = r.snapshot();
  EXPECT_GT(now->version, old->version);
  EXPECT_EQ(now->find("peerA"), nullptr);
  ASSERT_NE(now->find("peerB"), nullptr);
}

TEST(RegistryTest, Remove) {
  Registry r;
  for (const char* p : {"a", "b", "c"}) r.upsert(p, [](ClusterInfo&) {});
  r.remove("b");
  auto s = r.snapshot();
  EXPECT_EQ(s->clusters.size(), 2u);
  EXPECT_NE(s->find("a"), nullptr);
  EXPECT_EQ(s->find("b"), nullptr);
  EXPECT_NE(s->find("c"), nullptr);
  // Removing an absent peer is harmless.
  r.remove("zzz");
  EXPECT_EQ(r.snapshot()->clusters.size(), 2u);
  // A removed peer can come back, as a fresh entry.
  r.upsert("b", [](ClusterInfo& c) { EXPECT_TRUE(c.name.empty()); });
  EXPECT_NE(r.snapshot()->find("b"), nullptr);
}

// Chunked copy-on-write and the shared index: past several chunks and index
// rebuilds, every entry is found, order is registration order, an update
// leaves other snapshots alone, and remove() keeps the order of the rest.
TEST(RegistryTest, ManyNodesFindOrderUpdateRemove) {
  Registry r;
  const int n = 1000;
  for (int i = 0; i < n; ++i) r.upsert("peer-" + std::to_string(i), [i](ClusterInfo& c) { c.schema_version = i; });
  auto before = r.snapshot();
  ASSERT_EQ(before->clusters.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(before->clusters[i].peer_id, "peer-" + std::to_string(i));
    const ClusterInfo* c = before->find("peer-" + std::to_string(i));
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->schema_version, i);
  }
  EXPECT_EQ(before->find("peer-x"), nullptr);
  r.upsert("peer-500", [](ClusterInfo& c) { c.schema_version = -1; });
  EXPECT_EQ(before->find("peer-500")->schema_version, 500) << "an old snapshot changed";
  EXPECT_EQ(r.snapshot()->find("peer-500")->schema_version, -1);
  EXPECT_EQ(&before->clusters[0], &r.snapshot()->clusters[0]) << "an untouched entry was copied";
  r.remove("peer-3");
  auto after = r.snapshot();
  ASSERT_EQ(after->clusters.size(), static_cast<size_t>(n - 1));
  EXPECT_EQ(after->find("peer-3"), nullptr);
  EXPECT_EQ(after->clusters[3].peer_id, "peer-4");
  EXPECT_EQ(after->find("peer-999")->schema_version, 999);
  r.upsert("peer-new", [](ClusterInfo& c) { c.schema_version = 7; });
  EXPECT_EQ(r.snapshot()->clusters[n - 1].peer_id, "peer-new");
  EXPECT_EQ(r.snapshot()->find("peer-new")->schema_version, 7);
}

TEST(RegistryTest, ConcurrentReadersSeeConsistentSnapshots) {
  constexpr int kWriters = 2, kReaders = 4, kWritesPerWriter = 10'000, kPeersPerWriter = 16;
  Registry r;
  std::atomic<int> writers_done{0};
  std::atomic<bool> start{false};
  std::atomic<uint64_t> violations{0}, reads{0};

  // Writer w writes ClusterInfos whose name (and every addr) is its
  // schema_version as a string, and whose dataset count is schema_version % 4.
  auto writer = [&](int w) {
    while (!start.load()) std::this_thread::yield();
    for (int i = 0; i < kWritesPerWriter; ++i) {
      int v = w * 1'000'000 + i;
      r.upsert("w" + std::to_string(w) + "-" + std::to_string(i % kPeersPerWriter), [v](ClusterInfo& c) {
        c.schema_version = v;
        c.name = std::to_string(v);
        c.addrs.assign(1 + v % 3, std::to_string(v));
        c.datasets.assign(static_cast<size_t>(v % 4), dataset_with_id(std::to_string(v)));
      });
    }
    writers_done.fetch_add(1);
  };
  auto reader = [&] {
    while (!start.load()) std::this_thread::yield();
    uint64_t last_version = 0;
    bool last_pass = false;
    while (true) {
      if (writers_done.load() == kWriters) last_pass = true;  // one more read after the writers finish
      auto s = r.snapshot();
      if (s->version < last_version) violations.fetch_add(1);
      last_version = s->version;
      for (const auto& c : s->clusters) {
        std::string v = std::to_string(c.schema_version);
        bool ok = c.name == v && c.addrs.size() == static_cast<size_t>(1 + c.schema_version % 3) &&
                  c.datasets.size() == static_cast<size_t>(c.schema_version % 4);
        for (const auto& a : c.addrs) ok = ok && a == v;
        for (const auto& d : c.datasets) ok = ok && d.id == v;
        if (!ok) violations.fetch_add(1);
        const ClusterInfo* found = s->find(c.peer_id);
        if (found != &c) violations.fetch_add(1);
      }
      reads.fetch_add(1, std::memory_order_relaxed);
      if (last_pass) break;
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) threads.emplace_back(reader);
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  start.store(true);
  for (auto& t : threads) t.join();

  EXPECT_EQ(violations.load(), 0u);
  EXPECT_GE(reads.load(), static_cast<uint64_t>(kReaders));
  auto s = r.snapshot();
  EXPECT_EQ(s->version, static_cast<uint64_t>(kWriters * kWritesPerWriter));  // no lost write
  ASSERT_EQ(s->clusters.size(), static_cast<size_t>(kWriters * kPeersPerWriter));
  for (int w = 0; w < kWriters; ++w) {
    for (int p = 0; p < kPeersPerWriter; ++p) {
      const ClusterInfo* c = s->find("w" + std::to_string(w) + "-" + std::to_string(p));
      ASSERT_NE(c, nullptr);
      // The last write to peer p of writer w was the largest i with i % kPeersPerWriter == p.
      int last_i = (kWritesPerWriter - 1) - ((kWritesPerWriter - 1 - p) % kPeersPerWriter);
      EXPECT_EQ(c->schema_version, w * 1'000'000 + last_i);
    }
  }
}

}  // namespace
}  // namespace syndb::federation
