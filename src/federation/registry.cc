#include "federation/registry.h"

namespace syndb::federation {

const char* health_state_name(HealthState s) {
  switch (s) {
    case HealthState::kUnknown: return "Unknown";
    case HealthState::kHealthy: return "Healthy";
    case HealthState::kDegraded: return "Degraded";
    case HealthState::kUnreachable: return "Unreachable";
  }
  return "Unknown";
}

const ClusterInfo* RegistrySnapshot::find(const std::string& peer_id) const {
  for (const auto& c : clusters) {
    if (c.peer_id == peer_id) return &c;
  }
  return nullptr;
}

Registry::Registry() : snap_(std::make_shared<const RegistrySnapshot>()) {}

void Registry::upsert(const std::string& peer_id, const std::function<void(ClusterInfo&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto next = std::make_shared<RegistrySnapshot>(*snap_.load(std::memory_order_acquire));
  ++next->version;
  ClusterInfo* entry = nullptr;
  for (auto& c : next->clusters) {
    if (c.peer_id == peer_id) entry = &c;
  }
  if (!entry) {
    next->clusters.push_back(ClusterInfo{});
    entry = &next->clusters.back();
    entry->peer_id = peer_id;
  }
  fn(*entry);
  snap_.store(std::move(next), std::memory_order_release);
}

void Registry::remove(const std::string& peer_id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto next = std::make_shared<RegistrySnapshot>(*snap_.load(std::memory_order_acquire));
  ++next->version;
  std::erase_if(next->clusters, [&](const ClusterInfo& c) { return c.peer_id == peer_id; });
  snap_.store(std::move(next), std::memory_order_release);
}

}  // namespace syndb::federation
