// mDNS discovery: the message builders and parsers (wire bytes checked
// against RFC 1035 encoding written out by hand here, not by ldns), the
// response shapes go/js/rust-libp2p send, malformed input, and two
// MdnsService instances discovering each other over multicast on loopback.
#include "p2p/mdns/mdns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/multiformats/multiaddr.h"

namespace syndb::p2p {
namespace {

constexpr char kService[] = "_p2p._udp.local";
constexpr uint16_t kPtr = 12, kTxt = 16, kSrv = 33, kA = 1, kIn = 1;

PeerId new_peer() { return PeerId::from_public_key(Ed25519PrivateKey::generate().public_key()); }

Multiaddr ma(const std::string& s) {
  auto r = Multiaddr::from_string(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Multiaddr();
}

// A minimal DNS message writer for test input (RFC 1035 §4.1, no compression),
// independent of the ldns-based code under test.
class DnsWriter {
 public:
  DnsWriter(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    for (uint16_t v : {uint16_t{0}, flags, qd, an, ns, ar}) u16(v);
  }
  void question(const std::string& name, uint16_t type, uint16_t cls) {
    this->name(name);
    u16(type);
    u16(cls);
  }
  void rr(const std::string& owner, uint16_t type, uint16_t cls, uint32_t ttl, const Bytes& rdata) {
    name(owner);
    u16(type);
    u16(cls);
    u16(static_cast<uint16_t>(ttl >> 16));
    u16(static_cast<uint16_t>(ttl));
    u16(static_cast<uint16_t>(rdata.size()));
    append(out, rdata);
  }
  Bytes out;

  static Bytes name_bytes(const std::string& dotted) {
    Bytes b;
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos) dot = dotted.size();
      b.push_back(static_cast<uint8_t>(dot - start));
      append(b, as_bytes(std::string_view(dotted).substr(start, dot - start)));
      start = dot + 1;
    }
    b.push_back(0);
    return b;
  }
  static Bytes txt(const std::vector<std::string>& strings) {
    Bytes b;
    for (const auto& s : strings) {
      b.push_back(static_cast<uint8_t>(s.size()));
      append(b, as_bytes(s));
    }
    return b;
  }

