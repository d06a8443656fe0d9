#include "p2p/host/peer_store.h"

#include <algorithm>

namespace syndb::p2p {

const char* addr_source_name(AddrSource s) {
  switch (s) {
    case AddrSource::kConfig:
      return "config";
    case AddrSource::kIdentify:
      return "identify";
    case AddrSource::kMdns:
      return "mdns";
    case AddrSource::kDht:
      return "dht";
    case AddrSource::kObserved:
      return "observed";
  }
  return "?";
}

namespace {

PeerStore::Clock::time_point expiry(PeerStore::Clock::duration ttl) {
  const auto now = PeerStore::Clock::now();
  if (ttl >= PeerStore::Clock::time_point::max() - now) return PeerStore::Clock::time_point::max();
  return now + ttl;
}

}  // namespace

PeerRecord& PeerStore::touch(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    evict_if_full();
    it = peers_.emplace(peer, PeerRecord{}).first;
  }
  it->second.updated = Clock::now();
  return it->second;
}

void PeerStore::evict_if_full() {
  while (peers_.size() >= limits_.max_peers) {
    auto victim = peers_.end();
    for (auto it = peers_.begin(); it != peers_.end(); ++it) {
      if (it->second.connections > 0) continue;
      if (victim == peers_.end() || it->second.updated < victim->second.updated) victim = it;
    }
    if (victim == peers_.end()) return;  // every peer is connected: the connection limits bound them
    peers_.erase(victim);
  }
}

void PeerStore::add_addrs(const PeerId& peer, const std::vector<Multiaddr>& addrs, AddrSource source,
                          Clock::duration ttl) {
  PeerRecord& r = touch(peer);
  const auto until = expiry(ttl);
  for (const auto& a : addrs) {
    Multiaddr plain = a.without_peer_id();
    auto same = std::find_if(r.addrs.begin(), r.addrs.end(), [&](const PeerAddr& p) { return p.addr == plain; });
    if (same != r.addrs.end()) {
      same->expires = std::max(same->expires, until);
      same->source = std::min(same->source, source);  // the more trusted source wins
      continue;
    }
    if (r.addrs.size() >= limits_.max_addrs_per_peer) continue;
    r.addrs.push_back({plain, source, until});
  }
}

void PeerStore::set_addrs(const PeerId& peer, const std::vector<Multiaddr>& addrs, AddrSource source,
                          Clock::duration ttl) {
  PeerRecord& r = touch(peer);
  r.addrs.erase(std::remove_if(r.addrs.begin(), r.addrs.end(), [&](const PeerAddr& p) { return p.source == source; }),
                r.addrs.end());
  add_addrs(peer, addrs, source, ttl);
}

std::vector<Multiaddr> PeerStore::addrs(const PeerId& peer) const {
  std::vector<Multiaddr> out;
  const PeerRecord* r = find(peer);
  if (!r) return out;
  std::vector<const PeerAddr*> live;
  const auto now = Clock::now();
  for (const auto& a : r->addrs) {
    if (a.expires > now) live.push_back(&a);
  }
  std::stable_sort(live.begin(), live.end(),
                   [](const PeerAddr* a, const PeerAddr* b) { return a->source < b->source; });
  for (const auto* a : live) out.push_back(a->addr);
  return out;
}

void PeerStore::set_public_key(const PeerId& peer, const PublicKey& key) { touch(peer).public_key = key; }

void PeerStore::set_protocols(const PeerId& peer, std::vector<std::string> protocols) {
  if (protocols.size() > limits_.max_protocols_per_peer) protocols.resize(limits_.max_protocols_per_peer);
  touch(peer).protocols = std::move(protocols);
}

void PeerStore::set_agent_version(const PeerId& peer, std::string agent) {
  if (agent.size() > 256) agent.resize(256);
  touch(peer).agent_version = std::move(agent);
}

void PeerStore::record_latency(const PeerId& peer, std::chrono::microseconds rtt) {
  PeerRecord& r = touch(peer);
  if (!r.latency) {
    r.latency = rtt;
  } else {
    r.latency = std::chrono::microseconds(static_cast<int64_t>(0.1 * rtt.count() + 0.9 * r.latency->count()));
  }
}

void PeerStore::connected(const PeerId& peer) { ++touch(peer).connections; }

void PeerStore::disconnected(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.connections == 0) return;
  --it->second.connections;
  it->second.updated = Clock::now();  // the least recently seen are evicted first
}

const PeerRecord* PeerStore::find(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

bool PeerStore::supports(const PeerId& peer, std::string_view protocol) const {
  const PeerRecord* r = find(peer);
  return r && std::find(r->protocols.begin(), r->protocols.end(), protocol) != r->protocols.end();
}

void PeerStore::forget(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end() && it->second.connections == 0) peers_.erase(it);
}

}  // namespace syndb::p2p
