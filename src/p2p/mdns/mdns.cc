#include "p2p/mdns/mdns.h"
#include "p2p/transport/interfaces.h"

#include <ifaddrs.h>
// Before ldns: without __bool_true_false_are_defined, ldns/common.h defines
// bool, true and false as macros, which breaks C++ headers included later.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
#include <ldns/ldns.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>

namespace syndb::p2p {

namespace {

using asio::ip::udp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kDnsaddrKey = "dnsaddr=";
constexpr size_t kMaxTxtStringsPerRecord = 64;
constexpr size_t kMaxQuestions = 32;
constexpr uint16_t kClassMask = 0x7fff;  // strips the mDNS cache-flush / unicast-response bit
constexpr auto kRepeatQuiet = std::chrono::seconds(1);
constexpr size_t kMaxSeenPeers = 1024;

// ---------------------------------------------------------------- ldns ownership

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool valid_label(std::string_view label) {
  return !label.empty() && label.size() <= LDNS_MAX_LABELLEN && std::all_of(label.begin(), label.end(), is_label_char);
}

// A domain name of labels of [A-Za-z0-9_-] (one trailing '.' allowed), as a
// DNAME rdf. Checked here so that ldns never sees escapes or empty labels.
Result<RdfPtr> make_dname(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return Error(ErrorCode::kInvalidArgument, "empty domain name");
  size_t wire = 1;
  for (size_t start = 0;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_label(label)) {
      return Error(ErrorCode::kInvalidArgument, "bad label \"" + std::string(label) + "\" in domain name");
    }
    wire += 1 + label.size();
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (wire > LDNS_MAX_DOMAINLEN) return Error(ErrorCode::kInvalidArgument, "domain name over 255 bytes");
  RdfPtr rdf(ldns_dname_new_frm_str(std::string(name).c_str()));
  if (!rdf) return Error(ErrorCode::kInvalidArgument, "ldns rejected domain name " + std::string(name));
  return rdf;
}

bool same_dname(const ldns_rdf* a, const ldns_rdf* b) {
  return a && b && ldns_rdf_get_type(a) == LDNS_RDF_TYPE_DNAME && ldns_rdf_get_type(b) == LDNS_RDF_TYPE_DNAME &&
         ldns_dname_compare(a, b) == 0;
}

uint16_t rr_class(const ldns_rr* rr) { return static_cast<uint16_t>(ldns_rr_get_class(rr)) & kClassMask; }

// A new record owned by the caller until pushed into a packet.
RrPtr new_rr(const ldns_rdf* owner, ldns_rr_type type, uint32_t ttl, bool question) {
  RrPtr rr(ldns_rr_new());
  if (!rr) return rr;
  ldns_rr_set_owner(rr.get(), ldns_rdf_clone(owner));
  ldns_rr_set_type(rr.get(), type);
  ldns_rr_set_class(rr.get(), LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl(rr.get(), ttl);
  ldns_rr_set_question(rr.get(), question);
  return rr;
}

bool push(ldns_pkt* pkt, ldns_pkt_section section, RrPtr rr) {
  if (!rr || !ldns_pkt_push_rr(pkt, section, rr.get())) return false;
  (void)rr.release();  // the packet owns it now
  return true;
}

Result<Bytes> to_wire(const ldns_pkt* pkt) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK || !wire) {
    std::free(wire);
    return Error(ErrorCode::kInternal, "ldns could not encode the message");
  }
  Bytes out(wire, wire + size);
  std::free(wire);
  if (out.size() > kMdnsMaxPacket) {
    return Error(ErrorCode::kLimitExceeded,
                 "mDNS message is " + std::to_string(out.size()) + " bytes (max " +
                     std::to_string(kMdnsMaxPacket) + ")");
  }
  return out;
}

Result<PktPtr> from_wire(ByteSpan packet) {
  if (packet.size() > kMdnsMaxPacket) {
    return Error(ErrorCode::kLimitExceeded, "mDNS packet of " + std::to_string(packet.size()) + " bytes");
  }
  ldns_pkt* raw = nullptr;
  ldns_status st = ldns_wire2pkt(&raw, packet.data(), packet.size());
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK || !pkt) {
    const char* why = ldns_get_errorstr_by_id(st);
    return Error(ErrorCode::kProtocol, std::string("not a DNS message: ") + (why ? why : "unknown ldns error"));
  }
  return pkt;
}