 private:
  void u16(uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
  }
  void name(const std::string& dotted) { append(out, name_bytes(dotted)); }
};

// ---------------------------------------------------------------- queries

TEST(MdnsTest, QueryWireFormat) {
  auto q = mdns_build_query(kService);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  // ID 0, no flags, one question; "_p2p._udp.local" PTR IN.
  EXPECT_EQ(to_hex(*q),
            "000000000001000000000000"
            "045f703270045f756470056c6f63616c00"
            "000c0001");
}

TEST(MdnsTest, QueryIsRecognised) {
  auto q = mdns_build_query(kService);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(mdns_is_query_for(*q, kService));
  EXPECT_TRUE(mdns_is_query_for(*q, "_P2P._UDP.Local."));  // names compare case-insensitively
  EXPECT_FALSE(mdns_is_query_for(*q, "_other._udp.local"));
  EXPECT_FALSE(mdns_is_query_for(*q, "bad..name"));

  // The unicast-response ("QU") bit and type ANY still count.
  DnsWriter qu(0, 1, 0, 0, 0);
  qu.question(kService, kPtr, 0x8000 | kIn);
  EXPECT_TRUE(mdns_is_query_for(qu.out, kService));
  DnsWriter any(0, 1, 0, 0, 0);
  any.question(kService, 255, kIn);
  EXPECT_TRUE(mdns_is_query_for(any.out, kService));

  // Our service as the second question of several.
  DnsWriter two(0, 2, 0, 0, 0);
  two.question("_services._dns-sd._udp.local", kPtr, kIn);
  two.question(kService, kPtr, kIn);
  EXPECT_TRUE(mdns_is_query_for(two.out, kService));

  // Another type, another class, a response, and a non-zero opcode are not our query.
  DnsWriter a(0, 1, 0, 0, 0);
  a.question(kService, kA, kIn);
  EXPECT_FALSE(mdns_is_query_for(a.out, kService));
  DnsWriter chaos(0, 1, 0, 0, 0);
  chaos.question(kService, kPtr, 3);
  EXPECT_FALSE(mdns_is_query_for(chaos.out, kService));
  DnsWriter resp(0x8400, 1, 0, 0, 0);
  resp.question(kService, kPtr, kIn);
  EXPECT_FALSE(mdns_is_query_for(resp.out, kService));
  DnsWriter notify(4 << 11, 1, 0, 0, 0);
  notify.question(kService, kPtr, kIn);
  EXPECT_FALSE(mdns_is_query_for(notify.out, kService));

  auto r = mdns_build_response(kService, "abc", {"/ip4/1.2.3.4/tcp/1"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(mdns_is_query_for(*r, kService));
  EXPECT_FALSE(mdns_is_query_for({}, kService));
}

TEST(MdnsTest, BadServiceNamesAreRejected) {
  for (const char* bad : {"", ".", "a..b", "_p2p._udp.local..", "a b.local", "a\\.b.local", "a/b.local"}) {
    auto q = mdns_build_query(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(mdns_build_query(std::string(64, 'a') + ".local").ok());
  EXPECT_TRUE(mdns_build_query(std::string(63, 'a') + ".local").ok());
  EXPECT_TRUE(mdns_build_query("_p2p._udp.local.").ok());
  EXPECT_TRUE(mdns_build_query("_p2p-0123abcd._udp.local").ok());  // private network service name
}

// ---------------------------------------------------------------- responses

TEST(MdnsTest, ResponseRoundTrip) {
  PeerId id = new_peer();
  std::string p2p = "/p2p/" + id.to_string();
  std::vector<std::string> addrs = {"/ip4/192.168.1.10/tcp/4001" + p2p, "/ip6/fe80::1/tcp/4001" + p2p,
                                    "/ip4/192.168.1.10/udp/4001/quic-v1" + p2p};
  std::string name(40, 'k');
  auto r = mdns_build_response(kService, name, addrs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();

  // Header: ID 0, QR|AA, no question, one answer, one additional record.
  EXPECT_EQ(to_hex(ByteSpan(r->data(), 12)), "000084000000000100000001");

  auto peers = mdns_parse_response(*r, kService);
  ASSERT_TRUE(peers.ok()) << peers.error().to_string();
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].first, id);
  std::vector<Multiaddr> want = {ma("/ip4/192.168.1.10/tcp/4001"), ma("/ip6/fe80::1/tcp/4001"),
                                 ma("/ip4/192.168.1.10/udp/4001/quic-v1")};
  EXPECT_EQ((*peers)[0].second, want);

  // Another service name sees nobody; the PTR owner is matched case-insensitively.
  auto other = mdns_parse_response(*r, "_other._udp.local");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  auto upper = mdns_parse_response(*r, "_P2P._UDP.LOCAL");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->size(), 1u);
}

TEST(MdnsTest, ResponseBuildErrors) {
  std::string p2p = "/p2p/" + new_peer().to_string();
  std::vector<std::string> one = {"/ip4/10.0.0.1/tcp/1" + p2p};
  for (const std::string& bad : std::vector<std::string>{"", std::string(64, 'a'), "a.b", "a b"}) {
    auto r = mdns_build_response(kService, bad, one);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(mdns_build_response(kService, std::string(63, 'a'), one).ok());
  EXPECT_EQ(mdns_build_response(kService, "abc", {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(mdns_build_response("", "abc", one).error().code(), ErrorCode::kInvalidArgument);

  // "dnsaddr=" + value must fit one 255-byte TXT string.
  std::string max(255 - 8, 'x'), over(256 - 8, 'x');
  EXPECT_TRUE(mdns_build_response(kService, "abc", {max}).ok());
  EXPECT_EQ(mdns_build_response(kService, "abc", {over}).error().code(), ErrorCode::kInvalidArgument);

  // More than kMdnsMaxPacket bytes in total.
  std::vector<std::string> many(40, max);
  auto big = mdns_build_response(kService, "abc", many);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::kLimitExceeded);
}

// js-libp2p's shape: PTR and one TXT record per address, all in the answer
// section; plus a duplicate address and strings that are not usable dnsaddrs.
TEST(MdnsTest, SeveralTxtRecordsInAnswers) {
  PeerId id = new_peer();
  std::string p2p = "/p2p/" + id.to_string();
  std::string instance = "abcdefghijklmnopqrstuvwxyz0123456789." + std::string(kService);
  std::vector<std::string> txts = {
      "dnsaddr=/ip4/10.0.0.5/tcp/4001" + p2p,
      "dnsaddr=/ip4/127.0.0.1/tcp/4001" + p2p,
      "DNSADDR=/ip6/::1/tcp/4002" + p2p,         // key is case-insensitive
      "dnsaddr=/ip4/10.0.0.5/tcp/4001" + p2p,    // duplicate
      "dnsaddr=/ip4/10.0.0.6/tcp/4001",          // no /p2p: skipped
      "dnsaddr=/ip4/10.0.0.7/tcp/nope" + p2p,    // bad multiaddr: skipped
      "dnsaddr=" + p2p,                          // nothing but /p2p: skipped
      "foo=bar",                                 // other keys: skipped
      "dnsaddr=",
  };
  DnsWriter w(0x8400, 0, static_cast<uint16_t>(1 + txts.size()), 0, 0);
  w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes(instance));
  for (const auto& t : txts) w.rr(instance, kTxt, kIn, 120, DnsWriter::txt({t}));
  auto peers = mdns_parse_response(w.out, kService);
  ASSERT_TRUE(peers.ok()) << peers.error().to_string();
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].first, id);
  std::vector<Multiaddr> want = {ma("/ip4/10.0.0.5/tcp/4001"), ma("/ip4/127.0.0.1/tcp/4001"), ma("/ip6/::1/tcp/4002")};
  EXPECT_EQ((*peers)[0].second, want);
}

// go-libp2p's shape (zeroconf): PTR in answers; SRV, one multi-string TXT and
// A in the additional section, with the cache-flush bit set on the class.
// Also: two peers in one packet, and TXT records of an instance no PTR names.
TEST(MdnsTest, TxtInAdditionalsAndSeveralPeers) {
  PeerId a = new_peer(), b = new_peer(), stranger = new_peer();
  std::string ia = "peera." + std::string(kService), ib = "PEERB." + std::string(kService);
  DnsWriter w(0x8400, 0, 2, 0, 5);
  w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes(ia));
  w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes("peerb." + std::string(kService)));
  Bytes srv = {0, 0, 0, 0, 0x0f, 0xa1};
  append(srv, DnsWriter::name_bytes("host.local"));
  w.rr(ia, kSrv, 0x8000 | kIn, 120, srv);
  w.rr(ia, kTxt, 0x8000 | kIn, 120,
       DnsWriter::txt({"dnsaddr=/ip4/192.168.0.2/tcp/4001/p2p/" + a.to_string(),
                       "dnsaddr=/ip4/192.168.0.2/udp/4001/quic-v1/p2p/" + a.to_string()}));
  w.rr(ib, kTxt, kIn, 120, DnsWriter::txt({"dnsaddr=/ip4/192.168.0.3/tcp/4001/p2p/" + b.to_string()}));
  w.rr("unnamed." + std::string(kService), kTxt, kIn, 120,
       DnsWriter::txt({"dnsaddr=/ip4/192.168.0.9/tcp/4001/p2p/" + stranger.to_string()}));
  w.rr("host.local", kA, 0x8000 | kIn, 120, {192, 168, 0, 2});
  auto peers = mdns_parse_response(w.out, kService);
  ASSERT_TRUE(peers.ok()) << peers.error().to_string();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].first, a);
  EXPECT_EQ((*peers)[0].second,
            (std::vector<Multiaddr>{ma("/ip4/192.168.0.2/tcp/4001"), ma("/ip4/192.168.0.2/udp/4001/quic-v1")}));
  EXPECT_EQ((*peers)[1].first, b);
  EXPECT_EQ((*peers)[1].second, std::vector<Multiaddr>{ma("/ip4/192.168.0.3/tcp/4001")});
}

