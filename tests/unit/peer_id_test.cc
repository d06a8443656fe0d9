// Keys, peer IDs and key files against libp2p/specs peer-ids/peer-ids.md.
#include "p2p/crypto/peer_id.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unordered_set>

#include "common/bytes.h"
#include "crypto.pb.h"
#include "p2p/crypto/keys.h"
#include "p2p/multiformats/multihash.h"
#include "test_fs.h"
#include "test_util.h"

namespace syndb::p2p {
namespace {

using testing::hex;

// peer-ids.md "Test vectors".
constexpr const char* kEd25519Private =
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3"
    "b34b87"
    "1c3cacf6010f0e42d474fce27e";
constexpr const char* kEd25519Public =
    "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr const char* kSecp256k1Private =
    "0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56CED8FB";
constexpr const char* kSecp256k1Public =
    "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99";
constexpr const char* kEcdsaPublic =
    "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83abab44abf3161f"
    "162a4b"
    "c901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62";
constexpr const char* kRsaPublic =
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200bde24eef00d04"
    "9449b0"
    "7770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9880089704a94e5066d594162ae6ee8"
    "892e6e"
    "c70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c309bc0ab3aeb1873282bebd3da03c33e76c21e9beb"
    "172fd4"
    "4c9e43be32e2c99827033cf8d0f0c606f4579326c930eb4e854395ad941256542c793902185153c474bed109d6ff5141ebf9cd25"
    "6cf588"
    "93a37f83729f97e7cb435ec679d2e33901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487047a9ecb1ad41fa7ed84f6e3"
    "e8ecd5"
    "d98b3982d2a901b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef38111b1bd87da2ae92438a2c8cbcc70b3"
    "1ee319"
    "939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbddebf90acb32adb5e4e4029f1c96019949ecfb"
    "feffd7"
    "ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39f7fa4b93411f4cc175e70c0a083e96bfaefb04a9580b47"
    "53c173"
    "8a6a760ae1afd851a1a4bdad231cf56e9284d832483df215a46c1c21bdf0c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc"
    "90ad31"
    "7e4875fe648101b0864097e998f0ca3025ef9638cd2b0caecd3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd47522426"
    "9bbe1b"
    "0203010001";

// Derived in libp2p-map.md from the Ed25519 vector (cross-checked with js-libp2p).
constexpr const char* kEd25519PeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
constexpr const char* kEd25519PeerCid = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6";
constexpr const char* kEd25519PeerMultihash =
    "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

// ---------------------------------------------------------------- keys

TEST(KeysTest, SpecEd25519PrivateKeyDecodes) {
  auto key = Ed25519PrivateKey::decode(hex(kEd25519Private));
  ASSERT_TRUE(key.ok()) << key.error().to_string();
  EXPECT_EQ(to_hex(key->seed()), "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d");
  // The public key derived from the private key is the spec's public key.
  EXPECT_EQ(to_hex(key->public_key().encode()), kEd25519Public);
  // Encoding round-trips byte for byte.
  EXPECT_EQ(to_hex(key->encode()), kEd25519Private);
  // from_seed derives the same pair.
  auto from_seed = Ed25519PrivateKey::from_seed(key->seed());
  ASSERT_TRUE(from_seed.ok());
  EXPECT_EQ(*from_seed, *key);
}

TEST(KeysTest, SpecPublicKeysRoundTrip) {
  const std::pair<const char*, KeyType> cases[] = {
      {kEd25519Public, KeyType::kEd25519},
      {kSecp256k1Public, KeyType::kSecp256k1},
      {kEcdsaPublic, KeyType::kEcdsa},
      {kRsaPublic, KeyType::kRsa},
  };
  for (const auto& [h, type] : cases) {
    auto key = PublicKey::decode(hex(h));
    ASSERT_TRUE(key.ok()) << h << ": " << key.error().to_string();
    EXPECT_EQ(key->type, type);
    EXPECT_EQ(to_hex(key->encode()), h);
  }
  auto ed = PublicKey::decode(hex(kEd25519Public));
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(to_hex(ed->data), "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
}

TEST(KeysTest, RsaTypeZeroIsEncoded) {
  const PublicKey key{KeyType::kRsa, Bytes{1, 2, 3}};
  EXPECT_EQ(to_hex(key.encode()), "08001203010203");
  const PublicKey empty{KeyType::kRsa, Bytes{}};
  EXPECT_EQ(to_hex(empty.encode()), "08001200");
}

TEST(KeysTest, RejectsMalformedPublicKeys) {
  const char* cases[] = {
      "",                // nothing
      "0801",            // no Data
      "12020102",        // no Type
      "080912020102",    // unknown Type 9
      "080112030102",    // Data shorter than its length
      "08011203010203",  // Ed25519 with a 3-byte key
      "0801122001",      // truncated Data
      "ff",              // not a protobuf
  };
  for (const char* h : cases) {
    auto r = PublicKey::decode(hex(h));
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocol) << h;
  }
}

TEST(KeysTest, SignAndVerify) {
  const auto key = Ed25519PrivateKey::generate();
  const Bytes msg = {'h', 'e', 'l', 'l', 'o'};
  const Bytes sig = key.sign(msg);
  ASSERT_EQ(sig.size(), 64u);
  const PublicKey pub = key.public_key();
  EXPECT_TRUE(pub.verify(msg, sig));
  Bytes bad_sig = sig;
  bad_sig[10] ^= 1;
  EXPECT_FALSE(pub.verify(msg, bad_sig));
  EXPECT_FALSE(pub.verify(Bytes{'h', 'e', 'l', 'l', '0'}, sig));
  EXPECT_FALSE(pub.verify(msg, ByteSpan(sig).first(63)));
  EXPECT_FALSE(Ed25519PrivateKey::generate().public_key().verify(msg, sig));
  // Non-Ed25519 keys are not supported for verification.
  auto secp = PublicKey::decode(hex(kSecp256k1Public));
  ASSERT_TRUE(secp.ok());
  EXPECT_FALSE(secp->verify(msg, sig));
}

TEST(KeysTest, Rfc8032TestVector1) {
  auto key =
      Ed25519PrivateKey::from_seed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(to_hex(key->public_key().data),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Bytes sig = key->sign({});
  EXPECT_EQ(
      to_hex(sig),
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5"
      "f0595bbe24655141438e7a100b");
  EXPECT_TRUE(key->public_key().verify({}, sig));
}

TEST(KeysTest, GenerateAndSeed) {
  const auto a = Ed25519PrivateKey::generate();
  const auto b = Ed25519PrivateKey::generate();
  EXPECT_FALSE(a == b);
  EXPECT_NE(a.public_key(), b.public_key());
  auto a2 = Ed25519PrivateKey::decode(a.encode());
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(*a2, a);
  const Ed25519PrivateKey copy = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy, a);
  auto bad = Ed25519PrivateKey::from_seed(Bytes(31));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

Bytes private_key_pb(pb::KeyType type, const Bytes& data) {
  pb::PrivateKey msg;
  msg.set_type(type);
  msg.set_data(data.data(), data.size());
  std::string s = msg.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

TEST(KeysTest, LegacyAndInconsistentPrivateKeys) {
  const Bytes spec = hex(kEd25519Private);
  const Bytes raw(spec.begin() + 4, spec.end());  // 64-byte seed || pub
  ASSERT_EQ(raw.size(), 64u);

  Bytes legacy = raw;
  legacy.insert(legacy.end(), raw.begin() + 32, raw.end());
  auto ok = Ed25519PrivateKey::decode(private_key_pb(pb::Ed25519, legacy));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(to_hex(ok->encode()), kEd25519Private);  // re-encoded in the 64-byte form

  Bytes legacy_bad = legacy;
  legacy_bad[95] ^= 1;
  auto r1 = Ed25519PrivateKey::decode(private_key_pb(pb::Ed25519, legacy_bad));
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), ErrorCode::kInvalidArgument);

  Bytes wrong_pub = raw;
  wrong_pub[63] ^= 1;
  auto r2 = Ed25519PrivateKey::decode(private_key_pb(pb::Ed25519, wrong_pub));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::kInvalidArgument);

