#include "p2p/identify/identify.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "identify.pb.h"
#include "p2p/multiformats/varint.h"
#include "p2p/transport/interfaces.h"

namespace syndb::p2p {

Bytes encode_identify(const IdentifyInfo& info) {
  pb::Identify msg;
  msg.set_protocolversion(info.protocol_version);
  msg.set_agentversion(info.agent_version);
  if (info.public_key) {
    Bytes k = info.public_key->encode();
    msg.set_publickey(k.data(), k.size());
  }
  for (const auto& a : info.listen_addrs) msg.add_listenaddrs(a.bytes().data(), a.bytes().size());
  for (const auto& p : info.protocols) msg.add_protocols(p);
  if (info.observed_addr) msg.set_observedaddr(info.observed_addr->bytes().data(), info.observed_addr->bytes().size());
  std::string s = msg.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

Result<IdentifyInfo> decode_identify_messages(ByteSpan data) {
  IdentifyInfo info;
  size_t off = 0;
  if (data.empty()) return Error(ErrorCode::kProtocol, "identify: empty response");
  while (off < data.size()) {
    SYNDB_ASSIGN_OR_RETURN(auto len, read_uvarint(data.subspan(off)));
    off += len.second;
    if (len.first > data.size() - off) return Error(ErrorCode::kProtocol, "identify: truncated message");
    pb::Identify msg;
    if (!msg.ParseFromArray(data.data() + off, static_cast<int>(len.first))) {
      return Error(ErrorCode::kProtocol, "identify: malformed protobuf");
    }
    off += len.first;
    if (msg.has_publickey()) {
      SYNDB_ASSIGN_OR_RETURN(auto key, PublicKey::decode(as_bytes(msg.publickey())));
      info.public_key = key;
    }
    for (const auto& a : msg.listenaddrs()) {
      auto ma = Multiaddr::from_bytes(as_bytes(a));
      if (ma.ok()) info.listen_addrs.push_back(*ma);  // skip transports we do not know
      info.has_listen_addrs = true;
    }
    for (const auto& p : msg.protocols()) info.protocols.push_back(p);
    if (msg.protocols_size() > 0) info.has_protocols = true;
    if (msg.has_observedaddr()) {
      auto ma = Multiaddr::from_bytes(as_bytes(msg.observedaddr()));
      if (ma.ok()) info.observed_addr = *ma;
    }
    if (msg.has_protocolversion()) info.protocol_version = msg.protocolversion();
    if (msg.has_agentversion()) info.agent_version = msg.agentversion();
  }
  return info;
}

IdentifyService::IdentifyService(Host& host) : host_(host) {
  host_.set_stream_handler(std::string(kIdentifyProtocol), [this](NegotiatedStream ns) { return serve(ns); });
  host_.set_stream_handler(std::string(kIdentifyPushProtocol), [this](NegotiatedStream ns) { return serve_push(ns); });
  auto alive = alive_;
  host_.add_connection_listener([this, alive](const std::shared_ptr<Connection>& conn) {
    if (!*alive) return;
    asio::co_spawn(
        host_.io(),
        [this, alive, conn]() -> Task<void> {
          auto r = co_await identify(conn);
          if (*alive && !r.ok()) {
            spdlog::debug("identify {} failed: {}", conn->remote_peer.to_string(), r.error().to_string());
          }
        },
        asio::detached);
  });
  // Per-peer state lives while the peer is connected: a stranger who
  // connects from many keys leaves nothing behind here.
  host_.add_disconnection_listener([this, alive](const std::shared_ptr<Connection>& conn) {
    if (*alive && !host_.find_connection(conn->remote_peer)) peers_.erase(conn->remote_peer);
  });
}

void IdentifyService::remember(const PeerId& peer, const IdentifyInfo& info) {
  PeerStore& store = host_.peer_store();
  if (info.has_listen_addrs || !info.listen_addrs.empty()) {
    store.set_addrs(peer, info.listen_addrs, AddrSource::kIdentify, PeerStore::kConnectedTtl);
  }
  if (info.has_protocols || !info.protocols.empty()) store.set_protocols(peer, info.protocols);
  if (!info.agent_version.empty()) store.set_agent_version(peer, info.agent_version);
  if (info.observed_addr) {
    // How the peer sees us: a candidate for our own external address.
    store.add_addrs(host_.peer_id(), {*info.observed_addr}, AddrSource::kObserved, PeerStore::kDiscoveredTtl);
    host_.emit(HostEvent{HostEvent::Kind::kObservedAddr, peer, nullptr, {}, {*info.observed_addr}});
  }
}

const IdentifyInfo* IdentifyService::peer_info(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

IdentifyInfo IdentifyService::local_info(const Connection& conn) const {
  IdentifyInfo info;
  info.public_key = host_.identity().public_key();
  // Real addresses: a wildcard listen address (0.0.0.0, ::) becomes the
  // interfaces' addresses, never itself.
  for (const auto& a : host_.listen_addrs()) {
    for (auto& e : expand_unspecified(a, true)) info.listen_addrs.push_back(std::move(e));
  }
  info.protocols = host_.protocols();
  info.observed_addr = conn.remote_addr;
  info.protocol_version = std::string(kLibp2pProtocolVersion);
  info.agent_version = host_.config().agent_version;
  return info;
}

Task<void> IdentifyService::serve(NegotiatedStream ns) {
  Bytes msg = encode_identify(local_info(*ns.connection));
  if (msg.size() > kIdentifyMaxSend) spdlog::warn("identify message is {} bytes (> {})", msg.size(), kIdentifyMaxSend);
  Status st = co_await write_length_prefixed(*ns.stream, msg);
  if (st.ok()) st = co_await ns.stream->close_write();
  if (!st.ok()) ns.stream->reset();
}

Task<void> IdentifyService::serve_push(NegotiatedStream ns) {
  auto alive = alive_;
  auto data = co_await read_to_eof(*ns.stream, kIdentifyMaxReceive);
  if (!*alive) co_return;
  if (!data.ok()) {
    ns.stream->reset();
    co_return;
  }
  (void)co_await ns.stream->close_write();
  auto info = decode_identify_messages(*data);
  if (!info.ok()) {
    spdlog::debug("identify push from {}: {}", ns.connection->remote_peer.to_string(), info.error().to_string());
    co_return;
  }
  if (!host_.find_connection(ns.connection->remote_peer)) co_return;  // gone meanwhile: keep nothing
  remember(ns.connection->remote_peer, *info);
  if (info->has_protocols) {
    host_.emit(
        HostEvent{HostEvent::Kind::kProtocolsChanged, ns.connection->remote_peer, ns.connection, info->protocols, {}});
  }
  auto& known = peers_[ns.connection->remote_peer];
  if (info->has_listen_addrs) known.listen_addrs = info->listen_addrs;
  if (info->has_protocols) known.protocols = info->protocols;
  if (!info->agent_version.empty()) known.agent_version = info->agent_version;
  if (!info->protocol_version.empty()) known.protocol_version = info->protocol_version;
  for (auto& l : listeners_) l(ns.connection, known);
}

Task<Result<IdentifyInfo>> IdentifyService::identify(std::shared_ptr<Connection> conn) {
  auto alive = alive_;
  const std::vector<std::string> protos{std::string(kIdentifyProtocol)};
  // `this` is used only while *alive: the service may be destroyed at any co_await.
  SYNDB_CO_ASSIGN_OR_RETURN(auto ns, co_await host_.new_stream(conn, protos));
  if (!*alive) co_return Error(ErrorCode::kClosed, "identify service stopped");
  auto data = co_await read_to_eof(*ns.stream, kIdentifyMaxReceive);
  if (!data.ok()) {
    ns.stream->reset();
    co_return data.error().wrap("identify");
  }
  (void)co_await ns.stream->close_write();
  SYNDB_CO_ASSIGN_OR_RETURN(auto info, decode_identify_messages(*data));
  if (info.public_key && !(PeerId::from_public_key(*info.public_key) == conn->remote_peer)) {
    co_return Error(ErrorCode::kProtocol, "identify: public key does not match the connection's peer id");
  }
  if (*alive && !conn->closed()) {
    remember(conn->remote_peer, info);
    peers_[conn->remote_peer] = info;
    host_.emit(HostEvent{HostEvent::Kind::kIdentified, conn->remote_peer, conn, info.protocols, info.listen_addrs});
    for (auto& l : listeners_) l(conn, info);
  }
  co_return info;
}

void IdentifyService::push_all() {
  auto alive = alive_;
  for (auto& conn : host_.connections()) {
    asio::co_spawn(
        host_.io(),
        [this, conn, alive]() -> Task<void> {
          const std::vector<std::string> protos{std::string(kIdentifyPushProtocol)};
          auto ns = co_await host_.new_stream(conn, protos);
          if (!ns.ok() || !*alive) co_return;
          const Bytes msg = encode_identify(local_info(*conn));
          Status st = co_await write_length_prefixed(*ns->stream, msg);
          if (st.ok()) (void)co_await ns->stream->close_write();
        },
        asio::detached);
  }
}

Task<const IdentifyInfo*> IdentifyService::wait_for(const PeerId& peer, uint32_t timeout_ms) {
  asio::steady_timer timer(host_.io());
  for (uint32_t waited = 0; waited <= timeout_ms; waited += 10) {
    if (auto* info = peer_info(peer)) co_return info;
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return nullptr;
}

}  // namespace syndb::p2p
