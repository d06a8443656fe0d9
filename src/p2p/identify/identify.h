// identify (/ipfs/id/1.0.0) and identify push (/ipfs/id/push/1.0.0),
// libp2p/specs identify/README.md. On every new connection we ask the peer
// for its Identify message and keep the result per PeerId; we answer the
// same question with our key, listen addresses (a wildcard listen address
// expanded to the interfaces' addresses), protocols and the address we
// observe the peer at. What a peer tells us goes to the host's PeerStore
// (addresses, protocols, agent; the address it observes us at as our own
// kObserved candidate) and to peer_info(), which forgets the peer when its
// last connection closes.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "p2p/host/host.h"

namespace syndb::p2p {

inline constexpr std::string_view kIdentifyProtocol = "/ipfs/id/1.0.0";
inline constexpr std::string_view kIdentifyPushProtocol = "/ipfs/id/push/1.0.0";
inline constexpr std::string_view kLibp2pProtocolVersion = "ipfs/0.1.0";
inline constexpr size_t kIdentifyMaxSend = 4096;     // bytes (rust's receive limit)
inline constexpr size_t kIdentifyMaxReceive = 8192;  // bytes (go/js limit)

struct IdentifyInfo {
  std::optional<PublicKey> public_key;
  std::vector<Multiaddr> listen_addrs;
  std::vector<std::string> protocols;
  std::optional<Multiaddr> observed_addr;
  std::string protocol_version;
  std::string agent_version;
  bool has_listen_addrs = false, has_protocols = false;  // push: absent fields mean "unchanged"
};

// Encodes one Identify protobuf. Decodes the concatenation of one or more
// length-prefixed Identify messages (go may split them), merging fields;
// kProtocol on malformed protobuf or a bad multiaddr or key.
Bytes encode_identify(const IdentifyInfo& info);
Result<IdentifyInfo> decode_identify_messages(ByteSpan data);

class IdentifyService {
 public:
  // Registers both handlers on `host` and identifies every new connection.
  explicit IdentifyService(Host& host);
  // What we know of `peer`, if identify with it completed.
  const IdentifyInfo* peer_info(const PeerId& peer) const;
  // Asks the peer on `conn` (done automatically for each new connection).
  Task<Result<IdentifyInfo>> identify(std::shared_ptr<Connection> conn);
  // Sends our current Identify to every connected peer (after our protocols or addresses changed).
  void push_all();
  // Called whenever identify with a peer completes (on each new connection and on push).
  using IdentifiedListener = std::function<void(const std::shared_ptr<Connection>&, const IdentifyInfo&)>;
  void on_identified(IdentifiedListener listener) { listeners_.push_back(std::move(listener)); }
  // Waits (polling the peer table, bounded by timeout_ms) until `peer` is identified.
  Task<const IdentifyInfo*> wait_for(const PeerId& peer, uint32_t timeout_ms);

 private:
  IdentifyInfo local_info(const Connection& conn) const;
  // Writes what identify learnt into the host's PeerStore.
  void remember(const PeerId& peer, const IdentifyInfo& info);
  Task<void> serve(NegotiatedStream ns);
  Task<void> serve_push(NegotiatedStream ns);

  Host& host_;
  std::unordered_map<PeerId, IdentifyInfo> peers_;
  std::vector<IdentifiedListener> listeners_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
 public:
  ~IdentifyService() { *alive_ = false; }
};

}  // namespace syndb::p2p