// ---------------------------------------------------------------- message logic on parsed packets

struct QueryTarget {
  const ldns_rdf* name;
  std::vector<ldns_rr_type> types;
};

bool query_asks_for(const ldns_pkt* pkt, const std::vector<QueryTarget>& targets) {
  if (ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) return false;
  const ldns_rr_list* qs = ldns_pkt_question(pkt);
  size_t n = qs ? std::min(ldns_rr_list_rr_count(qs), kMaxQuestions) : 0;
  for (size_t i = 0; i < n; ++i) {
    const ldns_rr* q = ldns_rr_list_rr(qs, i);
    uint16_t cls = rr_class(q);
    if (cls != LDNS_RR_CLASS_IN && cls != LDNS_RR_CLASS_ANY) continue;
    ldns_rr_type type = ldns_rr_get_type(q);
    for (const auto& t : targets) {
      bool type_ok = type == LDNS_RR_TYPE_ANY || std::find(t.types.begin(), t.types.end(), type) != t.types.end();
      if (type_ok && same_dname(ldns_rr_owner(q), t.name)) return true;
    }
  }
  return false;
}

// "dnsaddr=<multiaddr>" with the key compared case-insensitively (RFC 6763 §6.4).
std::optional<std::string_view> dnsaddr_value(std::string_view txt) {
  if (txt.size() <= kDnsaddrKey.size()) return std::nullopt;
  for (size_t i = 0; i < kDnsaddrKey.size(); ++i) {
    char c = txt[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kDnsaddrKey[i]) return std::nullopt;
  }
  return txt.substr(kDnsaddrKey.size());
}

using PeerList = std::vector<std::pair<PeerId, std::vector<Multiaddr>>>;

void add_addr(PeerList& peers, const PeerId& id, Multiaddr addr) {
  auto it = std::find_if(peers.begin(), peers.end(), [&](const auto& p) { return p.first == id; });
  if (it == peers.end()) {
    peers.emplace_back(id, std::vector<Multiaddr>{});
    it = peers.end() - 1;
  }
  auto& addrs = it->second;
  if (addrs.size() >= kMdnsMaxAddrsPerPeer) return;
  if (std::find(addrs.begin(), addrs.end(), addr) == addrs.end()) addrs.push_back(std::move(addr));
}

