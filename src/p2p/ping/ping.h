// ping (/ipfs/ping/1.0.0, libp2p/specs ping/ping.md): the dialer writes 32
// random bytes, the listener echoes them; repeated on one stream until EOF.
#pragma once

#include "p2p/host/host.h"

namespace syndb::p2p {

inline constexpr std::string_view kPingProtocol = "/ipfs/ping/1.0.0";
inline constexpr size_t kPingSize = 32;

// Serves ping on `host` (echo 32-byte payloads until EOF).
void register_ping(Host& host);

// One round trip on an open ping stream; returns the RTT in µs. kProtocol
// when the echo differs from what was sent.
Task<Result<uint64_t>> ping_once(Stream& stream);

}  // namespace syndb::p2p
