// PeerStore: what this host knows of other peers, in one place (the libp2p
// "peerstore" of go-libp2p and rust-libp2p's swarm): per PeerId, its public
// key, its addresses with where each came from and until when it is valid,
// the protocols it speaks, its agent version and its latency. Identify, mDNS,
// the federation and (later) the DHT write here; dialers read here.
//
// Bounded, because strangers can make us learn about them: at most
// `max_peers` peers (the least recently updated peer without a live
// connection is forgotten first; peers with connections are never evicted,
// the host's connection limits bound them), `max_addrs_per_peer` addresses
// and `max_protocols_per_peer` protocol ids per peer (extra ones are
// dropped, not an error). Single-threaded: the host's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/multiformats/multiaddr.h"

namespace syndb::p2p {

// Where an address came from; also its rank when sources disagree.
enum class AddrSource { kConfig, kIdentify, kMdns, kDht, kObserved };
const char* addr_source_name(AddrSource s);

struct PeerAddr {
  Multiaddr addr;
  AddrSource source = AddrSource::kIdentify;
  std::chrono::steady_clock::time_point expires;  // time_point::max() = permanent (config)
};

struct PeerRecord {
  std::optional<PublicKey> public_key;
  std::vector<PeerAddr> addrs;
  std::vector<std::string> protocols;
  std::string agent_version;
  std::optional<std::chrono::microseconds> latency;  // EWMA of measured round trips
  int connections = 0;                               // live connections (kept by the Host)
  std::chrono::steady_clock::time_point updated;
};

struct PeerStoreLimits {
  size_t max_peers = 4096;
  size_t max_addrs_per_peer = 32;
  size_t max_protocols_per_peer = 128;
};

class PeerStore {
 public:
  using Clock = std::chrono::steady_clock;
  // TTLs of the libp2p implementations: addresses of a connected peer (from
  // identify) live while it is connected and an hour after; discovered ones
  // (mDNS, DHT) ten minutes unless seen again; config ones forever.
  static constexpr auto kConnectedTtl = std::chrono::hours(1);
  static constexpr auto kDiscoveredTtl = std::chrono::minutes(10);
  static constexpr auto kPermanent = Clock::duration::max();

  explicit PeerStore(PeerStoreLimits limits = {}) : limits_(limits) {}

  // Adds (or refreshes the TTL of) addresses of `peer`; a trailing /p2p/ is
  // stripped. A TTL of kPermanent never expires.
  void add_addrs(const PeerId& peer, const std::vector<Multiaddr>& addrs, AddrSource source, Clock::duration ttl);
  // Replaces the addresses from `source` (identify sends the full list).
  void set_addrs(const PeerId& peer, const std::vector<Multiaddr>& addrs, AddrSource source, Clock::duration ttl);
  // Unexpired addresses, best first: config, identify, mDNS, DHT, observed;
  // within a source, in the order learnt.
  std::vector<Multiaddr> addrs(const PeerId& peer) const;

  void set_public_key(const PeerId& peer, const PublicKey& key);
  void set_protocols(const PeerId& peer, std::vector<std::string> protocols);
  void set_agent_version(const PeerId& peer, std::string agent);
  // Folds one round trip into the latency estimate (EWMA, α = 0.1, as go-libp2p).
  void record_latency(const PeerId& peer, std::chrono::microseconds rtt);
  // The Host calls these as connections open and close.
  void connected(const PeerId& peer);
  void disconnected(const PeerId& peer);

  const PeerRecord* find(const PeerId& peer) const;
  bool supports(const PeerId& peer, std::string_view protocol) const;
  size_t size() const { return peers_.size(); }
  // Forgets `peer` (unless it has live connections).
  void forget(const PeerId& peer);

 private:
  PeerRecord& touch(const PeerId& peer);
  void evict_if_full();

  PeerStoreLimits limits_;
  std::unordered_map<PeerId, PeerRecord> peers_;
};

}  // namespace syndb::p2p
