#include "p2p/noise/noise.h"

#include "test_util.h"

namespace syndb::p2p {
namespace {

using testing::make_pipe;
using testing::pattern;
using testing::run_all;

using NoiseResult = Result<std::unique_ptr<NoiseConnection>>;

Task<void> handshake(std::unique_ptr<Stream> s, const Ed25519PrivateKey& key, bool initiator,
                     std::optional<PeerId> expected, NoiseResult* out) {
  *out = co_await noise_handshake(std::move(s), key, initiator, expected);
}

struct Pair {
  NoiseResult a = Error(ErrorCode::kInternal, ""), b = Error(ErrorCode::kInternal, "");
};

Pair connect(asio::io_context& io, const Ed25519PrivateKey& ka, const Ed25519PrivateKey& kb,
             std::optional<PeerId> expected) {
  auto [pa, pb] = make_pipe(io);
  Pair p;
  std::vector<Task<void>> tasks;
  tasks.push_back(handshake(std::move(pa), ka, true, expected, &p.a));
  tasks.push_back(handshake(std::move(pb), kb, false, std::nullopt, &p.b));
  run_all(io, std::move(tasks));
  return p;
}

TEST(Noise, HandshakeAuthenticatesBothSides) {
  asio::io_context io;
  auto ka = Ed25519PrivateKey::generate(), kb = Ed25519PrivateKey::generate();
  Pair p = connect(io, ka, kb, PeerId::from_public_key(kb.public_key()));
  ASSERT_TRUE(p.a.ok()) << p.a.error().to_string();
  ASSERT_TRUE(p.b.ok()) << p.b.error().to_string();
  EXPECT_EQ((*p.a)->remote_peer(), PeerId::from_public_key(kb.public_key()));
  EXPECT_EQ((*p.b)->remote_peer(), PeerId::from_public_key(ka.public_key()));
}

TEST(Noise, WrongExpectedPeerIsRefused) {
  asio::io_context io;
  auto ka = Ed25519PrivateKey::generate(), kb = Ed25519PrivateKey::generate();
  auto other = PeerId::from_public_key(Ed25519PrivateKey::generate().public_key());
  Pair p = connect(io, ka, kb, other);
  ASSERT_FALSE(p.a.ok());
  EXPECT_EQ(p.a.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(p.a.error().message().find(other.to_string()), std::string::npos);
}

Task<void> send_and_close(Stream& s, const Bytes& data) {
  EXPECT_TRUE((co_await s.write(data)).ok());
  EXPECT_TRUE((co_await s.close_write()).ok());
}

Task<void> receive_all(Stream& s, Result<Bytes>* out) { *out = co_await read_to_eof(s, 64 << 20); }

TEST(Noise, TransportCarriesLargeWritesAcrossFrames) {
  asio::io_context io;
  auto ka = Ed25519PrivateKey::generate(), kb = Ed25519PrivateKey::generate();
  Pair p = connect(io, ka, kb, std::nullopt);
  ASSERT_TRUE(p.a.ok() && p.b.ok());
  Bytes data = pattern(3 * kNoiseMaxPlaintext + 17, 7);
  Result<Bytes> got = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(send_and_close(**p.a, data));
  tasks.push_back(receive_all(**p.b, &got));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(*got, data);
}

TEST(Noise, SealedFramesAreLengthPrefixedAndBounded) {
  std::array<uint8_t, 32> key{};
  NoiseCipher c(key);
  Bytes out;
  noise_seal_frames(c, Bytes(kNoiseMaxPlaintext + 1, 0), out);
  // Two frames: 65535 bytes then 1 + 16.
  ASSERT_EQ(out.size(), 2 + kNoiseMaxMessage + 2 + 17);
  EXPECT_EQ(out[0], 0xff);
  EXPECT_EQ(out[1], 0xff);
  EXPECT_EQ(out[2 + kNoiseMaxMessage], 0);
  EXPECT_EQ(out[3 + kNoiseMaxMessage], 17);
}

TEST(Noise, TamperedCiphertextFailsAuthentication) {
  std::array<uint8_t, 32> key{};
  key[0] = 1;
  NoiseCipher enc(key), dec(key);
  Bytes out;
  enc.encrypt({}, as_bytes("secret"), out);
  out[0] ^= 1;
  auto r = dec.decrypt_in_place({}, out);
  EXPECT_EQ(r.error().code(), ErrorCode::kProtocol);
}

TEST(Noise, PayloadSignatureMustMatchStaticKey) {
  auto key = Ed25519PrivateKey::generate();
  Bytes static_key(32, 5), other_static(32, 6);
  Bytes payload = noise_encode_payload(key, static_key);
  auto ok = noise_verify_payload(payload, static_key);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, key.public_key());
  EXPECT_EQ(noise_verify_payload(payload, other_static).error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(noise_verify_payload(as_bytes("\xff\xff garbage"), static_key).ok());
}

// Noise transport keys must follow the spec: the same key and nonce sequence
// decrypts what was encrypted, and a replayed (reordered) frame fails.
TEST(Noise, NonceCounterRejectsReplay) {
  std::array<uint8_t, 32> key{};
  NoiseCipher enc(key), dec(key);
  Bytes f1, f2;
  enc.encrypt({}, as_bytes("one"), f1);
  enc.encrypt({}, as_bytes("two"), f2);
  Bytes f1copy = f1;
  ASSERT_TRUE(dec.decrypt_in_place({}, f1).ok());
  EXPECT_FALSE(dec.decrypt_in_place({}, f1copy).ok());
}

}  // namespace
}  // namespace syndb::p2p
