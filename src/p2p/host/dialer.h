// Dial ranking (libp2p's "happy eyeballs" for multiaddrs, as go-libp2p's
// swarm does it): which of a peer's addresses to try first.
#pragma once

#include <vector>

#include "p2p/multiformats/multiaddr.h"

namespace syndb::p2p {

// 0: a direct address on a public IP or a DNS name; 1: a direct address on a
// private, loopback or link-local IP; 2: a relayed address (/p2p-circuit).
int dial_rank(const Multiaddr& addr);
// `addrs` sorted by dial_rank (stable: equal ranks keep their order),
// duplicates removed.
std::vector<Multiaddr> rank_addrs(std::vector<Multiaddr> addrs);

}  // namespace syndb::p2p
