#include "p2p/host/host.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "p2p/event.h"
#include "p2p/host/dialer.h"
#include "p2p/mss/multistream.h"
#include "p2p/transport/tcp.h"
#include "p2p/watchdog.h"
#include "p2p/yamux/muxer.h"

namespace syndb::p2p {

namespace {

Error timeout_or(const Watchdog& wd, const Error& e, const std::string& what) {
  if (wd.fired()) return Error(ErrorCode::kTimeout, what + " timed out");
  return e;
}
}  // namespace

Host::Host(asio::io_context& io, Ed25519PrivateKey identity, HostConfig config)
    : io_(io), identity_(std::move(identity)), peer_id_(PeerId::from_public_key(identity_.public_key())),
      config_(std::move(config)), peer_store_(config_.peer_store), rcmgr_(config_.limits),
      alive_(std::make_shared<bool>(true)) {
  transports_.push_back(std::make_unique<TcpTransport>(io_));
}

Host::~Host() {
  *alive_ = false;
  close();
}

const char* host_event_name(HostEvent::Kind kind) {
  switch (kind) {
    case HostEvent::Kind::kConnected:
      return "connected";
    case HostEvent::Kind::kDisconnected:
      return "disconnected";
    case HostEvent::Kind::kIdentified:
      return "identified";
    case HostEvent::Kind::kProtocolsChanged:
      return "protocols changed";
    case HostEvent::Kind::kLocalAddrsChanged:
      return "local addresses changed";
    case HostEvent::Kind::kObservedAddr:
      return "observed address";
  }
  return "?";
}

void Host::emit(const HostEvent& event) {
  auto subscribers = subscribers_;  // a listener may subscribe more
  for (auto& l : subscribers) l(event);
}

void Host::add_transport(std::unique_ptr<Transport> transport) { transports_.push_back(std::move(transport)); }

Transport* Host::transport_for(const Multiaddr& addr) const {
  for (const auto& t : transports_) {
    if (t->handles(addr)) return t.get();
  }
  return nullptr;
}

Result<Multiaddr> Host::listen(const Multiaddr& addr) {
  Transport* t = transport_for(addr);
  if (!t) return Error(ErrorCode::kInvalidArgument, "no transport listens on " + addr.to_string());
  auto alive = alive_;
  SYNDB_ASSIGN_OR_RETURN(Multiaddr bound, t->listen(addr, [this, alive](TransportConnection c) {
    if (!*alive || closed_) return;
    // (A plain coroutine, not a lambda with init-captures: GCC 12 mishandles those.)
    asio::co_spawn(io_, upgrade_inbound(std::move(c), alive), asio::detached);
  }));
  listen_addrs_.push_back(bound);
  emit(HostEvent{HostEvent::Kind::kLocalAddrsChanged, peer_id_, nullptr, {}, listen_addrs_});
  return bound;
}

std::vector<Multiaddr> Host::listen_addrs() const { return listen_addrs_; }

void Host::set_stream_handler(const std::string& protocol, StreamHandler handler) {
  handlers_[protocol] = std::move(handler);
}

std::vector<std::string> Host::protocols() const {
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) out.push_back(p);
  return out;
}

void Host::reserve_handshake() {
  if (handshakes_.size() < config_.limits.handshakes || handshakes_.empty()) return;
  // The oldest is most likely stalled: a live handshake takes milliseconds.
  auto victim = handshakes_.front();
  handshakes_.pop_front();
  victim->aborted = true;
  rcmgr_.handshake_finished();
  rcmgr_.handshake_aborted();
  victim->raw->reset();  // its upgrade fails at the next read
}

Task<void> Host::upgrade_inbound(TransportConnection c, std::shared_ptr<bool> alive) {
  std::string from = c.remote.to_string();
  std::shared_ptr<HandshakeSlot> slot;
  if (c.raw) {  // a handshake to run: bounded
    reserve_handshake();
    slot = std::make_shared<HandshakeSlot>(HandshakeSlot{c.raw.get()});
    handshakes_.push_back(slot);
    rcmgr_.handshake_started();
  }
  std::optional<PeerId> anyone;
  auto conn = co_await upgrade(std::move(c), UpgradeRoles::listener(), false, anyone);
  if (!*alive) co_return;
  if (slot && !slot->aborted) {
    handshakes_.remove(slot);
    rcmgr_.handshake_finished();
  }
  // debug, not info: a stranger could otherwise fill the log.
  if (!conn.ok()) spdlog::debug("inbound connection from {} failed: {}", from, conn.error().to_string());
}

