// Varint, multibase, multihash and multiaddr against the multiformats and
// libp2p spec vectors.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/bytes.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/multiformats/multiaddr.h"
#include "p2p/multiformats/multibase.h"
#include "p2p/multiformats/multihash.h"
#include "p2p/multiformats/varint.h"
#include "test_util.h"

namespace syndb::p2p {
namespace {

using testing::hex;

Bytes str_bytes(std::string_view s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }

// ---------------------------------------------------------------- varint

TEST(VarintTest, EncodesMinimally) {
  struct Case {
    uint64_t value;
    const char* hex;
  };
  const Case cases[] = {
      {0, "00"},     {1, "01"},     {127, "7f"},       {128, "8001"},
      {255, "ff01"}, {300, "ac02"}, {16384, "808001"}, {(uint64_t{1} << 63) - 1, "ffffffffffffffff7f"},
  };
  for (const auto& c : cases) {
    Bytes out;
    put_uvarint(out, c.value);
    EXPECT_EQ(to_hex(out), c.hex) << c.value;
    EXPECT_EQ(uvarint_size(c.value), out.size()) << c.value;
    auto back = read_uvarint(out);
    ASSERT_TRUE(back.ok()) << c.value << ": " << back.error().to_string();
    EXPECT_EQ(back->first, c.value);
    EXPECT_EQ(back->second, out.size());
  }
}

TEST(VarintTest, TwoToThe63NeedsTenBytesAndIsRejected) {
  Bytes out;
  put_uvarint(out, uint64_t{1} << 63);
  EXPECT_EQ(to_hex(out), "80808080808080808001");
  EXPECT_EQ(uvarint_size(uint64_t{1} << 63), 10u);
  auto r = read_uvarint(out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kProtocol);
}

TEST(VarintTest, StopsAtTheLastByte) {
  auto r = read_uvarint(hex("01ff"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->second, 1u);
}

TEST(VarintTest, RejectsNonMinimal) {
  for (const char* h : {"8000", "8100", "ff00", "808000", "ffffffffffffffff00"}) {
    auto r = read_uvarint(hex(h));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocol) << h;
  }
}

TEST(VarintTest, RejectsMoreThanNineBytes) {
  for (const char* h : {"808080808080808080", "80808080808080808001", "ffffffffffffffffff01"}) {
    auto r = read_uvarint(hex(h));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocol) << h;
  }
}

TEST(VarintTest, TruncatedIsClosed) {
  for (const char* h : {"", "80", "ff", "8080", "8080808080808080"}) {
    auto r = read_uvarint(hex(h));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kClosed) << h;
    EXPECT_EQ(r.error().message(), "truncated varint");
  }
}

// ---------------------------------------------------------------- multibase

// multiformats/multibase tests/{basic,leading_zero,two_leading_zeros}.csv.
struct MultibaseCase {
  std::string data;
  const char* base58btc;
  const char* base32;
  const char* base32upper;
  const char* base16;
  const char* base16upper;
};

const MultibaseCase kMultibaseCases[] = {
    {"yes mani !", "z7paNL19xttacUY", "bpfsxgidnmfxgsibb", "BPFSXGIDNMFXGSIBB", "f796573206d616e692021",
     "F796573206D616E692021"},
    {std::string("\0yes mani !", 11), "z17paNL19xttacUY", "bab4wk4zanvqw42jaee", "BAB4WK4ZANVQW42JAEE",
     "f00796573206d616e692021", "F00796573206D616E692021"},
    {std::string("\0\0yes mani !", 12), "z117paNL19xttacUY", "baaahszltebwwc3tjeaqq", "BAAAHSZLTEBWWC3TJEAQQ",
     "f0000796573206d616e692021", "F0000796573206D616E692021"},
};

TEST(MultibaseTest, SpecVectorsEncode) {
  for (const auto& c : kMultibaseCases) {
    const Bytes data = str_bytes(c.data);
    EXPECT_EQ(multibase_encode('z', data), c.base58btc);
    EXPECT_EQ(multibase_encode('b', data), c.base32);
    EXPECT_EQ(multibase_encode('f', data), c.base16);
    EXPECT_EQ(base58btc_encode(data), std::string(c.base58btc).substr(1));
    EXPECT_EQ(base32_encode(data), std::string(c.base32).substr(1));
  }
}

