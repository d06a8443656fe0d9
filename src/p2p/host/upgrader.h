// Upgrader: turns a transport's raw byte stream into a secured connection
// with a negotiated stream multiplexer (libp2p connections/README.md):
// multistream-select → Noise XX → multistream-select → the muxer protocol.
// Each role is set on its own (UpgradeRoles), because a hole-punched or
// simultaneously opened connection may pick roles that differ from "who
// dialled" (libp2p connections/hole-punching.md, DCUtR): the
// multistream-select initiator proposes, the Noise initiator sends the first
// message, the Yamux client opens odd-numbered streams.
#pragma once

#include <optional>
#include <string>

#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/stream.h"

namespace boost::asio {
class io_context;
}

namespace syndb::p2p {

struct UpgradeRoles {
  bool mss_initiator = true;
  bool noise_initiator = true;
  bool yamux_client = true;
  static UpgradeRoles dialer() { return {true, true, true}; }
  static UpgradeRoles listener() { return {false, false, false}; }
};

// A secured connection whose muxer protocol is agreed, not yet started.
struct SecuredConnection {
  std::unique_ptr<Stream> stream;  // the Noise channel
  PeerId peer;
  PublicKey key;
  std::string muxer;  // negotiated protocol id, e.g. /yamux/1.0.0
  bool muxer_client = true;
};

// Runs the upgrade within timeout_ms. `expected`: the PeerId the dialler
// meant to reach (the Noise handshake fails with kPermissionDenied if
// another key answers). Errors: kTimeout ("handshake with <remote> timed
// out"), kProtocol / kUnsupported from the peer, kIo.
Task<Result<SecuredConnection>> upgrade_connection(boost::asio::io_context& io, std::unique_ptr<Stream> raw,
                                                   const std::string& remote, const Ed25519PrivateKey& identity,
                                                   UpgradeRoles roles, std::optional<PeerId> expected,
                                                   uint32_t timeout_ms);

}  // namespace syndb::p2p
