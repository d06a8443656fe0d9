#include "federation/registry.h"

namespace syndb::federation {

const char* health_state_name(HealthState s) {
  switch (s) {
    case HealthState::kUnknown:
      return "Unknown";
    case HealthState::kHealthy:
      return "Healthy";
    case HealthState::kDegraded:
      return "Degraded";
    case HealthState::kUnreachable:
      return "Unreachable";
  }
  return "Unknown";
}

const ClusterInfo* RegistrySnapshot::find(const std::string& peer_id) const {
  auto it = index->find(peer_id);
  if (it != index->end()) return &clusters[it->second];
  for (const auto& [id, pos] : *recent) {
    if (id == peer_id) return &clusters[pos];
  }
  return nullptr;
}

namespace {
std::atomic<uint64_t> g_next_registry_id{1};
}  // namespace

Registry::Registry() : id_(g_next_registry_id.fetch_add(1)), snap_(std::make_shared<const RegistrySnapshot>()) {}

std::shared_ptr<const RegistrySnapshot> Registry::snapshot() const {
  struct Cache {
    uint64_t registry = 0, version = 0;
    std::shared_ptr<const RegistrySnapshot> snap;
  };
  thread_local Cache cache;
  const uint64_t v = version_.load(std::memory_order_acquire);
  if (cache.registry == id_ && cache.version == v && cache.snap) return cache.snap;
  cache.snap = snap_.load(std::memory_order_acquire);
  cache.registry = id_;
  cache.version = cache.snap->version;
  return cache.snap;
}

void Registry::publish(std::shared_ptr<RegistrySnapshot> next) {
  const uint64_t v = next->version;
  snap_.store(std::move(next), std::memory_order_release);
  version_.store(v, std::memory_order_release);  // after the store: a reader that sees v finds the snapshot
}

void Registry::upsert(const std::string& peer_id, const std::function<void(ClusterInfo&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto cur = snap_.load(std::memory_order_acquire);
  auto next = std::make_shared<RegistrySnapshot>();
  next->version = cur->version + 1;
  next->clusters = cur->clusters;  // the chunk table: pointers only
  next->index = cur->index;        // shared until a registration rebuilds it
  next->recent = cur->recent;
  ClusterList& list = next->clusters;
  auto it = index_.find(peer_id);
  size_t pos;
  ClusterInfo entry;
  if (it != index_.end()) {
    pos = it->second;
    entry = list[pos];
  } else {
    pos = list.size_;
    entry.peer_id = peer_id;
  }
  fn(entry);
  entry.peer_id = peer_id;
  const size_t c = pos / ClusterList::kChunk;
  std::shared_ptr<ClusterList::Chunk> chunk;
  if (c < list.chunks_.size()) {
    chunk = std::make_shared<ClusterList::Chunk>(*list.chunks_[c]);  // one chunk copied
  } else {
    chunk = std::make_shared<ClusterList::Chunk>();
    chunk->reserve(ClusterList::kChunk);
    list.chunks_.push_back(nullptr);
  }
  auto value = std::make_shared<const ClusterInfo>(std::move(entry));
  if (pos % ClusterList::kChunk < chunk->size()) {
    (*chunk)[pos % ClusterList::kChunk] = std::move(value);
  } else {
    chunk->push_back(std::move(value));
    ++list.size_;
    index_[peer_id] = pos;
    // A registration: into `recent`, or (every kRecent) a rebuilt index.
    if (cur->recent->size() < RegistrySnapshot::kRecent) {
      auto recent = std::make_shared<RegistrySnapshot::Recent>(*cur->recent);
      recent->emplace_back(peer_id, pos);
      next->recent = std::move(recent);
    } else {
      next->index = std::make_shared<const RegistrySnapshot::Index>(index_);
      next->recent = std::make_shared<const RegistrySnapshot::Recent>();
    }
  }
  list.chunks_[c] = std::move(chunk);
  publish(std::move(next));
}

void Registry::remove(const std::string& peer_id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!index_.count(peer_id)) return;
  auto cur = snap_.load(std::memory_order_acquire);
  // Rare (a node leaves): rebuilt in order, O(n) pointers.
  auto next = std::make_shared<RegistrySnapshot>();
  next->version = cur->version + 1;
  index_.clear();
  std::shared_ptr<ClusterList::Chunk> chunk;
  for (size_t i = 0; i < cur->clusters.size(); ++i) {
    const auto& entry = (*cur->clusters.chunks_[i / ClusterList::kChunk])[i % ClusterList::kChunk];
    if (entry->peer_id == peer_id) continue;
    if (!chunk || chunk->size() == ClusterList::kChunk) {
      if (chunk) next->clusters.chunks_.push_back(std::move(chunk));
      chunk = std::make_shared<ClusterList::Chunk>();
      chunk->reserve(ClusterList::kChunk);
    }
    index_[entry->peer_id] = next->clusters.size_++;
    chunk->push_back(entry);
  }
  if (chunk) next->clusters.chunks_.push_back(std::move(chunk));
  next->index = std::make_shared<const RegistrySnapshot::Index>(index_);
  publish(std::move(next));
}

}  // namespace syndb::federation