TEST(MdnsTest, GoodbyeAndUnrelatedRecordsAnnounceNobody) {
  PeerId id = new_peer();
  std::string instance = "x." + std::string(kService);
  std::string txt = "dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/" + id.to_string();
  auto parse_count = [](const Bytes& pkt) {
    auto r = mdns_parse_response(pkt, kService);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? r->size() : size_t{999};
  };
  {  // TTL 0 on the PTR: a goodbye.
    DnsWriter w(0x8400, 0, 2, 0, 0);
    w.rr(kService, kPtr, kIn, 0, DnsWriter::name_bytes(instance));
    w.rr(instance, kTxt, kIn, 120, DnsWriter::txt({txt}));
    EXPECT_EQ(parse_count(w.out), 0u);
  }
  {  // TXT without any PTR.
    DnsWriter w(0x8400, 0, 1, 0, 0);
    w.rr(instance, kTxt, kIn, 120, DnsWriter::txt({txt}));
    EXPECT_EQ(parse_count(w.out), 0u);
  }
  {  // PTR for another service.
    DnsWriter w(0x8400, 0, 2, 0, 0);
    w.rr("_http._tcp.local", kPtr, kIn, 120, DnsWriter::name_bytes(instance));
    w.rr(instance, kTxt, kIn, 120, DnsWriter::txt({txt}));
    EXPECT_EQ(parse_count(w.out), 0u);
  }
  {  // PTR only, in the additional section (answers are required for the PTR).
    DnsWriter w(0x8400, 0, 0, 0, 2);
    w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes(instance));
    w.rr(instance, kTxt, kIn, 120, DnsWriter::txt({txt}));
    EXPECT_EQ(parse_count(w.out), 0u);
  }
}