  auto r3 = Ed25519PrivateKey::decode(private_key_pb(pb::Ed25519, Bytes(32, 1)));
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code(), ErrorCode::kInvalidArgument);

  auto r4 = Ed25519PrivateKey::decode(hex(kSecp256k1Private));
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code(), ErrorCode::kUnsupported);

  auto r5 = Ed25519PrivateKey::decode(hex("0801"));
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.error().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------- peer ids

TEST(PeerIdTest, SpecEd25519KeyDerivedValues) {
  auto pub = PublicKey::decode(hex(kEd25519Public));
  ASSERT_TRUE(pub.ok());
  const PeerId id = PeerId::from_public_key(*pub);
  EXPECT_EQ(to_hex(id.bytes()), kEd25519PeerMultihash);
  EXPECT_EQ(id.to_string(), kEd25519PeerId);
  EXPECT_EQ(id.to_cid_string(), kEd25519PeerCid);

  auto priv = Ed25519PrivateKey::decode(hex(kEd25519Private));
  ASSERT_TRUE(priv.ok());
  EXPECT_EQ(PeerId::from_public_key(priv->public_key()), id);

  for (const char* text : {kEd25519PeerId, kEd25519PeerCid}) {
    auto parsed = PeerId::from_string(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().to_string();
    EXPECT_EQ(*parsed, id);
  }
  auto from_bytes = PeerId::from_bytes(hex(kEd25519PeerMultihash));
  ASSERT_TRUE(from_bytes.ok());
  EXPECT_EQ(*from_bytes, id);

  auto extracted = id.extract_public_key();
  ASSERT_TRUE(extracted.ok()) << extracted.error().to_string();
  EXPECT_EQ(*extracted, *pub);
}

TEST(PeerIdTest, SpecParseOnlyStrings) {
  const char* cid = "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe";
  const char* qm = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
  const char* ed = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

  auto a = PeerId::from_string(cid);
  auto b = PeerId::from_string(qm);
  auto c = PeerId::from_string(ed);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  ASSERT_TRUE(c.ok()) << c.error().to_string();

  // The CID and Qm examples are the same sha2-256 peer ID.
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->to_string(), qm);
  EXPECT_EQ(b->to_cid_string(), cid);
  EXPECT_EQ(to_hex(b->bytes()), "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9");
  auto no_key = b->extract_public_key();
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code(), ErrorCode::kNotFound);

  EXPECT_EQ(c->to_string(), ed);
  auto key = c->extract_public_key();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->type, KeyType::kEd25519);
  EXPECT_EQ(PeerId::from_public_key(*key), *c);
}

