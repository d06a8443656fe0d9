// Cluster registry of a hub: what it knows of every node. Reads never block:
// readers load an immutable snapshot through an atomic shared_ptr; writers
// copy, modify and publish a new snapshot (serialised among themselves).
// Thread-safe: read from any thread (HTTP server), write from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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

struct RegistrySnapshot {
  uint64_t version = 0;  // increases with every write
  std::vector<ClusterInfo> clusters;
  const ClusterInfo* find(const std::string& peer_id) const;
};

class Registry {
 public:
  Registry();
  // The current snapshot; never blocks on writers.
  std::shared_ptr<const RegistrySnapshot> snapshot() const { return snap_.load(std::memory_order_acquire); }
  // Applies fn to the entry for peer_id (created when absent) and publishes.
  void upsert(const std::string& peer_id, const std::function<void(ClusterInfo&)>& fn);
  void remove(const std::string& peer_id);

 private:
  std::atomic<std::shared_ptr<const RegistrySnapshot>> snap_;
  std::mutex write_mu_;
};

}  // namespace syndb::federation