TEST(MdnsTest, MalformedPacketsAreRejected) {
  auto expect_error = [](const Bytes& pkt, ErrorCode code, const char* what) {
    auto r = mdns_parse_response(pkt, kService);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), code) << what << ": " << r.error().to_string();
  };
  expect_error({}, ErrorCode::kProtocol, "empty");
  expect_error(Bytes(11, 0), ErrorCode::kProtocol, "short header");
  expect_error(Bytes(kMdnsMaxPacket + 1, 0), ErrorCode::kLimitExceeded, "oversized");

  auto q = mdns_build_query(kService);
  ASSERT_TRUE(q.ok());
  expect_error(*q, ErrorCode::kProtocol, "a query");

  {  // Counts promising more records than there are.
    DnsWriter w(0x8400, 0, 5, 0, 0);
    w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes("a." + std::string(kService)));
    expect_error(w.out, ErrorCode::kProtocol, "missing records");
  }
  {  // A compression pointer that points at itself.
    Bytes pkt = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 120, 0, 2, 0xc0, 12};
    expect_error(pkt, ErrorCode::kProtocol, "pointer loop");
  }
  {  // rdlength running past the end.
    DnsWriter w(0x8400, 0, 1, 0, 0);
    w.rr(kService, kTxt, kIn, 120, DnsWriter::txt({"dnsaddr=x"}));
    w.out[w.out.size() - 11] = 0x40;  // rdlength high byte
    expect_error(w.out, ErrorCode::kProtocol, "rdlength");
  }
  {  // Non-zero rcode.
    DnsWriter w(0x8403, 0, 0, 0, 0);
    expect_error(w.out, ErrorCode::kProtocol, "rcode");
  }

  // Every truncation and single-byte corruption of a valid response parses or
  // fails cleanly, and never yields a peer that was not in it.
  PeerId id = new_peer();
  auto r = mdns_build_response(kService, "abcdefghijklmnopqrstuvwxyz012345",
                               {"/ip4/10.1.2.3/tcp/4001/p2p/" + id.to_string(),
                                "/ip4/10.1.2.4/tcp/4001/p2p/" + id.to_string()});
  ASSERT_TRUE(r.ok());
  for (size_t n = 0; n < r->size(); ++n) {
    Bytes cut(r->begin(), r->begin() + static_cast<long>(n));
    auto p = mdns_parse_response(cut, kService);
    if (p.ok()) {
      for (const auto& [peer, addrs] : *p) EXPECT_EQ(peer, id);
    }
    (void)mdns_is_query_for(cut, kService);
  }
  for (size_t i = 0; i < r->size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      Bytes bad = *r;
      bad[i] ^= flip;
      auto p = mdns_parse_response(bad, kService);
      if (p.ok()) {
        for (const auto& [peer, addrs] : *p) EXPECT_LE(addrs.size(), 2u);
      }
      (void)mdns_is_query_for(bad, kService);
    }
  }
}

