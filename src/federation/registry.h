// Cluster registry of a hub: what it knows of every node, as immutable
// snapshots (Registry below says what reads and writes cost).
// Thread-safe: read from any thread (HTTP server), write from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace syndb::federation {

enum class HealthState { kUnknown, kHealthy, kDegraded, kUnreachable };
const char* health_state_name(HealthState s);

struct DatasetEntry {
  std::string id, title, institution, species, stage, policy, doi, citation, license, method;
  double age_hours = 0;
  int policy_k = 0;
  int64_t synapses = 0, gap_junctions = 0, cells = 0;
};

struct ClusterInfo {
  std::string peer_id;  // base58 PeerId
  std::string name;
  std::vector<std::string> addrs;  // multiaddrs (text)
  HealthState state = HealthState::kUnknown;
  std::optional<uint64_t> last_rtt_us;
  int schema_version = 0;
  std::vector<DatasetEntry> datasets;
  std::string flight_endpoint;
  int64_t registered_unix_ms = 0, last_seen_unix_ms = 0;
  int consecutive_failures = 0;
  bool local = false;  // the hub's own node
};

// The clusters of a snapshot: a persistent (copy-on-write) vector in chunks
// of kChunk shared, immutable entries, so a write copies one chunk and the
// chunk table (O(n / kChunk + kChunk) pointers), never the entries.
class ClusterList {
 public:
  static constexpr size_t kChunk = 64;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const ClusterInfo& operator[](size_t i) const { return *(*chunks_[i / kChunk])[i % kChunk]; }

  class const_iterator {
   public:
    const_iterator(const ClusterList* l, size_t i) : l_(l), i_(i) {}
    const ClusterInfo& operator*() const { return (*l_)[i_]; }
    const ClusterInfo* operator->() const { return &(*l_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

   private:
    const ClusterList* l_;
    size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  friend class Registry;
  using Chunk = std::vector<std::shared_ptr<const ClusterInfo>>;
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  size_t size_ = 0;
};

struct RegistrySnapshot {
  using Index = std::unordered_map<std::string, size_t>;
  using Recent = std::vector<std::pair<std::string, size_t>>;
  uint64_t version = 0;  // increases with every write
  ClusterList clusters;  // in registration order
  // Positions by peer_id: `index` (shared by snapshots until it is rebuilt)
  // plus `recent` (at most kRecent clusters registered since).
  static constexpr size_t kRecent = 64;
  std::shared_ptr<const Index> index = std::make_shared<const Index>();
  std::shared_ptr<const Recent> recent = std::make_shared<const Recent>();
  // O(1) expected (a hash lookup, then at most kRecent comparisons).
  const ClusterInfo* find(const std::string& peer_id) const;
};

// Reads: snapshot() returns the calling thread's cached snapshot while the
// registry's version (one lock-free atomic load) is unchanged: no lock and
// no shared counter is touched. After a write, the thread's next read loads
// the new snapshot once (std::atomic<shared_ptr>, which GCC 12 implements
// with a short spinlock held only for the pointer swap). A thread's cached
// snapshot lives until that thread reads again.
// Writes: serialised; cost O(n / kChunk + kChunk) pointer copies plus the
// changed entry (benchmarked at 10,000 nodes: bench/registry_bench.cc).
class Registry {
 public:
  Registry();
  // The current snapshot; never waits for writers while nothing changed.
  std::shared_ptr<const RegistrySnapshot> snapshot() const;
  // Applies fn to (a copy of) the entry for peer_id, created when absent, and publishes.
  void upsert(const std::string& peer_id, const std::function<void(ClusterInfo&)>& fn);
  void remove(const std::string& peer_id);

 private:
  void publish(std::shared_ptr<RegistrySnapshot> next);

  const uint64_t id_;  // unique per Registry (thread caches are keyed by it, not by address)
  std::atomic<uint64_t> version_{0};
  std::atomic<std::shared_ptr<const RegistrySnapshot>> snap_;
  std::mutex write_mu_;
  std::unordered_map<std::string, size_t> index_;  // peer_id → position; guarded by write_mu_
};

}  // namespace syndb::federation