PeerClass Host::classify(const PeerId& peer) const {
  if (!is_member_ || is_protected(peer) || is_member_(peer)) return PeerClass::kMember;
  return PeerClass::kStranger;
}

void Host::unprotect(const PeerId& peer, const std::string& tag) {
  auto it = protected_.find(peer);
  if (it == protected_.end()) return;
  it->second.erase(tag);
  if (it->second.empty()) protected_.erase(it);
}

bool Host::admit(PeerClass cls, bool outbound) {
  if (outbound) {  // we chose to dial: counted, never refused
    rcmgr_.force_connection(cls);
    return true;
  }
  if (rcmgr_.admit_connection(cls)) return true;
  if (cls != PeerClass::kStranger) return false;
  std::shared_ptr<Connection> oldest;
  for (const auto& [peer, v] : conns_) {
    for (const auto& c : v) {
      if (c->peer_class != PeerClass::kStranger || c->muxer->stream_count() > 0 || is_protected(c->remote_peer))
        continue;
      if (!oldest || c->opened < oldest->opened) oldest = c;
    }
  }
  if (!oldest) return false;
  spdlog::debug("strangers at their connection limit: closing idle {}", oldest->remote_peer.to_string());
  oldest->muxer->close();
  remove_connection(oldest);
  return rcmgr_.admit_connection(cls);
}

void Host::prune() {
  size_t total = 0;
  for (const auto& [peer, v] : conns_) total += v.size();
  if (total <= config_.conn_manager.high_water) return;
  const auto cutoff = std::chrono::steady_clock::now() - std::chrono::milliseconds(config_.conn_manager.grace_ms);
  std::vector<std::shared_ptr<Connection>> idle;
  for (const auto& [peer, v] : conns_) {
    for (const auto& c : v) {
      if (c->muxer->stream_count() == 0 && c->opened < cutoff && !is_protected(c->remote_peer)) idle.push_back(c);
    }
  }
  std::sort(idle.begin(), idle.end(), [](const auto& a, const auto& b) {
    if (a->peer_class != b->peer_class) return a->peer_class == PeerClass::kStranger;  // strangers first
    return a->opened < b->opened;                                                      // then the oldest
  });
  for (const auto& c : idle) {
    if (total <= config_.conn_manager.low_water) break;
    spdlog::debug("connection manager: pruning idle connection to {}", c->remote_peer.to_string());
    c->muxer->close();
    remove_connection(c);
    --total;
  }
}

Task<Result<std::shared_ptr<Connection>>> Host::upgrade(TransportConnection c, UpgradeRoles roles, bool outbound,
                                                        std::optional<PeerId> expected) {
  auto conn = std::make_shared<Connection>();
  conn->local_addr = c.local;
  conn->remote_addr = c.remote;
  conn->outbound = outbound;
  conn->limited = c.limited;
  std::unique_ptr<Stream> secured;
  bool yamux_client = roles.yamux_client;
  if (c.raw) {
    auto up = co_await upgrade_connection(io_, std::move(c.raw), c.remote.to_string(), identity_, roles, expected,
                                          config_.handshake_timeout_ms);
    if (!up.ok()) co_return up.error();
    conn->remote_peer = up->peer;
    conn->remote_key = up->key;
    yamux_client = up->muxer_client;
    secured = std::move(up->stream);
  } else if (c.muxed && c.peer && c.key) {
    conn->remote_peer = *c.peer;
    conn->remote_key = *c.key;
    conn->muxer = std::move(c.muxed);
  } else {
    co_return Error(ErrorCode::kInternal, "transport delivered neither a raw nor an upgraded connection");
  }
  if (conn->remote_peer == peer_id_) co_return Error(ErrorCode::kPermissionDenied, "connection to self");
  auto existing = conns_.find(conn->remote_peer);  // (no entry is made for a peer we refuse)
  if (existing != conns_.end() && existing->second.size() >= config_.max_connections_per_peer) {
    co_return Error(ErrorCode::kLimitExceeded, "peer " + conn->remote_peer.to_string() + " already has " +
                                                   std::to_string(existing->second.size()) + " connections");
  }
  conn->peer_class = classify(conn->remote_peer);
  if (!admit(conn->peer_class, outbound)) {
    co_return Error(ErrorCode::kLimitExceeded, std::string(peer_class_name(conn->peer_class)) +
                                                   " connections are at their limit (" +
                                                   std::to_string(rcmgr_.limits(conn->peer_class).connections) + ")");
  }
  if (!conn->muxer) {
    const ClassLimits& limits = rcmgr_.limits(conn->peer_class);
    yamux::Config ycfg = config_.yamux;
    ycfg.max_streams = std::min(ycfg.max_streams, limits.streams_per_connection);
    ycfg.max_write_queue = std::min(ycfg.max_write_queue, limits.write_queue_per_connection);
    conn->muxer = std::make_shared<yamux::YamuxMuxer>(std::move(secured), yamux_client, ycfg, io_.get_executor(),
                                                      rcmgr_.connection_budget(conn->peer_class));
  }
  add_connection(conn);
  co_return conn;
}

