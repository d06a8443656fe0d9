// Host: the swarm. It owns a node's libp2p connections: it listens and dials
// through Transports chosen by multiaddr (TCP built in; add_transport() for
// QUIC, relayed circuits), upgrades raw connections (upgrader.h:
// multistream-select → Noise → multistream-select → Yamux, roles set one by
// one), keeps every connection as a MuxedConnection (p2p/muxer.h), reuses
// one connection per peer, reports connections and disconnections, keeps the
// PeerStore, and dispatches inbound streams to handlers by protocol id.
//
// Limits (HostConfig, p2p/rcmgr) bound what a peer can make us hold: inbound
// handshakes in progress, connections and memory per peer class — members
// (set_peer_classifier) and protected peers draw on budgets strangers cannot
// spend — and a connection manager that prunes idle, unprotected connections
// (strangers first, oldest first) above a high watermark. A peer that breaks
// a protocol loses that stream or connection, never the process.
// Single-threaded: all calls from the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <set>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/host/peer_store.h"
#include "p2p/host/upgrader.h"
#include "p2p/muxer.h"
#include "p2p/transport/transport.h"
#include "p2p/rcmgr/resource_manager.h"
#include "p2p/multiformats/multiaddr.h"
#include "p2p/stream.h"
#include "p2p/yamux/session.h"

namespace syndb::p2p {

// Connection manager watermarks: above high_water connections, idle
// unprotected ones older than grace_ms are closed until low_water remain.
struct ConnManagerConfig {
  size_t low_water = 800;
  size_t high_water = 960;
  uint32_t grace_ms = 10'000;
};

struct HostConfig {
  uint32_t handshake_timeout_ms = 10'000;   // TCP accept → Yamux ready, and per-stream negotiation
  size_t concurrent_dials = 3;              // dial_peer: addresses in flight at once
  uint32_t dial_stagger_ms = 250;           // dial_peer: delay before the next address
  size_t max_connections_per_peer = 4;
  PeerStoreLimits peer_store;
  ResourceLimits limits;
  ConnManagerConfig conn_manager;
  std::string agent_version = "syndb/0.1.0";
  yamux::Config yamux;
};

// One upgraded connection to a peer.
struct Connection {
  PeerId remote_peer;
  PublicKey remote_key;
  Multiaddr local_addr, remote_addr;
  bool outbound = false;  // direction: we dialled
  bool limited = false;   // relayed: only protocols that allow it may run
  std::shared_ptr<MuxedConnection> muxer;
  bool closed() const { return muxer->closed(); }
  void close() { muxer->close(); }
  PeerClass peer_class = PeerClass::kMember;
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
};

// A negotiated stream: the protocol id both sides agreed on, and the connection it runs on.
struct NegotiatedStream {
  std::shared_ptr<Stream> stream;
  std::string protocol;
  std::shared_ptr<Connection> connection;
};

// What the swarm reports (the event bus of go-libp2p / rust-libp2p's SwarmEvent).
struct HostEvent {
  enum class Kind {
    kConnected,          // conn: a new upgraded connection
    kDisconnected,       // conn: it closed and left connections()
    kIdentified,         // peer, protocols, addrs: identify with the peer completed
    kProtocolsChanged,   // peer, protocols: the peer pushed a new protocol list
    kLocalAddrsChanged,  // addrs: our listen addresses now
    kObservedAddr,       // peer, addrs[0]: the address that peer sees us at
  };
  Kind kind;
  PeerId peer;
  std::shared_ptr<struct Connection> conn;
  std::vector<std::string> protocols;
  std::vector<Multiaddr> addrs;
};
const char* host_event_name(HostEvent::Kind kind);

class Host {
 public:
  using StreamHandler = std::function<Task<void>(NegotiatedStream)>;
  using ConnectionListener = std::function<void(const std::shared_ptr<Connection>&)>;