TEST(PeerIdTest, KeyTypesPickTheRightMultihash) {
  auto secp = PublicKey::decode(hex(kSecp256k1Public));
  ASSERT_TRUE(secp.ok());
  const PeerId secp_id = PeerId::from_public_key(*secp);
  EXPECT_EQ(secp_id.bytes()[0], Multihash::kIdentity);  // 37 bytes <= 42: inlined
  EXPECT_TRUE(secp_id.to_string().starts_with("16Uiu2")) << secp_id.to_string();
  auto extracted = secp_id.extract_public_key();
  ASSERT_TRUE(extracted.ok());
  EXPECT_EQ(*extracted, *secp);

  for (const char* h : {kEcdsaPublic, kRsaPublic}) {
    auto key = PublicKey::decode(hex(h));
    ASSERT_TRUE(key.ok());
    const PeerId id = PeerId::from_public_key(*key);
    EXPECT_EQ(to_hex(id.bytes()), to_hex(Multihash::sha2_256(hex(h)).encode()));
    EXPECT_TRUE(id.to_string().starts_with("Qm")) << id.to_string();
    auto round = PeerId::from_string(id.to_string());
    ASSERT_TRUE(round.ok());
    EXPECT_EQ(*round, id);
    auto cid = PeerId::from_string(id.to_cid_string());
    ASSERT_TRUE(cid.ok());
    EXPECT_EQ(*cid, id);
    EXPECT_EQ(id.extract_public_key().error().code(), ErrorCode::kNotFound);
  }

  // 42 is the last inlined size, 43 the first hashed one.
  for (size_t data_len = 35; data_len < 42; ++data_len) {
    const PublicKey k{KeyType::kSecp256k1, Bytes(data_len, 1)};
    const size_t encoded = k.encode().size();
    const PeerId id = PeerId::from_public_key(k);
    EXPECT_EQ(id.bytes()[0], encoded <= 42 ? Multihash::kIdentity : Multihash::kSha2_256) << encoded;
  }
}

TEST(PeerIdTest, RejectsBadStrings) {
  const char* cases[] = {
      "",
      "Qm",
      "12D3KooW",
      "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5S0",         // '0' not in base58
      "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5",                // truncated digest
      "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",  // codec dag-pb
      "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xq",    // truncated CID
      "xyz",
      "mAXI",         // base64: unsupported
      "f0172",        // CID without multihash
      "f0272002400",  // CIDv2
  };
  for (const char* text : cases) {
    auto r = PeerId::from_string(text);
    ASSERT_FALSE(r.ok()) << "accepted " << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << text;
  }
}