void Host::add_connection(const std::shared_ptr<Connection>& conn) {
  conns_[conn->remote_peer].push_back(conn);
  std::weak_ptr<Connection> weak = conn;
  auto alive = alive_;
  conn->muxer->start(
      [this, weak, alive](std::shared_ptr<Stream> stream) {
        auto c = weak.lock();
        if (!c || !*alive) return;
        asio::co_spawn(io_, handle_inbound(c, std::move(stream)), asio::detached);
      },
      [this, weak, alive](const Error& why) {
        if (!*alive) return;
        if (auto c = weak.lock()) {
          spdlog::debug("connection to {} closed: {}", c->remote_peer.to_string(), why.to_string());
          remove_connection(c);
        }
      });
  peer_store_.connected(conn->remote_peer);
  peer_store_.set_public_key(conn->remote_peer, conn->remote_key);
  spdlog::debug("connected to {} at {} ({})", conn->remote_peer.to_string(), conn->remote_addr.to_string(),
                conn->outbound ? "outbound" : "inbound");
  for (auto& l : conn_listeners_) l(conn);
  emit(HostEvent{HostEvent::Kind::kConnected, conn->remote_peer, conn, {}, {}});
  prune();
}

void Host::remove_connection(const std::shared_ptr<Connection>& conn) {
  auto it = conns_.find(conn->remote_peer);
  if (it == conns_.end()) return;
  auto& v = it->second;
  auto found = std::find(v.begin(), v.end(), conn);
  if (found == v.end()) return;
  v.erase(found);
  rcmgr_.connection_closed(conn->peer_class);
  if (v.empty()) conns_.erase(it);
  peer_store_.disconnected(conn->remote_peer);
  auto listeners = disconn_listeners_;  // a listener may add listeners
  for (auto& l : listeners) l(conn);
  emit(HostEvent{HostEvent::Kind::kDisconnected, conn->remote_peer, conn, {}, {}});
}

Task<void> Host::handle_inbound(std::shared_ptr<Connection> conn, std::shared_ptr<Stream> stream) {
  auto alive = alive_;
  Watchdog wd(io_, config_.handshake_timeout_ms, stream.get());
  auto supported = [this](std::string_view p) { return handlers_.count(std::string(p)) > 0; };
  auto proto = co_await mss_handle(*stream, supported, protocols());
  wd.disarm();
  if (!*alive) co_return;
  if (!proto.ok()) {
    spdlog::debug("stream negotiation with {} failed: {}", conn->remote_peer.to_string(), proto.error().to_string());
    stream->reset();
    co_return;
  }
  auto it = handlers_.find(*proto);
  if (it == handlers_.end()) {
    stream->reset();
    co_return;
  }
  StreamHandler handler = it->second;  // copy: the handler may outlive a re-registration
  NegotiatedStream ns{stream, *proto, conn};
  co_await handler(std::move(ns));
}

Task<Result<std::shared_ptr<Connection>>> Host::connect(const Multiaddr& addr) {
  auto expected = addr.peer_id();
  if (expected) {
    if (auto c = find_connection(*expected)) co_return c;
    if (*expected == peer_id_) co_return Error(ErrorCode::kInvalidArgument, "cannot dial self");
  }
  Transport* t = transport_for(addr);
  if (!t) co_return Error(ErrorCode::kInvalidArgument, "no transport dials " + addr.to_string());
  SYNDB_CO_ASSIGN_OR_RETURN(auto raw, co_await t->dial(addr));
  auto conn = co_await upgrade(std::move(raw), UpgradeRoles::dialer(), true, expected);
  if (!conn.ok()) co_return conn.error().wrap("dial " + addr.to_string());
  co_return conn;
}

