// Transport: how the swarm reaches peers, chosen by multiaddr (libp2p
// "transport"): /tcp now; /udp/…/quic-v1 and /p2p-circuit register later.
// A transport's connections either arrive as raw byte streams that the
// upgrader secures and multiplexes (TCP, relayed circuits), or already
// secured and multiplexed, with the remote PeerId known (QUIC).
// Single-threaded: the io_context's thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/multiformats/multiaddr.h"
#include "p2p/muxer.h"
#include "p2p/stream.h"

namespace syndb::p2p {

// One connection as a transport delivers it: `raw` set (to be upgraded), or
// `muxed` with `peer` and `key` set (arrived upgraded).
struct TransportConnection {
  std::unique_ptr<Stream> raw;
  std::shared_ptr<MuxedConnection> muxed;
  std::optional<PeerId> peer;
  std::optional<PublicKey> key;
  Multiaddr local, remote;
  bool limited = false;  // a relayed connection: protocols must opt in to run on it
};

class Transport {
 public:
  using AcceptHandler = std::function<void(TransportConnection)>;

  virtual ~Transport() = default;
  virtual std::string_view name() const = 0;
  // Whether this transport dials and listens on `addr` (a trailing /p2p/… is allowed).
  virtual bool handles(const Multiaddr& addr) const = 0;
  // Starts accepting on `addr`; returns the bound address (port 0 → the
  // real port). Errors: kInvalidArgument (not ours), kIo (bind failed).
  virtual Result<Multiaddr> listen(const Multiaddr& addr, AcceptHandler on_accept) = 0;
  // Errors: kInvalidArgument, kIo with the OS reason.
  virtual Task<Result<TransportConnection>> dial(const Multiaddr& addr) = 0;
  // Stops every listener (open connections are the swarm's to close).
  virtual void close() = 0;
};

}  // namespace syndb::p2p