Result<PeerList> peers_in_response(const ldns_pkt* pkt, const ldns_rdf* service) {
  if (!ldns_pkt_qr(pkt)) return Error(ErrorCode::kProtocol, "mDNS message is a query, not a response");
  if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) {
    return Error(ErrorCode::kProtocol, "mDNS response with opcode != 0");
  }
  if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
    return Error(ErrorCode::kProtocol, "mDNS response with rcode != 0");
  }

  // The instances the answers point at: "<service> PTR <peer-name>.<service>".
  std::vector<const ldns_rdf*> instances;
  const ldns_rr_list* answers = ldns_pkt_answer(pkt);
  size_t n_answers = answers ? std::min(ldns_rr_list_rr_count(answers), kMdnsMaxRecordsPerSection) : 0;
  for (size_t i = 0; i < n_answers && instances.size() < kMdnsMaxPeersPerPacket; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || rr_class(rr) != LDNS_RR_CLASS_IN || ldns_rr_ttl(rr) == 0) continue;
    if (ldns_rr_rd_count(rr) != 1 || !same_dname(ldns_rr_owner(rr), service)) continue;
    const ldns_rdf* target = ldns_rr_rdf(rr, 0);
    if (!target || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME) continue;
    auto same = [&](const ldns_rdf* t) { return same_dname(t, target); };
    if (std::none_of(instances.begin(), instances.end(), same)) instances.push_back(target);
  }

  PeerList peers;
  if (instances.empty()) return peers;
  for (const ldns_rr_list* section : {answers, static_cast<const ldns_rr_list*>(ldns_pkt_additional(pkt))}) {
    size_t n = section ? std::min(ldns_rr_list_rr_count(section), kMdnsMaxRecordsPerSection) : 0;
    for (size_t i = 0; i < n; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(section, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || rr_class(rr) != LDNS_RR_CLASS_IN) continue;
      if (ldns_rr_ttl(rr) == 0) continue;
      const ldns_rdf* owner = ldns_rr_owner(rr);
      if (!std::any_of(instances.begin(), instances.end(), [&](const ldns_rdf* t) { return same_dname(t, owner); })) {
        continue;
      }
      size_t strings = std::min(ldns_rr_rd_count(rr), kMaxTxtStringsPerRecord);
      for (size_t s = 0; s < strings; ++s) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr, s);
        // A STR rdf is the wire character-string: one length byte, then the bytes.
        if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rdf) < 1) continue;
        const uint8_t* data = ldns_rdf_data(rdf);
        size_t len = std::min<size_t>(data[0], ldns_rdf_size(rdf) - 1);
        auto value = dnsaddr_value(std::string_view(reinterpret_cast<const char*>(data + 1), len));
        if (!value) continue;
        auto ma = Multiaddr::from_string(*value);
        if (!ma.ok()) continue;
        auto id = ma->peer_id();
        if (!id) continue;
        Multiaddr bare = ma->without_peer_id();
        if (bare.empty()) continue;
        add_addr(peers, *id, std::move(bare));
      }
    }
  }
  return peers;
}

// ---------------------------------------------------------------- interfaces


// The interfaces named in `names` (all must exist); with no names, those that
// are up, multicast-capable, not loopback and have an address of the family
// (v6: true for IPv6), or the loopback interfaces when there is none.
Result<std::vector<Interface>> select_interfaces(const std::vector<std::string>& names, bool v6) {
  auto all = list_interfaces();
  std::vector<Interface> out;
  if (!names.empty()) {
    for (const auto& n : names) {
      auto it = std::find_if(all.begin(), all.end(), [&](const Interface& i) { return i.name == n; });
      if (it == all.end()) return Error(ErrorCode::kInvalidArgument, "no network interface named " + n);
      out.push_back(*it);
    }
    return out;
  }
  auto has_family = [v6](const Interface& i) { return v6 ? !i.v6.empty() : !i.v4.empty(); };
  for (const auto& i : all) {
    if ((i.flags & IFF_UP) && (i.flags & IFF_MULTICAST) && !(i.flags & IFF_LOOPBACK) && has_family(i)) {
      out.push_back(i);
    }
  }
  if (out.empty()) {
    for (const auto& i : all) {
      if ((i.flags & IFF_UP) && (i.flags & IFF_LOOPBACK) && has_family(i)) out.push_back(i);
    }
  }
  return out;
}

std::string random_peer_name() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  size_t len = std::uniform_int_distribution<size_t>(32, 63)(gen);
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string out(len, 'a');
  for (auto& c : out) c = kAlphabet[pick(gen)];
  return out;
}

void set_int_option(int fd, int level, int name, int value) {
  (void)::setsockopt(fd, level, name, &value, sizeof(value));
}

}  // namespace

// ---------------------------------------------------------------- pure functions

Result<Bytes> mdns_build_query(const std::string& service) {
  SYNDB_ASSIGN_OR_RETURN(auto name, make_dname(service));
  PktPtr pkt(ldns_pkt_new());
  if (!pkt) return Error(ErrorCode::kInternal, "ldns_pkt_new failed");
  ldns_pkt_set_id(pkt.get(), 0);
  if (!push(pkt.get(), LDNS_SECTION_QUESTION, new_rr(name.get(), LDNS_RR_TYPE_PTR, 0, true))) {
    return Error(ErrorCode::kInternal, "cannot add the question");
  }
  return to_wire(pkt.get());
}