TEST(MdnsTest, WorkPerPacketIsBounded) {
  // More PTR targets than kMdnsMaxPeersPerPacket, each with a TXT record.
  std::vector<PeerId> ids;
  size_t n = kMdnsMaxPeersPerPacket + 8;
  DnsWriter w(0x8400, 0, static_cast<uint16_t>(2 * n), 0, 0);
  for (size_t i = 0; i < n; ++i) {
    w.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes("p" + std::to_string(i) + "." + kService));
  }
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(new_peer());
    w.rr("p" + std::to_string(i) + "." + kService, kTxt, kIn, 120,
         DnsWriter::txt({"dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/" + ids.back().to_string()}));
  }
  auto peers = mdns_parse_response(w.out, kService);
  ASSERT_TRUE(peers.ok()) << peers.error().to_string();
  EXPECT_EQ(peers->size(), kMdnsMaxPeersPerPacket);

  // More addresses for one peer than kMdnsMaxAddrsPerPeer, over two TXT records.
  PeerId id = new_peer();
  auto strings = [&](const std::string& ip) {
    std::vector<std::string> out;
    for (size_t i = 0; i < 40; ++i) {
      out.push_back("dnsaddr=/ip4/" + ip + "/tcp/" + std::to_string(i + 1) + "/p2p/" + id.to_string());
    }
    return out;
  };
  const std::string x = "x." + std::string(kService);
  DnsWriter w2(0x8400, 0, 3, 0, 0);
  w2.rr(kService, kPtr, kIn, 120, DnsWriter::name_bytes(x));
  w2.rr(x, kTxt, kIn, 120, DnsWriter::txt(strings("10.0.0.1")));
  w2.rr(x, kTxt, kIn, 120, DnsWriter::txt(strings("10.0.0.2")));
  ASSERT_LE(w2.out.size(), kMdnsMaxPacket);
  auto many = mdns_parse_response(w2.out, kService);
  ASSERT_TRUE(many.ok()) << many.error().to_string();
  ASSERT_EQ(many->size(), 1u);
  EXPECT_EQ((*many)[0].second.size(), kMdnsMaxAddrsPerPeer);
}

// ---------------------------------------------------------------- MdnsService

// Tests run the service on loopback only ("lo") with a per-process port, so
// that nothing leaves the host and parallel runs do not hear each other.
MdnsConfig loopback_config() {
  MdnsConfig c;
  c.port = static_cast<uint16_t>(20000 + getpid() % 20000);
  c.interfaces = {"lo"};
  c.query_interval_ms = 500;
  c.min_response_interval_ms = 100;
  return c;
}

TEST(MdnsServiceTest, PeerNameAndAnnouncedAddrs) {
  asio::io_context io;
  PeerId self = new_peer(), other = new_peer();
  std::vector<Multiaddr> listen = {ma("/ip4/0.0.0.0/tcp/4001"), ma("/ip4/127.0.0.1/tcp/4002"),
                                   ma("/ip4/127.0.0.1/tcp/4003/p2p/" + self.to_string()),
                                   ma("/ip4/10.9.9.9/tcp/4004/p2p/" + other.to_string()),
                                   ma("/ip4/127.0.0.1/tcp/4002"),
                                   ma("/dns4/" + std::string(200, 'a') + ".example/tcp/4005")};
  MdnsService svc(io, self, [&] { return listen; }, loopback_config());
  const std::string& name = svc.peer_name();
  EXPECT_GE(name.size(), 32u);
  EXPECT_LE(name.size(), 63u);
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  EXPECT_TRUE(std::all_of(name.begin(), name.end(), lower_alnum)) << name;
  MdnsService svc2(io, self, [&] { return listen; }, loopback_config());
  EXPECT_NE(svc2.peer_name(), name);

  const std::string p2p = "/p2p/" + self.to_string();
  auto addrs = svc.announced_addrs();
  // Explicit loopback addresses stay (once); /p2p/<self> is appended or kept;
  // another peer's address and a too-long one are dropped.
  EXPECT_EQ(std::count(addrs.begin(), addrs.end(), "/ip4/127.0.0.1/tcp/4002" + p2p), 1);
  EXPECT_EQ(std::count(addrs.begin(), addrs.end(), "/ip4/127.0.0.1/tcp/4003" + p2p), 1);
  for (const auto& a : addrs) {
    EXPECT_TRUE(a.ends_with(p2p)) << a;
    EXPECT_EQ(a.find("0.0.0.0"), std::string::npos) << a;
    EXPECT_EQ(a.find("10.9.9.9"), std::string::npos) << a;
    EXPECT_EQ(a.find("/dns4/"), std::string::npos) << a;
    EXPECT_LE(a.size() + 8, kMdnsMaxTxtString) << a;
    // 0.0.0.0 expands to the host's non-loopback addresses only.
    if (a.find("/tcp/4001/") != std::string::npos) {
      EXPECT_EQ(a.find("/ip4/127."), std::string::npos) << a;
    }
  }
}

