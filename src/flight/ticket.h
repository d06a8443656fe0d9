// Fragment tickets: the only way to read data from a node's Flight service.
//
// A node mints a ticket in answer to GetFlightEndpoint over the libp2p
// control plane (docs/federation-protocol.md), after it has checked the
// requester and the fragment SQL. The ticket is
//   <claims JSON>.<hex Ed25519 signature by the node's identity key>
// with claims {"sql", "dataset", "peer" (the requester's PeerId), "node"
// (the minting node's PeerId), "exp" (Unix ms)}. It is bound to the
// requester: with DoGet the client also sends its PeerId and a signature
// of the ticket by that peer's key (proof of possession), in the gRPC
// metadata keys kPeerIdHeader and kProofHeader.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"

namespace syndb::flight {

inline constexpr const char* kPeerIdHeader = "x-syndb-peer-id";
inline constexpr const char* kProofHeader = "x-syndb-ticket-proof";

struct FragmentTicket {
  std::string sql;      // the fragment to run (one SELECT)
  std::string dataset;  // informational: the dataset(s) it reads
  std::string peer;     // PeerId allowed to redeem it
  std::string node;     // PeerId of the node that minted it
  int64_t expires_unix_ms = 0;
};

// Signs `t` with the node's identity key; returns the ticket bytes.
std::string mint_ticket(const FragmentTicket& t, const p2p::Ed25519PrivateKey& node_key);

// Checks a ticket presented to node `node` at time `now_unix_ms`: signature
// by `node`'s key, minted for `node`, not expired, and redeemed by its peer
// (`peer_id`, `proof_hex` from the request metadata). Errors:
// kPermissionDenied naming the failed check (malformed, bad signature,
// other node, expired, missing or wrong proof).
Result<FragmentTicket> verify_ticket(const std::string& ticket, const p2p::PeerId& node, int64_t now_unix_ms,
                                     const std::string& peer_id, const std::string& proof_hex);

// The proof of possession a client sends with `ticket`: hex Ed25519 signature
// of "syndb-flight-ticket:" + ticket by the requester's identity key.
std::string ticket_proof(const std::string& ticket, const p2p::Ed25519PrivateKey& peer_key);

}  // namespace syndb::flight
