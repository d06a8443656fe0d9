// Multiaddr (multiformats/multiaddr; codes from multiformats/multicodec
// table.csv). Binary form: (uvarint code || value)+, where the value is raw
// for fixed-size protocols (ip4 4 B, ip6 16 B, tcp/udp 2 B big-endian port),
// uvarint(length) || bytes for variable-size ones (dns*, p2p) and absent for
// zero-size ones (quic-v1, p2p-circuit, ...). String form: "/name/value/...".
//
// Supported: ip4, ip6, tcp, udp, dns, dns4, dns6, dnsaddr, p2p ("/ipfs/" is an
// input alias; the value is a PeerId, printed in base58btc, CID accepted on
// input), p2p-circuit, quic-v1, and the value-less quic, tls, noise, ws, wss.
// A Multiaddr always holds a valid non-empty binary form, except a
// default-constructed one, which is empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "p2p/crypto/peer_id.h"

namespace syndb::p2p {

namespace multicodec {
constexpr uint64_t kIp4 = 0x04, kTcp = 0x06, kUdp = 0x0111, kIp6 = 0x29, kDns = 0x35, kDns4 = 0x36,
                   kDns6 = 0x37, kDnsaddr = 0x38, kP2p = 0x01a5, kP2pCircuit = 0x0122, kQuicV1 = 0x01cd;
// Value-less extras understood by Multiaddr.
constexpr uint64_t kQuic = 0x01cc, kTls = 0x01c0, kNoise = 0x01c6, kWs = 0x01dd, kWss = 0x01de;
// In-process transport (tests, self-dialing): /memory/<u64>.
constexpr uint64_t kMemory = 0x0309;
}  // namespace multicodec

class Multiaddr {
 public:
  // One protocol of the address. `value` is the raw value without any length
  // prefix: 4/16 address bytes, a 2-byte big-endian port, the UTF-8 name for
  // dns*, the multihash bytes for p2p, empty for value-less protocols.
  struct Component {
    uint64_t code;
    Bytes value;
    bool operator==(const Component&) const = default;
  };

  // An empty address (no components); only as a placeholder value.
  Multiaddr() = default;

  // Parses "/ip4/1.2.3.4/tcp/80/p2p/12D3KooW..."; one trailing '/' is allowed.
  // Errors: kInvalidArgument for "", a missing leading '/', an empty or unknown
  // protocol name, a missing value or a bad value (message names the part).
  static Result<Multiaddr> from_string(std::string_view text);
  // Parses the binary form; the whole buffer must be consumed. Errors:
  // kProtocol for an empty buffer, a bad varint, an unknown code, a truncated
  // or invalid value.
  static Result<Multiaddr> from_bytes(ByteSpan bytes);

  // Canonical text: ip6 per RFC 5952 (v4-mapped as ::ffff:a.b.c.d), ports in
  // decimal, p2p in base58btc. "" for an empty Multiaddr.
  std::string to_string() const;
  const Bytes& bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }
  std::vector<Component> components() const;

  // this followed by other: "/ip4/1.2.3.4/tcp/1" + "/p2p/Qm..".
  Multiaddr encapsulate(const Multiaddr& other) const;
  // The peer ID of a trailing /p2p component; nullopt when the last component
  // is not /p2p (e.g. ".../p2p/<relay>/p2p-circuit" has no peer ID).
  std::optional<PeerId> peer_id() const;
  // This address without a trailing /p2p component (unchanged if none).
  Multiaddr without_peer_id() const;

  bool operator==(const Multiaddr&) const = default;

 private:
  explicit Multiaddr(Bytes bytes) : bytes_(std::move(bytes)) {}
  Bytes bytes_;
};

}  // namespace syndb::p2p
