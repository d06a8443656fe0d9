// Network interfaces of this host, and the expansion of an unspecified
// listen address (/ip4/0.0.0.0, /ip6/::) into the addresses peers can dial.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

#include "p2p/multiformats/multiaddr.h"

namespace syndb::p2p {

struct Interface {
  std::string name;
  unsigned index = 0;
  unsigned flags = 0;  // IFF_* from <net/if.h>
  std::vector<boost::asio::ip::address_v4> v4;
  std::vector<boost::asio::ip::address_v6> v6;
};

// Every interface with its addresses (getifaddrs); empty on failure.
std::vector<Interface> list_interfaces();

// `addr` itself when its IP is specific; otherwise one address per IP of
// the interfaces that are up (IPv6: not link-local), same transport part.
// Loopback IPs are included only when include_loopback is set. A trailing
// /p2p/… is kept.
std::vector<Multiaddr> expand_unspecified(const Multiaddr& addr, bool include_loopback);

}  // namespace syndb::p2p
