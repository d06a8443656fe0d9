#include "p2p/transport/interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>

namespace syndb::p2p {

namespace asio = boost::asio;


std::vector<Interface> list_interfaces() {
  std::vector<Interface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* ifa = list; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_name) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Interface& i) { return i.name == ifa->ifa_name; });
    if (it == out.end()) {
      out.push_back(Interface{ifa->ifa_name, if_nametoindex(ifa->ifa_name), ifa->ifa_flags, {}, {}});
      it = out.end() - 1;
    }
    if (!ifa->ifa_addr) continue;
    if (ifa->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
      it->v4.emplace_back(ntohl(sin->sin_addr.s_addr));
    } else if (ifa->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
      asio::ip::address_v6::bytes_type b;
      std::copy(sin6->sin6_addr.s6_addr, sin6->sin6_addr.s6_addr + 16, b.begin());
      it->v6.emplace_back(b);
    }
  }
  freeifaddrs(list);
  return out;
}

std::vector<Multiaddr> expand_unspecified(const Multiaddr& addr, bool include_loopback) {
  auto comps = addr.components();
  if (comps.empty()) return {addr};
  const auto& first = comps.front();
  bool any4 = first.code == multicodec::kIp4 && first.value == Bytes(4, 0);
  bool any6 = first.code == multicodec::kIp6 && first.value == Bytes(16, 0);
  if (!any4 && !any6) return {addr};
  // Canonical text starts with "/ip4/0.0.0.0" or "/ip6/::"; keep what follows.
  const std::string text = addr.to_string();
  const std::string rest = text.substr(any4 ? std::string_view("/ip4/0.0.0.0").size() : std::string_view("/ip6/::").size());
  std::vector<Multiaddr> out;
  auto add = [&](const std::string& s) {
    auto ma = Multiaddr::from_string(s);
    if (ma.ok() && std::find(out.begin(), out.end(), *ma) == out.end()) out.push_back(*ma);
  };
  for (const auto& i : list_interfaces()) {
    if (!(i.flags & IFF_UP)) continue;
    if (any4) {
      for (const auto& a : i.v4) {
        if (!a.is_unspecified() && (include_loopback || !a.is_loopback())) add("/ip4/" + a.to_string() + rest);
      }
    } else {
      for (const auto& a : i.v6) {
        if (a.is_link_local() || a.is_unspecified() || a.is_v4_mapped()) continue;
        if (include_loopback || !a.is_loopback()) add("/ip6/" + a.to_string() + rest);
      }
    }
  }
  return out;
}

}  // namespace syndb::p2p
