#include "p2p/rcmgr/resource_manager.h"

#include <fmt/format.h>

namespace syndb::p2p {

const char* peer_class_name(PeerClass c) { return c == PeerClass::kMember ? "member" : "stranger"; }

ResourceManager::ResourceManager(ResourceLimits limits)
    : limits_(limits), system_(std::make_shared<MemoryBudget>("system", limits.memory)) {
  members_.memory = std::make_shared<MemoryBudget>("member", limits_.members.memory, system_);
  strangers_.memory = std::make_shared<MemoryBudget>("stranger", limits_.strangers.memory, system_);
}

bool ResourceManager::admit_connection(PeerClass c) {
  Class& k = of(c);
  if (k.connections >= limits(c).connections) {
    ++k.refused;
    return false;
  }
  ++k.connections;
  return true;
}

void ResourceManager::force_connection(PeerClass c) { ++of(c).connections; }

void ResourceManager::connection_closed(PeerClass c) {
  Class& k = of(c);
  if (k.connections > 0) --k.connections;
}

std::shared_ptr<MemoryBudget> ResourceManager::connection_budget(PeerClass c) {
  return std::make_shared<MemoryBudget>(std::string(peer_class_name(c)) + " connection",
                                        limits(c).memory_per_connection, of(c).memory);
}

ResourceManager::ClassStats ResourceManager::stats(PeerClass c) const {
  const Class& k = of(c);
  ClassStats s;
  s.connections = k.connections;
  s.connections_refused = k.refused;
  s.memory_used = k.memory->used();
  s.memory_limit = k.memory->limit();
  s.memory_refused = k.memory->refused();
  return s;
}

std::string ResourceManager::metrics_text() const {
  std::string out;
  out += "# HELP syndb_p2p_connections Upgraded libp2p connections by peer class, and the class's limit.\n";
  out += "# TYPE syndb_p2p_connections gauge\n";
  for (PeerClass c : {PeerClass::kMember, PeerClass::kStranger}) {
    const auto s = stats(c);
    out += fmt::format("syndb_p2p_connections{{class=\"{}\"}} {}\n", peer_class_name(c), s.connections);
    out += fmt::format("syndb_p2p_connections_limit{{class=\"{}\"}} {}\n", peer_class_name(c), limits(c).connections);
    out += fmt::format("syndb_p2p_connections_refused_total{{class=\"{}\"}} {}\n", peer_class_name(c),
                       s.connections_refused);
    out += fmt::format("syndb_p2p_memory_bytes{{class=\"{}\"}} {}\n", peer_class_name(c), s.memory_used);
    out += fmt::format("syndb_p2p_memory_limit_bytes{{class=\"{}\"}} {}\n", peer_class_name(c), s.memory_limit);
    out += fmt::format("syndb_p2p_memory_refused_total{{class=\"{}\"}} {}\n", peer_class_name(c), s.memory_refused);
  }
  out += fmt::format("syndb_p2p_handshakes {}\nsyndb_p2p_handshakes_limit {}\nsyndb_p2p_handshakes_aborted_total {}\n",
                     handshakes_, limits_.handshakes, handshakes_aborted_);
  return out;
}

}  // namespace syndb::p2p