  Host(asio::io_context& io, Ed25519PrivateKey identity, HostConfig config = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const PeerId& peer_id() const { return peer_id_; }
  const Ed25519PrivateKey& identity() const { return identity_; }
  const HostConfig& config() const { return config_; }
  asio::io_context& io() { return io_; }

  // Adds a transport; addresses go to the first transport (in order added,
  // TCP first) that handles them.
  void add_transport(std::unique_ptr<Transport> transport);
  // Starts accepting on `addr` through the transport that handles it (TCP:
  // /ip4|ip6/<addr>/tcp/<port>, port 0 picks a free one). Returns the bound
  // address with the real port. kInvalidArgument when no transport handles
  // it, kIo when the bind fails.
  Result<Multiaddr> listen(const Multiaddr& addr);
  // Bound addresses with their real ports, in listen() order.
  std::vector<Multiaddr> listen_addrs() const;

  void set_stream_handler(const std::string& protocol, StreamHandler handler);
  std::vector<std::string> protocols() const;
  // Called for every new upgraded connection, inbound and outbound.
  void add_connection_listener(ConnectionListener listener) { conn_listeners_.push_back(std::move(listener)); }
  // Called when an upgraded connection closes (either side, or an error),
  // after it left connections(); not called for the connections close() ends.
  void add_disconnection_listener(ConnectionListener listener) { disconn_listeners_.push_back(std::move(listener)); }
  // Which peers are federation members (their own connection and memory
  // budgets); everyone when unset. Protected peers count as members.
  void set_peer_classifier(std::function<bool(const PeerId&)> is_member) { is_member_ = std::move(is_member); }
  PeerClass classify(const PeerId& peer) const;
  // Protected peers (hubs, relays: `tag` says why) are never pruned.
  void protect(const PeerId& peer, const std::string& tag) { protected_[peer].insert(tag); }
  void unprotect(const PeerId& peer, const std::string& tag);
  bool is_protected(const PeerId& peer) const { return protected_.count(peer) > 0; }
  ResourceManager& resource_manager() { return rcmgr_; }
  const ResourceManager& resource_manager() const { return rcmgr_; }
  // Every HostEvent, in order, on the io_context thread; listeners must not block.
  void subscribe(std::function<void(const HostEvent&)> listener) { subscribers_.push_back(std::move(listener)); }
  // Reports an event (the host's own, and those of its protocols: identify).
  void emit(const HostEvent& event);
  // What this host knows of other peers (keys, addresses, protocols, latency).
  PeerStore& peer_store() { return peer_store_; }
  const PeerStore& peer_store() const { return peer_store_; }

  // Returns a live connection to the peer in addr's /p2p/ (if any), else
  // dials addr. A /p2p/ that does not match the reached key: kPermissionDenied.
  Task<Result<std::shared_ptr<Connection>>> connect(const Multiaddr& addr);
  // Opens a stream on `conn` and negotiates one of `protocols` within
  // timeout_ms (0 = HostConfig::handshake_timeout_ms).
  Task<Result<NegotiatedStream>> new_stream(std::shared_ptr<Connection> conn,
                                            const std::vector<std::string>& protocols, uint32_t timeout_ms = 0);
  Task<Result<NegotiatedStream>> new_stream(const Multiaddr& addr, const std::vector<std::string>& protocols);

  // Connects to `peer` (reusing a live connection): its addresses — `addrs`,
  // or the PeerStore's when empty — ranked by dial_rank (dialer.h), dialled
  // up to HostConfig::concurrent_dials at a time, each dial_stagger_ms after
  // the previous unless it already failed; the first connection wins and
  // connections that complete later are closed. Errors: kNotFound (no
  // address), the last dial error when every address failed.
  Task<Result<std::shared_ptr<Connection>>> dial_peer(const PeerId& peer, std::vector<Multiaddr> addrs = {});

  std::vector<std::shared_ptr<Connection>> connections() const;
  // A live connection to `peer`, if there is one (no dialing).
  std::shared_ptr<Connection> find_connection(const PeerId& peer) const;
  // Stops listening and closes every connection (GoAway).
  void close();

 private:
  Transport* transport_for(const Multiaddr& addr) const;
  struct HandshakeSlot {
    Stream* raw;
    bool aborted = false;
  };
  Task<void> upgrade_inbound(TransportConnection c, std::shared_ptr<bool> alive);
  // Makes room for one more inbound handshake: aborts the oldest when full.
  void reserve_handshake();
  // Admits an upgraded connection of `cls`; for a stranger at its limit,
  // closes the oldest idle stranger connection first. False: refused.
  bool admit(PeerClass cls, bool outbound);
  void prune();
  struct DialRace;
  Task<void> dial_attempt(std::shared_ptr<DialRace> race, Multiaddr addr);
  Task<Result<std::shared_ptr<Connection>>> upgrade(TransportConnection c, UpgradeRoles roles, bool outbound,
                                                    std::optional<PeerId> expected);
  void add_connection(const std::shared_ptr<Connection>& conn);
  void remove_connection(const std::shared_ptr<Connection>& conn);
  Task<void> handle_inbound(std::shared_ptr<Connection> conn, std::shared_ptr<Stream> stream);

  asio::io_context& io_;
  Ed25519PrivateKey identity_;
  PeerId peer_id_;
  HostConfig config_;
  std::vector<std::unique_ptr<Transport>> transports_;
  std::vector<Multiaddr> listen_addrs_;
  std::map<std::string, StreamHandler> handlers_;
  std::unordered_map<PeerId, std::vector<std::shared_ptr<Connection>>> conns_;
  std::vector<ConnectionListener> conn_listeners_, disconn_listeners_;
  std::vector<std::function<void(const HostEvent&)>> subscribers_;
  PeerStore peer_store_;
  ResourceManager rcmgr_;
  std::function<bool(const PeerId&)> is_member_;
  std::unordered_map<PeerId, std::set<std::string>> protected_;
  std::list<std::shared_ptr<HandshakeSlot>> handshakes_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_;
};

}  // namespace syndb::p2p