Result<Bytes> mdns_build_response(const std::string& service, const std::string& peer_name,
                                  const std::vector<std::string>& dnsaddrs) {
  constexpr uint32_t kTtl = 120;
  SYNDB_ASSIGN_OR_RETURN(auto service_name, make_dname(service));
  if (!valid_label(peer_name)) {
    return Error(ErrorCode::kInvalidArgument, "peer name must be one 1..63 character label of [A-Za-z0-9_-]");
  }
  if (dnsaddrs.empty()) return Error(ErrorCode::kInvalidArgument, "no dnsaddr to announce");
  SYNDB_ASSIGN_OR_RETURN(auto instance, make_dname(peer_name + "." + service));

  PktPtr pkt(ldns_pkt_new());
  if (!pkt) return Error(ErrorCode::kInternal, "ldns_pkt_new failed");
  ldns_pkt_set_id(pkt.get(), 0);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_aa(pkt.get(), true);

  RrPtr ptr = new_rr(service_name.get(), LDNS_RR_TYPE_PTR, kTtl, false);
  if (!ptr || !ldns_rr_push_rdf(ptr.get(), ldns_rdf_clone(instance.get()))) {
    return Error(ErrorCode::kInternal, "cannot build the PTR record");
  }
  if (!push(pkt.get(), LDNS_SECTION_ANSWER, std::move(ptr))) return Error(ErrorCode::kInternal, "cannot add PTR");

  RrPtr txt = new_rr(instance.get(), LDNS_RR_TYPE_TXT, kTtl, false);
  if (!txt) return Error(ErrorCode::kInternal, "cannot build the TXT record");
  for (const auto& a : dnsaddrs) {
    std::string s = std::string(kDnsaddrKey) + a;
    if (s.size() > kMdnsMaxTxtString) {
      return Error(ErrorCode::kInvalidArgument, "TXT string \"" + s.substr(0, 40) + "...\" is over 255 bytes");
    }
    Bytes wire;
    wire.reserve(1 + s.size());
    wire.push_back(static_cast<uint8_t>(s.size()));
    append(wire, as_bytes(s));
    ldns_rdf* rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, wire.size(), wire.data());
    if (!rdf || !ldns_rr_push_rdf(txt.get(), rdf)) {
      ldns_rdf_deep_free(rdf);
      return Error(ErrorCode::kInternal, "cannot add a TXT string");
    }
  }
  if (!push(pkt.get(), LDNS_SECTION_ADDITIONAL, std::move(txt))) return Error(ErrorCode::kInternal, "cannot add TXT");
  return to_wire(pkt.get());
}

Result<std::vector<std::pair<PeerId, std::vector<Multiaddr>>>> mdns_parse_response(ByteSpan packet,
                                                                                   const std::string& service) {
  SYNDB_ASSIGN_OR_RETURN(auto service_name, make_dname(service));
  SYNDB_ASSIGN_OR_RETURN(auto pkt, from_wire(packet));
  return peers_in_response(pkt.get(), service_name.get());
}

bool mdns_is_query_for(ByteSpan packet, const std::string& service) {
  auto service_name = make_dname(service);
  if (!service_name.ok()) return false;
  auto pkt = from_wire(packet);
  if (!pkt.ok()) return false;
  return query_asks_for(pkt->get(), {QueryTarget{service_name->get(), {LDNS_RR_TYPE_PTR}}});
}

// ---------------------------------------------------------------- MdnsService

struct MdnsService::State : std::enable_shared_from_this<MdnsService::State> {
  State(asio::io_context& io, PeerId self, ListenAddrs addrs, MdnsConfig cfg)
      : io(io), self(std::move(self)), listen_addrs(std::move(addrs)), config(std::move(cfg)),
        peer_name(random_peer_name()), query_timer(io), response_timer(io) {}

  asio::io_context& io;
  PeerId self;
  ListenAddrs listen_addrs;
  MdnsConfig config;
  std::string peer_name;
  PeerHandler handler;
  bool started = false;
  bool stopped = false;

