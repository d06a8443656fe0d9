// libFuzzer target: the input is a UDP datagram received on the mDNS port.
// Both entry points must survive it; a response that announces peers must
// respect the per-packet bounds, and re-announcing what was found must parse
// back to the same peers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "p2p/mdns/mdns.h"

namespace {

using syndb::p2p::kMdnsMaxAddrsPerPeer;
using syndb::p2p::kMdnsMaxPeersPerPacket;
using syndb::p2p::kMdnsMaxTxtString;

constexpr char kService[] = "_p2p._udp.local";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const syndb::ByteSpan packet(data, size);
  (void)syndb::p2p::mdns_is_query_for(packet, kService);

  auto peers = syndb::p2p::mdns_parse_response(packet, kService);
  if (!peers.ok()) return 0;
  if (peers->size() > kMdnsMaxPeersPerPacket) __builtin_trap();
  for (const auto& [id, addrs] : *peers) {
    if (id.empty() || addrs.empty() || addrs.size() > kMdnsMaxAddrsPerPeer) __builtin_trap();
    std::vector<std::string> dnsaddrs;
    for (const auto& a : addrs) {
      if (a.empty()) __builtin_trap();
      std::string s = a.to_string() + "/p2p/" + id.to_string();
      if (s.size() + 8 <= kMdnsMaxTxtString) dnsaddrs.push_back(std::move(s));
    }
    if (dnsaddrs.size() != addrs.size()) continue;
    auto again = syndb::p2p::mdns_build_response(kService, "fuzz", dnsaddrs);
    if (!again.ok()) continue;  // e.g. over the packet size limit
    auto back = syndb::p2p::mdns_parse_response(*again, kService);
    if (!back.ok() || back->size() != 1 || (*back)[0].first != id || (*back)[0].second != addrs) __builtin_trap();
  }
  return 0;
}
