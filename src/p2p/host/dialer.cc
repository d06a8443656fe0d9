#include "p2p/host/dialer.h"

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <cstring>

namespace syndb::p2p {

namespace {

bool private_v4(const uint8_t* b) {
  return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
         (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] == 0;
}

bool private_v6(const Bytes& v) {
  boost::asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), v.data(), 16);
  boost::asio::ip::address_v6 a(b);
  if (a.is_v4_mapped()) return private_v4(v.data() + 12);
  return a.is_loopback() || a.is_link_local() || a.is_unspecified() || (v[0] & 0xfe) == 0xfc;  // fc00::/7 ULA
}

}  // namespace

int dial_rank(const Multiaddr& addr) {
  auto comps = addr.components();
  for (const auto& c : comps) {
    if (c.code == multicodec::kP2pCircuit) return 2;
  }
  if (comps.empty()) return 1;
  const auto& first = comps[0];
  if (first.code == multicodec::kIp4 && first.value.size() == 4) return private_v4(first.value.data()) ? 1 : 0;
  if (first.code == multicodec::kIp6 && first.value.size() == 16) return private_v6(first.value) ? 1 : 0;
  return 0;  // dns*: resolved at dial time, assumed public
}

std::vector<Multiaddr> rank_addrs(std::vector<Multiaddr> addrs) {
  std::vector<Multiaddr> unique;
  for (auto& a : addrs) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(std::move(a));
  }
  std::stable_sort(unique.begin(), unique.end(),
                   [](const Multiaddr& a, const Multiaddr& b) { return dial_rank(a) < dial_rank(b); });
  return unique;
}

}  // namespace syndb::p2p