  RdfPtr service_name, instance_name;
  std::optional<udp::socket> sock4, sock6;
  udp::endpoint group4, group6;
  std::vector<asio::ip::address_v4> out4;  // interface addresses to send from
  std::vector<unsigned> out6;              // interface indexes to send from
  asio::steady_timer query_timer, response_timer;
  std::optional<std::chrono::steady_clock::time_point> last_response;
  bool response_pending = false;
  // Last report per peer, so that copies of one response (several interfaces,
  // both families, several queriers) within kRepeatQuiet fire on_peer once.
  struct Seen {
    std::vector<Multiaddr> addrs;
    std::chrono::steady_clock::time_point at;
  };
  std::unordered_map<PeerId, Seen> seen;

  Status open_v4(const std::vector<Interface>& ifaces);
  Status open_v6(const std::vector<Interface>& ifaces);
  void send(ByteSpan msg);
  void send_query();
  void schedule_response();
  void send_response();
  std::vector<std::string> announced() const;
  void handle_packet(ByteSpan packet);
  void close();
  static Task<void> receive_loop(std::shared_ptr<State> st, udp::socket& sock);
  static Task<void> query_loop(std::shared_ptr<State> st);
};

namespace {

// Opens, sets the reuse options and binds a UDP socket on the wildcard address.
Status open_bound(udp::socket& s, const udp::endpoint& ep) {
  boost::system::error_code ec;
  s.open(ep.protocol(), ec);
  if (!ec) s.set_option(asio::socket_base::reuse_address(true), ec);
#ifdef SO_REUSEPORT
  if (!ec) set_int_option(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, 1);
#endif
  if (!ec && ep.address().is_v6()) s.set_option(asio::ip::v6_only(true), ec);
  if (!ec) s.bind(ep, ec);
  if (!ec) s.non_blocking(true, ec);
  if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
  if (!ec) s.set_option(asio::ip::multicast::hops(255), ec);
  if (ec) return Error(ErrorCode::kIo, "mDNS socket on " + std::to_string(ep.port()) + ": " + ec.message());
  return ok_status();
}

}  // namespace