Task<Result<NegotiatedStream>> Host::new_stream(std::shared_ptr<Connection> conn,
                                                const std::vector<std::string>& protocols, uint32_t timeout_ms) {
  SYNDB_CO_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, conn->muxer->open_stream());
  Watchdog wd(io_, timeout_ms ? timeout_ms : config_.handshake_timeout_ms, stream.get());
  auto proto = co_await mss_select(*stream, protocols);
  wd.disarm();
  if (!proto.ok()) {
    stream->reset();
    co_return timeout_or(wd, proto.error(), "protocol negotiation");
  }
  co_return NegotiatedStream{stream, *proto, conn};
}

struct Host::DialRace {
  explicit DialRace(const asio::any_io_executor& ex) : changed(ex) {}
  Event changed;
  std::shared_ptr<Connection> winner;
  size_t in_flight = 0;
  std::optional<Error> last_error;
};

Task<void> Host::dial_attempt(std::shared_ptr<DialRace> race, Multiaddr addr) {
  auto alive = alive_;
  auto c = co_await connect(addr);
  if (!*alive) co_return;
  --race->in_flight;
  if (c.ok()) {
    if (!race->winner) {
      race->winner = *c;
    } else if (*c != race->winner) {
      (*c)->close();  // lost the race
    }
  } else {
    race->last_error = c.error();
  }
  race->changed.notify_all();
}

Task<Result<std::shared_ptr<Connection>>> Host::dial_peer(const PeerId& peer, std::vector<Multiaddr> addrs) {
  if (auto c = find_connection(peer)) co_return c;
  if (peer == peer_id_) co_return Error(ErrorCode::kInvalidArgument, "cannot dial self");
  if (addrs.empty()) addrs = peer_store_.addrs(peer);
  for (auto& a : addrs) a = a.without_peer_id();
  addrs = rank_addrs(std::move(addrs));
  if (addrs.empty()) co_return Error(ErrorCode::kNotFound, "no known address for " + peer.to_string());
  const Multiaddr p2p = *Multiaddr::from_string("/p2p/" + peer.to_string());
  auto race = std::make_shared<DialRace>(io_.get_executor());
  auto alive = alive_;
  asio::steady_timer stagger(io_);
  for (size_t i = 0; i < addrs.size() && !race->winner; ++i) {
    while (race->in_flight >= std::max<size_t>(config_.concurrent_dials, 1) && !race->winner) {
      co_await race->changed.wait();
      if (!*alive) co_return Error(ErrorCode::kClosed, "host closed");
    }
    if (race->winner) break;
    ++race->in_flight;
    asio::co_spawn(io_, dial_attempt(race, addrs[i].encapsulate(p2p)), asio::detached);
    if (i + 1 == addrs.size()) break;
    // The next address after the stagger, or at once when this one fails.
    stagger.expires_after(std::chrono::milliseconds(config_.dial_stagger_ms));
    stagger.async_wait([race](const boost::system::error_code& ec) {
      if (!ec) race->changed.notify_all();
    });
    const size_t before = race->in_flight;
    while (race->in_flight == before && !race->winner && stagger.expiry() > std::chrono::steady_clock::now()) {
      co_await race->changed.wait();
      if (!*alive) co_return Error(ErrorCode::kClosed, "host closed");
    }
    stagger.cancel();
  }
  while (!race->winner && race->in_flight > 0) {
    co_await race->changed.wait();
    if (!*alive) co_return Error(ErrorCode::kClosed, "host closed");
  }
  if (race->winner) co_return race->winner;
  co_return race->last_error.value_or(Error(ErrorCode::kIo, "every address of " + peer.to_string() + " failed"));
}

Task<Result<NegotiatedStream>> Host::new_stream(const Multiaddr& addr, const std::vector<std::string>& protocols) {
  SYNDB_CO_ASSIGN_OR_RETURN(auto conn, co_await connect(addr));
  co_return co_await new_stream(conn, protocols);
}

std::shared_ptr<Connection> Host::find_connection(const PeerId& peer) const {
  auto it = conns_.find(peer);
  if (it == conns_.end()) return nullptr;
  for (const auto& c : it->second) {
    if (!c->muxer->closed()) return c;
  }
  return nullptr;
}

std::vector<std::shared_ptr<Connection>> Host::connections() const {
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [peer, v] : conns_) out.insert(out.end(), v.begin(), v.end());
  return out;
}

void Host::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& t : transports_) t->close();
  auto conns = connections();
  for (auto& c : conns) c->muxer->close();
  conns_.clear();
}

}  // namespace syndb::p2p