TEST(MultibaseTest, SpecVectorsDecode) {
  for (const auto& c : kMultibaseCases) {
    const Bytes data = str_bytes(c.data);
    for (const char* text : {c.base58btc, c.base32, c.base32upper, c.base16, c.base16upper}) {
      auto r = multibase_decode(text);
      ASSERT_TRUE(r.ok()) << text << ": " << r.error().to_string();
      EXPECT_EQ(*r, data) << text;
    }
    auto b58 = base58btc_decode(std::string(c.base58btc).substr(1));
    ASSERT_TRUE(b58.ok());
    EXPECT_EQ(*b58, data);
    auto b32 = base32_decode(std::string(c.base32upper).substr(1));
    ASSERT_TRUE(b32.ok());
    EXPECT_EQ(*b32, data);
  }
}

// multiformats/multibase tests/case_insensitivity.csv. (Its header line says
// "yes mani !", but every row encodes "hello world".)
TEST(MultibaseTest, CaseInsensitivity) {
  const Bytes hello = str_bytes("hello world");
  for (const char* text :
       {"f68656c6c6f20776F726C64", "F68656c6c6f20776F726C64", "bnbswy3dpeB3W64TMMQ", "Bnbswy3dpeB3W64TMMQ"}) {
    auto r = multibase_decode(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().to_string();
    EXPECT_EQ(*r, hello) << text;
  }
}

TEST(MultibaseTest, EmptyAndZeroInputs) {
  EXPECT_EQ(base58btc_encode({}), "");
  EXPECT_EQ(base32_encode({}), "");
  EXPECT_EQ(base58btc_encode(Bytes{0, 0}), "11");
  auto zeros = base58btc_decode("11");
  ASSERT_TRUE(zeros.ok());
  EXPECT_EQ(*zeros, (Bytes{0, 0}));
  auto empty = multibase_decode("z");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(multibase_encode('b', {}), "b");
}

TEST(MultibaseTest, RandomRoundTrips) {
  std::mt19937 rng(42);
  for (size_t len = 0; len < 80; ++len) {
    Bytes data(len);
    for (auto& b : data) b = static_cast<uint8_t>(rng() % (len % 3 == 0 ? 4 : 256));  // some zero runs
    auto b58 = base58btc_decode(base58btc_encode(data));
    ASSERT_TRUE(b58.ok());
    EXPECT_EQ(*b58, data);
    auto b32 = base32_decode(base32_encode(data));
    ASSERT_TRUE(b32.ok());
    EXPECT_EQ(*b32, data);
    for (char prefix : {'z', 'b', 'f'}) {
      auto m = multibase_decode(multibase_encode(prefix, data));
      ASSERT_TRUE(m.ok()) << prefix;
      EXPECT_EQ(*m, data) << prefix;
    }
  }
}

TEST(MultibaseTest, RejectsBadInput) {
  for (const char* text : {"0", "O", "I", "l", "abc+", "z z"}) {
    auto r = base58btc_decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  for (const char* text : {"a", "abc", "abcdef", "ab1", "ab==", "aaaaaaaa=", "bb"}) {
    auto r = base32_decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  for (const char* text : {"", "mZm9v", "u", "f0", "fzz", "b1"}) {
    auto r = multibase_decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(multibase_encode('m', str_bytes("x")), "");
}

// ---------------------------------------------------------------- multihash

TEST(MultihashTest, Sha256Nist) {
  // FIPS 180-2 appendix B.1: SHA-256("abc").
  const Multihash mh = Multihash::sha2_256(as_bytes("abc"));
  EXPECT_EQ(mh.code, Multihash::kSha2_256);
  EXPECT_EQ(to_hex(mh.digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(mh.encode()), "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(Multihash::sha2_256({}).digest),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto back = Multihash::decode(mh.encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, mh);
}

TEST(MultihashTest, Identity) {
  EXPECT_EQ(to_hex(Multihash::identity({}).encode()), "0000");
  EXPECT_EQ(to_hex(Multihash::identity(as_bytes("hi")).encode()), "00026869");
  Bytes big(200, 7);
  const Bytes enc = Multihash::identity(big).encode();
  EXPECT_EQ(to_hex(ByteSpan(enc).first(3)), "00c801");
  auto back = Multihash::decode(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->digest, big);
}

TEST(MultihashTest, RejectsMalformed) {
  for (const char* h : {"", "12", "1220", "122000", "12210000", "80", "0001", "000100ff", "8000", "0080"}) {
    auto r = Multihash::decode(hex(h));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocol) << h;
  }
}

// ---------------------------------------------------------------- multiaddr

constexpr const char* kSpecPeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
constexpr const char* kSpecPeerMultihash =
    "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

TEST(MultiaddrTest, SpecVectorIp4Tcp) {
  // multiformats/multiaddr test/multiaddr.feature.
  auto ma = Multiaddr::from_string("/ip4/192.0.2.42/tcp/443");
  ASSERT_TRUE(ma.ok()) << ma.error().to_string();
  EXPECT_EQ(to_hex(ma->bytes()), "04c000022a0601bb");
  EXPECT_EQ(ma->bytes().size(), 8u);

  auto packed = Multiaddr::from_bytes(hex("04c000022a0601bb"));
  ASSERT_TRUE(packed.ok()) << packed.error().to_string();
  EXPECT_EQ(packed->to_string(), "/ip4/192.0.2.42/tcp/443");
  EXPECT_EQ(packed->to_string().size(), 23u);
  EXPECT_EQ(*packed, *ma);

  const auto components = packed->components();
  ASSERT_EQ(components.size(), 2u);
  EXPECT_EQ(components[0].code, multicodec::kIp4);
  EXPECT_EQ(to_hex(components[0].value), "c000022a");
  EXPECT_EQ(components[1].code, multicodec::kTcp);
  EXPECT_EQ(to_hex(components[1].value), "01bb");
}

TEST(MultiaddrTest, QuicV1WithPeerIdVector) {
  const std::string text = std::string("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/") + kSpecPeerId;
  auto ma = Multiaddr::from_string(text);
  ASSERT_TRUE(ma.ok()) << ma.error().to_string();
  EXPECT_EQ(to_hex(ma->bytes()), std::string("047f00000191020fa1cd03a50326") + kSpecPeerMultihash);
  EXPECT_EQ(ma->to_string(), text);
  const auto components = ma->components();
  ASSERT_EQ(components.size(), 4u);
  EXPECT_EQ(components[2].code, multicodec::kQuicV1);
  EXPECT_TRUE(components[2].value.empty());
  EXPECT_EQ(components[3].code, multicodec::kP2p);
  EXPECT_EQ(to_hex(components[3].value), kSpecPeerMultihash);
  ASSERT_TRUE(ma->peer_id().has_value());
  EXPECT_EQ(ma->peer_id()->to_string(), kSpecPeerId);
  EXPECT_EQ(ma->without_peer_id().to_string(), "/ip4/127.0.0.1/udp/4001/quic-v1");
}

// Every supported protocol: text -> bytes -> text and bytes -> text -> bytes.
TEST(MultiaddrTest, RoundTripsEveryProtocol) {
  const std::string pid = kSpecPeerId;
  const char* qm = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
  const std::vector<std::string> cases = {
      "/ip4/0.0.0.0/tcp/0",
      "/ip4/255.255.255.255/udp/65535",
      "/ip6/::1/tcp/4001",
      "/ip6/::/udp/1",
      "/ip6/2001:db8::1/tcp/80/ws",
      "/ip6/fe80::1:2:3:4/udp/4001/quic-v1",
      "/ip6/::ffff:1.2.3.4/tcp/5",
      "/dns/example.com/tcp/443/wss",
      "/dns4/bootstrap.libp2p.io/tcp/4001/p2p/" + pid,
      "/dns6/v6.example.org/udp/443/quic-v1",
      "/dnsaddr/bootstrap.libp2p.io/p2p/" + std::string(qm),
      "/dns/b\xc3\xbc\x63her.example/tcp/1",
      "/ip4/1.2.3.4/udp/1/quic",
      "/ip4/1.2.3.4/tcp/1/tls",
      "/ip4/1.2.3.4/tcp/1/noise",
      "/p2p/" + pid,
      "/p2p/" + std::string(qm),
      "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(qm) + "/p2p-circuit/p2p/" + pid,
      "/p2p-circuit",
  };
  for (const auto& text : cases) {
    auto ma = Multiaddr::from_string(text);
    ASSERT_TRUE(ma.ok()) << text << ": " << ma.error().to_string();
    EXPECT_EQ(ma->to_string(), text);
    auto back = Multiaddr::from_bytes(ma->bytes());
    ASSERT_TRUE(back.ok()) << text << ": " << back.error().to_string();
    EXPECT_EQ(*back, *ma);
    EXPECT_EQ(back->to_string(), text);
  }
}

TEST(MultiaddrTest, Ip6CanonicalForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"/ip6/2001:0db8:0000:0000:0000:0000:0000:0001", "/ip6/2001:db8::1"},
      {"/ip6/2001:DB8::1", "/ip6/2001:db8::1"},
      {"/ip6/2001:db8:0:1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1"},  // RFC 5952 4.2.2: single 0 stays
      {"/ip6/2001:0:0:1:0:0:0:1", "/ip6/2001:0:0:1::1"},           // 4.2.3: longest run
      {"/ip6/2001:db8:0:0:1:0:0:1", "/ip6/2001:db8::1:0:0:1"},     // 4.2.3: first of equal runs
      {"/ip6/0:0:0:0:0:0:0:0", "/ip6/::"},
      {"/ip6/1:0:0:0:0:0:0:0", "/ip6/1::"},
      {"/ip6/::ffff:0102:0304", "/ip6/::ffff:1.2.3.4"},  // section 5: v4-mapped
      {"/ip6/::102:304", "/ip6/::102:304"},              // not the deprecated ::1.2.3.4
  };
  for (const auto& [in, out] : cases) {
    auto ma = Multiaddr::from_string(in);
    ASSERT_TRUE(ma.ok()) << in << ": " << ma.error().to_string();
    EXPECT_EQ(ma->to_string(), out) << in;
  }
}

TEST(MultiaddrTest, AliasesAndLenientInput) {
  const std::string pid = kSpecPeerId;
  auto ipfs = Multiaddr::from_string("/ip4/1.2.3.4/tcp/1/ipfs/" + pid);
  ASSERT_TRUE(ipfs.ok()) << ipfs.error().to_string();
  EXPECT_EQ(ipfs->to_string(), "/ip4/1.2.3.4/tcp/1/p2p/" + pid);

  auto cid = Multiaddr::from_string("/p2p/bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");
  ASSERT_TRUE(cid.ok()) << cid.error().to_string();
  EXPECT_EQ(cid->to_string(), "/p2p/" + pid);

  auto trailing = Multiaddr::from_string("/ip4/1.2.3.4/tcp/1/");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(trailing->to_string(), "/ip4/1.2.3.4/tcp/1");

  auto port = Multiaddr::from_string("/tcp/0080");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->to_string(), "/tcp/80");
}

TEST(MultiaddrTest, EncapsulateAndPeerId) {
  const std::string relay = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
  auto base = Multiaddr::from_string("/ip4/1.2.3.4/tcp/1");
  auto p2p = Multiaddr::from_string(std::string("/p2p/") + kSpecPeerId);
  ASSERT_TRUE(base.ok() && p2p.ok());
  EXPECT_FALSE(base->peer_id().has_value());
  EXPECT_EQ(base->without_peer_id(), *base);

  const Multiaddr full = base->encapsulate(*p2p);
  EXPECT_EQ(full.to_string(), std::string("/ip4/1.2.3.4/tcp/1/p2p/") + kSpecPeerId);
  ASSERT_TRUE(full.peer_id().has_value());
  EXPECT_EQ(full.peer_id()->to_string(), kSpecPeerId);
  EXPECT_EQ(full.without_peer_id(), *base);

  auto circuit = Multiaddr::from_string("/ip4/1.2.3.4/tcp/1/p2p/" + relay + "/p2p-circuit");
  ASSERT_TRUE(circuit.ok());
  EXPECT_FALSE(circuit->peer_id().has_value());  // the relay is not the address's peer
  EXPECT_EQ(circuit->without_peer_id(), *circuit);
  const Multiaddr target = circuit->encapsulate(*p2p);
  ASSERT_TRUE(target.peer_id().has_value());
  EXPECT_EQ(target.peer_id()->to_string(), kSpecPeerId);
  EXPECT_EQ(target.without_peer_id(), *circuit);

  EXPECT_EQ(p2p->without_peer_id(), Multiaddr());
  EXPECT_TRUE(Multiaddr().empty());
  EXPECT_EQ(Multiaddr().to_string(), "");
  EXPECT_TRUE(Multiaddr().components().empty());
  EXPECT_EQ(Multiaddr().encapsulate(*base), *base);
}

TEST(MultiaddrTest, RejectsBadStrings) {
  const std::string pid = kSpecPeerId;
  const std::vector<std::string> cases = {
      "",
      "/",
      "//",
      "ip4/1.2.3.4",
      "/ip4",
      "/ip4/",
      "/ip4/1.2.3",
      "/ip4/256.0.0.1",
      "/ip4/1.2.3.4.5",
      "/ip4/::1",
      "/ip6/1.2.3.4",
      "/ip6/fe80::1%eth0",
      "/ip6/::1:",
      "/tcp",
      "/tcp/65536",
      "/tcp/-1",
      "/tcp/+1",
      "/tcp/1a",
      "/tcp/123456",
      "/udp/ 1",
      "/ip4/1.2.3.4//tcp/1",
      "/ip4/1.2.3.4/tcp/1//",
      "/foo/1",
      "/IP4/1.2.3.4",
      "/dns",
      "/dns/",
      "/dns4/a\xff",
      "/p2p",
      "/p2p/notapeerid",
      "/p2p/12D3KooW",
      "/p2p/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",  // CID codec dag-pb, not 0x72
      "/ip4/1.2.3.4/tcp/1/p2p/" + pid + "/tcp",
      std::string("/ip4/1.2.3.4\0/tcp/1", 19),
  };
  for (const auto& text : cases) {
    auto ma = Multiaddr::from_string(text);
    ASSERT_FALSE(ma.ok()) << "accepted " << text << " as " << ma->to_string();
    EXPECT_EQ(ma.error().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_FALSE(ma.error().message().empty());
  }
  auto r = Multiaddr::from_string("/ip4/1.2.3.4/tcp/99999");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("tcp"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("99999"), std::string::npos) << r.error().message();
  auto missing = Multiaddr::from_string("/ip4/1.2.3.4/udp");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("missing value for /udp"), std::string::npos);
}

TEST(MultiaddrTest, RejectsBadBytes) {
  const char* cases[] = {
      "",                      // empty
      "21",                    // dccp: unknown to us
      "8400",                  // non-minimal code varint
      "80",                    // truncated code varint
      "04c00002",              // truncated ip4
      "04c000022a06",          // tcp without port
      "0601",                  // truncated port
      "29000000",              // truncated ip6
      "35",                    // dns without length
      "3505616263",            // dns length beyond buffer
      "3500",                  // empty dns name
      "35012f",                // '/' in dns name
      "3501ff",                // invalid UTF-8
      "3502c0af",              // overlong UTF-8
      "a503",                  // p2p without length
      "a5030400000000",        // identity multihash length mismatch
      "a503021200",            // sha2-256 with empty digest
      "a50303130100",          // unsupported multihash code (sha2-512)
      "ff7f",                  // unknown large code
      "ffffffffffffffffff01",  // 10-byte code varint
  };
  for (const char* h : cases) {
    auto ma = Multiaddr::from_bytes(hex(h));
    ASSERT_FALSE(ma.ok()) << "accepted " << h;
    EXPECT_EQ(ma.error().code(), ErrorCode::kProtocol) << h;
  }
  // A valid multiaddr followed by garbage.
  auto tail = Multiaddr::from_bytes(hex("04c000022a0601bb00"));
  ASSERT_FALSE(tail.ok());
  EXPECT_EQ(tail.error().code(), ErrorCode::kProtocol);
}

TEST(MultiaddrMemory, TextAndBinaryRoundTrip) {
  auto m = Multiaddr::from_string("/memory/1234");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(to_hex(m->bytes()), "890600000000000004d2");  // varint(0x0309), u64 big-endian
  auto back = Multiaddr::from_bytes(m->bytes());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->to_string(), "/memory/1234");
  EXPECT_EQ(Multiaddr::from_string("/memory/18446744073709551615")->to_string(), "/memory/18446744073709551615");
  EXPECT_FALSE(Multiaddr::from_string("/memory/18446744073709551616").ok());
  EXPECT_FALSE(Multiaddr::from_string("/memory/x1").ok());
  EXPECT_FALSE(Multiaddr::from_bytes(hex("8906000000")).ok());  // truncated value
}

}  // namespace
}  // namespace syndb::p2p