Status MdnsService::State::open_v4(const std::vector<Interface>& ifaces) {
  boost::system::error_code ec;
  auto group = asio::ip::make_address_v4(config.multicast_v4, ec);
  if (ec || !group.is_multicast()) {
    return Error(ErrorCode::kInvalidArgument, "not an IPv4 multicast address: " + config.multicast_v4);
  }
  group4 = udp::endpoint(group, config.port);
  sock4.emplace(io);
  SYNDB_RETURN_IF_ERROR(open_bound(*sock4, udp::endpoint(udp::v4(), config.port)));
#ifdef IP_MULTICAST_ALL
  // Only the groups joined on this socket, not every group joined on the host.
  set_int_option(sock4->native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
  for (const auto& i : ifaces) {
    if (i.v4.empty()) continue;
    sock4->set_option(asio::ip::multicast::join_group(group, i.v4.front()), ec);
    if (ec) {
      spdlog::debug("mDNS: cannot join {} on {}: {}", config.multicast_v4, i.name, ec.message());
      continue;
    }
    out4.push_back(i.v4.front());
  }
  if (out4.empty()) return Error(ErrorCode::kIo, "mDNS: no interface could join " + config.multicast_v4);
  return ok_status();
}

Status MdnsService::State::open_v6(const std::vector<Interface>& ifaces) {
  boost::system::error_code ec;
  auto group = asio::ip::make_address_v6(config.multicast_v6, ec);
  if (ec || !group.is_multicast()) {
    return Error(ErrorCode::kInvalidArgument, "not an IPv6 multicast address: " + config.multicast_v6);
  }
  group6 = udp::endpoint(group, config.port);
  sock6.emplace(io);
  SYNDB_RETURN_IF_ERROR(open_bound(*sock6, udp::endpoint(udp::v6(), config.port)));
#ifdef IPV6_MULTICAST_ALL
  set_int_option(sock6->native_handle(), IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
  for (const auto& i : ifaces) {
    if (i.v6.empty() || i.index == 0) continue;
    sock6->set_option(asio::ip::multicast::join_group(group, i.index), ec);
    if (ec) {
      spdlog::debug("mDNS: cannot join {} on {}: {}", config.multicast_v6, i.name, ec.message());
      continue;
    }
    out6.push_back(i.index);
  }
  if (out6.empty()) return Error(ErrorCode::kIo, "mDNS: no interface could join " + config.multicast_v6);
  return ok_status();
}

void MdnsService::State::send(ByteSpan msg) {
  boost::system::error_code ec;
  if (sock4 && sock4->is_open()) {
    for (const auto& a : out4) {
      sock4->set_option(asio::ip::multicast::outbound_interface(a), ec);
      if (!ec) sock4->send_to(asio::buffer(msg.data(), msg.size()), group4, 0, ec);
      if (ec) spdlog::debug("mDNS: send via {}: {}", a.to_string(), ec.message());
    }
  }
  if (sock6 && sock6->is_open()) {
    for (unsigned idx : out6) {
      sock6->set_option(asio::ip::multicast::outbound_interface(idx), ec);
      udp::endpoint to = group6;
      auto addr = to.address().to_v6();
      addr.scope_id(idx);
      to.address(addr);
      if (!ec) sock6->send_to(asio::buffer(msg.data(), msg.size()), to, 0, ec);
      if (ec) spdlog::debug("mDNS: send via interface {}: {}", idx, ec.message());
    }
  }
}

void MdnsService::State::send_query() {
  auto q = mdns_build_query(config.service);
  if (q.ok()) send(*q);
}

std::vector<std::string> MdnsService::State::announced() const {
  std::vector<std::string> out;
  if (!listen_addrs) return out;
  const std::string suffix = "/p2p/" + self.to_string();
  for (const auto& ma : listen_addrs()) {
    if (ma.empty()) continue;
    if (auto id = ma.peer_id(); id && *id != self) continue;
    Multiaddr base = ma.without_peer_id();
    if (base.empty()) continue;
    // Loopback is announced only when listened on explicitly.
    for (const auto& a : expand_unspecified(base, false)) {
      std::string text = a.to_string() + suffix;
      if (kDnsaddrKey.size() + text.size() > kMdnsMaxTxtString) continue;
      if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
    }
  }
  return out;
}

void MdnsService::State::send_response() {
  last_response = std::chrono::steady_clock::now();
  auto addrs = announced();
  while (!addrs.empty()) {
    auto r = mdns_build_response(config.service, peer_name, addrs);
    if (r.ok()) {
      send(*r);
      return;
    }
    if (r.error().code() != ErrorCode::kLimitExceeded) {
      spdlog::debug("mDNS: cannot build response: {}", r.error().to_string());
      return;
    }
    addrs.pop_back();
  }
}

void MdnsService::State::schedule_response() {
  if (response_pending || stopped) return;
  auto now = std::chrono::steady_clock::now();
  auto earliest = last_response ? *last_response + std::chrono::milliseconds(config.min_response_interval_ms) : now;
  if (now >= earliest) {
    send_response();
    return;
  }
  response_pending = true;
  response_timer.expires_at(earliest);
  response_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->response_pending = false;
    if (ec || self->stopped) return;
    self->send_response();
  });
}

void MdnsService::State::handle_packet(ByteSpan packet) {
  auto parsed = from_wire(packet);
  if (!parsed.ok()) return;
  const ldns_pkt* pkt = parsed->get();
  if (!ldns_pkt_qr(pkt)) {
    // Our service (PTR), or our instance directly (TXT; SRV/A/AAAA are not served).
    if (query_asks_for(pkt, {QueryTarget{service_name.get(), {LDNS_RR_TYPE_PTR}},
                             QueryTarget{instance_name.get(), {LDNS_RR_TYPE_TXT}}})) {
      schedule_response();
    }
    return;
  }
  auto peers = peers_in_response(pkt, service_name.get());
  if (!peers.ok()) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, addrs] : *peers) {
    if (stopped) return;
    if (id == self || addrs.empty() || !handler) continue;
    auto it = seen.find(id);
    if (it != seen.end() && it->second.addrs == addrs && now - it->second.at < kRepeatQuiet) continue;
    if (it == seen.end() && seen.size() >= kMaxSeenPeers) seen.clear();
    seen[id] = Seen{addrs, now};
    PeerHandler h = handler;  // the handler may replace itself or stop the service
    h(id, std::move(addrs));
  }
}