TEST(PeerIdTest, RejectsBadBytes) {
  Bytes long_identity = {0x00, 43};
  long_identity.resize(2 + 43, 1);
  Bytes short_sha = {0x12, 31};
  short_sha.resize(2 + 31, 1);
  Bytes sha512 = {0x13, 64};
  sha512.resize(2 + 64, 1);
  for (const Bytes& b :
       {Bytes{}, long_identity, short_sha, sha512, Bytes{0x00, 0x01}, Bytes{0x00, 0x00, 0x00}}) {
    auto r = PeerId::from_bytes(b);
    ASSERT_FALSE(r.ok()) << to_hex(b);
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocol) << to_hex(b);
  }
  // An identity multihash whose content is not a PublicKey is a valid ID, but
  // has no extractable key.
  auto odd = PeerId::from_bytes(Bytes{0x00, 0x02, 0xff, 0xff});
  ASSERT_TRUE(odd.ok());
  auto key = odd->extract_public_key();
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code(), ErrorCode::kProtocol);
}

TEST(PeerIdTest, HashOrderAndDefault) {
  const PeerId a = PeerId::from_public_key(Ed25519PrivateKey::generate().public_key());
  const PeerId b = PeerId::from_public_key(Ed25519PrivateKey::generate().public_key());
  std::unordered_set<PeerId> hashed = {a, b, a};
  EXPECT_EQ(hashed.size(), 2u);
  std::set<PeerId> ordered = {a, b, b};
  EXPECT_EQ(ordered.size(), 2u);
  EXPECT_EQ(a < b, a.bytes() < b.bytes());
  EXPECT_EQ(std::hash<PeerId>{}(a), std::hash<PeerId>{}(PeerId::from_bytes(a.bytes()).value()));
  const PeerId empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(a.empty());
  EXPECT_NE(empty, a);
}

// ---------------------------------------------------------------- key files

class KeyFileTest : public test_support::TempDirTest {
 protected:
  KeyFileTest() : TempDirTest("syndb-keyfile-") {}
  std::string path(const char* name) const { return (std::filesystem::path(dir_) / name).string(); }
};

mode_t file_mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST_F(KeyFileTest, SaveLoadRoundTripWithMode0600) {
  const auto key = Ed25519PrivateKey::generate();
  const std::string p = path("identity.key");
  ASSERT_TRUE(save_key_file(p, key).ok());
  EXPECT_EQ(file_mode(p), 0600u);
  auto loaded = load_key_file(p);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(*loaded, key);
  EXPECT_EQ(loaded->public_key(), key.public_key());
  // The file holds exactly the PrivateKey protobuf.
  std::ifstream in(p, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Bytes(content.begin(), content.end()), key.encode());
}

TEST_F(KeyFileTest, RefusesToOverwriteUnlessAsked) {
  const auto first = Ed25519PrivateKey::generate();
  const auto second = Ed25519PrivateKey::generate();
  const std::string p = path("identity.key");
  ASSERT_TRUE(save_key_file(p, first).ok());
  auto refused = save_key_file(p, second);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(load_key_file(p).value(), first);

  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  ASSERT_TRUE(save_key_file(p, second, /*overwrite=*/true).ok());
  EXPECT_EQ(file_mode(p), 0600u);
  EXPECT_EQ(load_key_file(p).value(), second);
}

TEST_F(KeyFileTest, LoadErrors) {
  auto missing = load_key_file(path("nope.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "key file " + path("nope.key") + " does not exist");

  const std::string garbage = path("garbage.key");
  std::ofstream(garbage) << "definitely not a key";
  auto bad = load_key_file(garbage);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find(garbage + " is not a libp2p private key"), std::string::npos)
      << bad.error().message();

  const std::string secp = path("secp.key");
  const Bytes secp_bytes = hex(kSecp256k1Private);
  std::ofstream(secp, std::ios::binary)
      .write(reinterpret_cast<const char*>(secp_bytes.data()),
             static_cast<std::streamsize>(secp_bytes.size()));
  auto unsupported = load_key_file(secp);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().code(), ErrorCode::kUnsupported);

  const std::string spec = path("spec.key");
  const Bytes spec_bytes = hex(kEd25519Private);
  std::ofstream(spec, std::ios::binary)
      .write(reinterpret_cast<const char*>(spec_bytes.data()),
             static_cast<std::streamsize>(spec_bytes.size()));
  auto loaded = load_key_file(spec);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(PeerId::from_public_key(loaded->public_key()).to_string(), kEd25519PeerId);

  auto no_dir = save_key_file(path("missing-dir/identity.key"), loaded.value());
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace syndb::p2p