TEST(MdnsServiceTest, StartErrorsAndStop) {
  asio::io_context io;
  PeerId self = new_peer();
  auto addrs = [] { return std::vector<Multiaddr>{}; };
  {
    MdnsConfig c = loopback_config();
    c.interfaces = {"no-such-interface0"};
    MdnsService svc(io, self, addrs, c);
    auto st = svc.start();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  }
  {
    MdnsConfig c = loopback_config();
    c.multicast_v4 = "10.0.0.1";
    MdnsService svc(io, self, addrs, c);
    EXPECT_EQ(svc.start().error().code(), ErrorCode::kInvalidArgument);
  }
  {
    MdnsConfig c = loopback_config();
    c.service = "bad..service";
    MdnsService svc(io, self, addrs, c);
    EXPECT_EQ(svc.start().error().code(), ErrorCode::kInvalidArgument);
  }
  {  // Started then stopped (and destroyed): nothing is left for the io_context to do.
    MdnsService svc(io, self, addrs, loopback_config());
    ASSERT_TRUE(svc.start().ok());
    EXPECT_EQ(svc.start().error().code(), ErrorCode::kInvalidArgument);
    svc.stop();
    svc.stop();
  }
  {
    MdnsService svc(io, self, addrs, loopback_config());
    ASSERT_TRUE(svc.start().ok());
  }
  auto t0 = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(MdnsServiceTest, TwoServicesDiscoverEachOther) {
  asio::io_context io;
  PeerId a = new_peer(), b = new_peer();
  std::vector<Multiaddr> addrs_a = {ma("/ip4/127.0.0.1/tcp/41001")};
  std::vector<Multiaddr> addrs_b = {ma("/ip4/127.0.0.1/tcp/41002"), ma("/ip4/127.0.0.1/udp/41002/quic-v1")};
  MdnsConfig config = loopback_config();
  MdnsService sa(io, a, [&] { return addrs_a; }, config);
  MdnsService sb(io, b, [&] { return addrs_b; }, config);

  std::optional<std::vector<Multiaddr>> a_saw_b, b_saw_a;
  bool timed_out = false;
  asio::steady_timer deadline(io, std::chrono::seconds(10));
  auto maybe_done = [&] {
    if (a_saw_b && b_saw_a) {
      sa.stop();
      sb.stop();
      deadline.cancel();
    }
  };
  sa.on_peer([&](const PeerId& id, std::vector<Multiaddr> addrs) {
    EXPECT_NE(id, a) << "service reported itself";
    if (id == b) a_saw_b = std::move(addrs);
    maybe_done();
  });
  sb.on_peer([&](const PeerId& id, std::vector<Multiaddr> addrs) {
    EXPECT_NE(id, b) << "service reported itself";
    if (id == a) b_saw_a = std::move(addrs);
    maybe_done();
  });
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    sa.stop();
    sb.stop();
  });
  auto st = sa.start();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  st = sb.start();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  io.run();

  ASSERT_FALSE(timed_out) << "no discovery within 10 s (multicast on lo, port " << config.port << ")";
  ASSERT_TRUE(a_saw_b && b_saw_a);
  EXPECT_EQ(*a_saw_b, addrs_b);
  EXPECT_EQ(*b_saw_a, addrs_a);
}

}  // namespace
}  // namespace syndb::p2p