void MdnsService::State::close() {
  stopped = true;
  boost::system::error_code ec;
  if (sock4) sock4->close(ec);
  if (sock6) sock6->close(ec);
  query_timer.cancel();
  response_timer.cancel();
}

MdnsService::MdnsService(asio::io_context& io, PeerId self, ListenAddrs listen_addrs, MdnsConfig config)
    : state_(std::make_shared<State>(io, std::move(self), std::move(listen_addrs), std::move(config))) {}

MdnsService::~MdnsService() { stop(); }

void MdnsService::on_peer(PeerHandler handler) { state_->handler = std::move(handler); }

const std::string& MdnsService::peer_name() const { return state_->peer_name; }

std::vector<std::string> MdnsService::announced_addrs() const { return state_->announced(); }

Status MdnsService::start() {
  auto& st = *state_;
  if (st.started) return Error(ErrorCode::kInvalidArgument, "mDNS service already started");
  if (st.config.query_interval_ms == 0) return Error(ErrorCode::kInvalidArgument, "mDNS query interval is 0");
  SYNDB_ASSIGN_OR_RETURN(st.service_name, make_dname(st.config.service));
  SYNDB_ASSIGN_OR_RETURN(st.instance_name, make_dname(st.peer_name + "." + st.config.service));
  SYNDB_ASSIGN_OR_RETURN(auto ifaces4, select_interfaces(st.config.interfaces, false));
  std::vector<Interface> ifaces6;
  if (st.config.ipv6) {
    SYNDB_ASSIGN_OR_RETURN(ifaces6, select_interfaces(st.config.interfaces, true));
  }
  st.started = true;
  // With IPv6 on, one working family is enough (e.g. an IPv6-only link).
  Status v4 = st.open_v4(ifaces4);
  if (!v4.ok()) {
    if (v4.error().code() == ErrorCode::kInvalidArgument || !st.config.ipv6) {
      st.close();
      return v4;
    }
    spdlog::debug("{}; using IPv6 only", v4.error().to_string());
    boost::system::error_code ec;
    st.sock4->close(ec);
    st.sock4.reset();
  }
  if (st.config.ipv6) {
    Status v6 = st.open_v6(ifaces6);
    if (!v6.ok()) {
      if (v6.error().code() == ErrorCode::kInvalidArgument || !st.sock4) {
        st.close();
        return v6;
      }
      spdlog::debug("{}; using IPv4 only", v6.error().to_string());
      boost::system::error_code ec;
      st.sock6->close(ec);
      st.sock6.reset();
    }
  }
  if (st.sock4) asio::co_spawn(st.io, State::receive_loop(state_, *st.sock4), asio::detached);
  if (st.sock6) asio::co_spawn(st.io, State::receive_loop(state_, *st.sock6), asio::detached);
  asio::co_spawn(st.io, State::query_loop(state_), asio::detached);
  return ok_status();
}

void MdnsService::stop() {
  if (state_) state_->close();
}

Task<void> MdnsService::State::query_loop(std::shared_ptr<State> st) {
  while (!st->stopped) {
    st->send_query();
    st->query_timer.expires_after(std::chrono::milliseconds(st->config.query_interval_ms));
    auto [ec] = co_await st->query_timer.async_wait(kTuple);
    if (ec) co_return;
  }
}

Task<void> MdnsService::State::receive_loop(std::shared_ptr<State> st, udp::socket& sock) {
  // One byte more than the largest accepted packet, so an oversized datagram is
  // recognised instead of being parsed truncated.
  Bytes buf(kMdnsMaxPacket + 1);
  while (!st->stopped) {
    udp::endpoint from;
    auto [ec, n] = co_await sock.async_receive_from(asio::buffer(buf), from, kTuple);
    if (st->stopped) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      spdlog::debug("mDNS: receive: {}", ec.message());
      continue;
    }
    if (n == 0 || n > kMdnsMaxPacket) continue;
    st->handle_packet(ByteSpan(buf.data(), n));
  }
}

}  // namespace syndb::p2p
