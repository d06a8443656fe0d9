// mDNS peer discovery (libp2p/specs discovery/mdns.md, RFC 6762/6763), as
// go-, js- and rust-libp2p implement it:
//
//   query     question  <service> PTR                       (service = "_p2p._udp.local")
//   response  answer    <service> PTR <peer-name>.<service>
//             additional <peer-name>.<service> TXT "dnsaddr=<multiaddr>/p2p/<peer-id>" ...
//
// <peer-name> is a random 32..63 character lowercase alphanumeric label (never
// the peer ID: it does not fit in a 63-byte DNS label). Each TXT string holds
// one address and is at most 255 bytes. Responses found in either the answer
// or the additional section are accepted. DNS messages are encoded and
// decoded with ldns; this file never parses DNS by hand.
//
// MdnsService runs it on UDP multicast (224.0.0.251:5353, optionally
// [ff02::fb]:5353): it queries at start and every query_interval_ms, answers
// queries for the service (its own included, so passive listeners learn about
// it) and reports every other peer it hears about through on_peer.
// Single-threaded: all calls from the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/multiformats/multiaddr.h"
#include "p2p/stream.h"

namespace syndb::p2p {

// Largest mDNS message we send or accept (RFC 6762 §17).
constexpr size_t kMdnsMaxPacket = 9000;
// A DNS TXT character-string holds at most 255 bytes.
constexpr size_t kMdnsMaxTxtString = 255;
// Bounds on the work one received packet can cause.
constexpr size_t kMdnsMaxRecordsPerSection = 128;  // records looked at in each section
constexpr size_t kMdnsMaxPeersPerPacket = 16;      // PTR targets followed
constexpr size_t kMdnsMaxAddrsPerPeer = 64;        // addresses kept per peer

struct MdnsConfig {
  uint32_t query_interval_ms = 10'000;
  std::string service = "_p2p._udp.local";
  uint16_t port = 5353;
  std::string multicast_v4 = "224.0.0.251";
  // Also run on IPv6 ([multicast_v6]:port), on the selected interfaces that
  // have IPv6 multicast.
  bool ipv6 = false;
  std::string multicast_v6 = "ff02::fb";
  // Interface names ("eth0", "lo") to join the group on and send from. Empty:
  // for each address family, every interface that is up, multicast-capable,
  // not loopback and has an address of that family; if there is none,
  // loopback. Tests set {"lo"} (with another port) so nothing leaves the host.
  std::vector<std::string> interfaces;
  // Responses are multicast at most once per this interval; queries arriving
  // within it share one delayed response (RFC 6762 §6: once per second).
  uint32_t min_response_interval_ms = 1000;
};

// A query: one question "<service> PTR IN", ID 0, no flags.
// Errors: kInvalidArgument for a service that is not a valid domain name.
Result<Bytes> mdns_build_query(const std::string& service);

// A response (QR and AA set, ID 0, record TTL 120 s): answer "<service> PTR
// <peer_name>.<service>", and in the additional section one TXT record
// "<peer_name>.<service>" with one "dnsaddr=<a>" string per element of
// `dnsaddrs`. Each element is a multiaddr string that should end in
// /p2p/<peer-id>; it is not parsed here. Errors: kInvalidArgument for a bad
// service, a peer_name that is not one 1..63 character label of [A-Za-z0-9_-],
// an empty dnsaddr list, or a "dnsaddr=<a>" string over 255 bytes;
// kLimitExceeded when the message exceeds kMdnsMaxPacket.
Result<Bytes> mdns_build_response(const std::string& service, const std::string& peer_name,
                                  const std::vector<std::string>& dnsaddrs);

// The peers a response announces for `service`: for each PTR answer whose
// owner is the service (case-insensitive, TTL > 0, at most
// kMdnsMaxPeersPerPacket), the "dnsaddr=" strings of the TXT records owned by
// the PTR target, in the answer or additional section. Addresses that do not
// parse or do not end in /p2p/<id> are skipped; the rest are grouped by that
// peer ID and returned without the /p2p/ suffix (duplicates removed, at most
// kMdnsMaxAddrsPerPeer per peer). Peers with no usable address are left out.
// Errors: kProtocol when the packet is not a DNS message, is not a response,
// or has a non-zero opcode or rcode; kLimitExceeded over kMdnsMaxPacket;
// kInvalidArgument for a bad service name.
Result<std::vector<std::pair<PeerId, std::vector<Multiaddr>>>> mdns_parse_response(ByteSpan packet,
                                                                                   const std::string& service);

// True when `packet` is a query (QR = 0, opcode 0) with a question for
// `service` of type PTR or ANY and class IN or ANY (the unicast-response bit
// ignored). False for anything else, malformed input included.
bool mdns_is_query_for(ByteSpan packet, const std::string& service);

class MdnsService {
 public:
  using PeerHandler = std::function<void(const PeerId&, std::vector<Multiaddr>)>;
  using ListenAddrs = std::function<std::vector<Multiaddr>()>;

  // `listen_addrs` is called whenever a response is built. Its addresses are
  // announced as follows: an unspecified /ip4/0.0.0.0 (/ip6/::) address is
  // replaced by one address per non-loopback IPv4 (non-loopback,
  // non-link-local IPv6) address of the host's interfaces; loopback addresses
  // are announced only when given explicitly; /p2p/<self> is appended when
  // missing; addresses whose TXT string would exceed 255 bytes are dropped,
  // and so are trailing ones that do not fit in one packet.
  MdnsService(asio::io_context& io, PeerId self, ListenAddrs listen_addrs, MdnsConfig config = {});
  ~MdnsService();
  MdnsService(const MdnsService&) = delete;
  MdnsService& operator=(const MdnsService&) = delete;

  // Opens the socket(s) (SO_REUSEADDR and SO_REUSEPORT, bound to the
  // wildcard address on config.port, multicast loopback on, multicast TTL
  // 255), joins the group on the selected interfaces, sends a query and
  // repeats it every query_interval_ms. Errors: kInvalidArgument for a bad
  // config (service, group address, unknown interface name, interval 0) or a
  // second call; kIo when a socket cannot be set up or no interface could
  // join the group. With ipv6 on, it fails only if neither family works.
  Status start();
  // Closes the sockets and stops the timers; no callback fires afterwards.
  // Idempotent; the destructor calls it.
  void stop();

  // Called for every response from another peer (never for self), with its
  // addresses without the /p2p/ suffix. Copies of the same announcement
  // arriving within one second (several interfaces or queriers) are reported
  // once; otherwise it fires again each time the peer answers a query, so
  // callers de-duplicate. It may call stop() or replace the handler.
  void on_peer(PeerHandler handler);

  // The random 32..63 character label announced as <peer-name>.<service>.
  const std::string& peer_name() const;
  // The dnsaddr strings (multiaddr text with /p2p/<self>) the next response
  // would carry, after the rules in the constructor comment.
  std::vector<std::string> announced_addrs() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace syndb::p2p
