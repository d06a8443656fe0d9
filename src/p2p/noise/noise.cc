#include "p2p/noise/noise.h"

#include <sodium.h>

#include <cstring>

#include "noise.pb.h"

namespace syndb::p2p {

namespace {

constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
constexpr std::string_view kStaticKeyPrefix = "noise-libp2p-static-key:";
using Key = std::array<uint8_t, 32>;

void make_nonce(uint64_t n, uint8_t out[12]) {
  std::memset(out, 0, 4);
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<uint8_t>(n >> (8 * i));
}

Key hmac(ByteSpan key, ByteSpan a, ByteSpan b = {}) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, a.data(), a.size());
  if (!b.empty()) crypto_auth_hmacsha256_update(&st, b.data(), b.size());
  Key out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

// HKDF with two outputs (Noise spec §4.3).
std::pair<Key, Key> hkdf2(const Key& ck, ByteSpan ikm) {
  Key temp = hmac(ck, ikm);
  const uint8_t one = 1;
  Key o1 = hmac(temp, ByteSpan(&one, 1));
  const uint8_t two = 2;
  Key o2 = hmac(temp, o1, ByteSpan(&two, 1));
  sodium_memzero(temp.data(), temp.size());
  return {o1, o2};
}

// SymmetricState of the Noise spec §5.2.
class Symmetric {
 public:
  Symmetric() {
    static_assert(kProtocolName.size() == 32);
    std::memcpy(h_.data(), kProtocolName.data(), 32);
    ck_ = h_;
    mix_hash({});  // empty prologue
  }
  void mix_hash(ByteSpan data) {
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, h_.data(), h_.size());
    crypto_hash_sha256_update(&st, data.data(), data.size());
    crypto_hash_sha256_final(&st, h_.data());
  }
  void mix_key(ByteSpan ikm) {
    auto [ck, k] = hkdf2(ck_, ikm);
    ck_ = ck;
    cipher_ = NoiseCipher(k);
    has_key_ = true;
  }
  void encrypt_and_hash(ByteSpan plain, Bytes& out) {
    size_t start = out.size();
    if (has_key_) {
      cipher_.encrypt(h_, plain, out);
    } else {
      append(out, plain);
    }
    mix_hash(ByteSpan(out.data() + start, out.size() - start));
  }
  Result<Bytes> decrypt_and_hash(ByteSpan cipher) {
    Bytes buf(cipher.begin(), cipher.end());
    if (has_key_) {
      SYNDB_ASSIGN_OR_RETURN(size_t n, cipher_.decrypt_in_place(h_, buf));
      buf.resize(n);
    }
    mix_hash(cipher);
    return buf;
  }
  std::pair<NoiseCipher, NoiseCipher> split() const {
    auto [k1, k2] = hkdf2(ck_, {});
    return {NoiseCipher(k1), NoiseCipher(k2)};
  }

 private:
  Key h_{}, ck_{};
  NoiseCipher cipher_;
  bool has_key_ = false;
};

struct KeyPair {
  Key secret, pub;
  static KeyPair generate() {
    KeyPair kp;
    randombytes_buf(kp.secret.data(), kp.secret.size());
    crypto_scalarmult_base(kp.pub.data(), kp.secret.data());
    return kp;
  }
  ~KeyPair() { sodium_memzero(secret.data(), secret.size()); }
};

Result<Key> dh(const KeyPair& local, ByteSpan remote_pub) {
  Key out;
  if (remote_pub.size() != 32 || crypto_scalarmult(out.data(), local.secret.data(), remote_pub.data()) != 0) {
    return Error(ErrorCode::kProtocol, "noise: invalid X25519 public key");
  }
  return out;
}

Task<Status> write_message(Stream& s, ByteSpan msg) {
  if (msg.size() > kNoiseMaxMessage) co_return Error(ErrorCode::kInternal, "noise: handshake message too large");
  Bytes out;
  out.reserve(msg.size() + 2);
  out.push_back(static_cast<uint8_t>(msg.size() >> 8));
  out.push_back(static_cast<uint8_t>(msg.size()));
  append(out, msg);
  co_return co_await s.write(out);
}

Task<Result<Bytes>> read_message(Stream& s) {
  uint8_t len[2];
  SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(s, len));
  Bytes msg(static_cast<size_t>(len[0]) << 8 | len[1]);
  SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(s, msg));
  co_return msg;
}

}  // namespace

void NoiseCipher::encrypt(ByteSpan ad, ByteSpan plain, Bytes& out) {
  uint8_t nonce[12];
  make_nonce(nonce_++, nonce);
  size_t start = out.size();
  out.resize(start + plain.size() + kNoiseTagSize);
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + start, &clen, plain.data(), plain.size(), ad.data(),
                                            ad.size(), nullptr, nonce, key_.data());
}

Result<size_t> NoiseCipher::decrypt_in_place(ByteSpan ad, MutableByteSpan cipher) {
  if (cipher.size() < kNoiseTagSize) return Error(ErrorCode::kProtocol, "noise: message shorter than its tag");
  uint8_t nonce[12];
  make_nonce(nonce_++, nonce);
  unsigned long long plen = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(cipher.data(), &plen, nullptr, cipher.data(), cipher.size(),
                                                ad.data(), ad.size(), nonce, key_.data()) != 0) {
    return Error(ErrorCode::kProtocol, "noise: decryption failed (bad tag)");
  }
  return static_cast<size_t>(plen);
}

void noise_seal_frames(NoiseCipher& cipher, ByteSpan plain, Bytes& out) {
  size_t off = 0;
  do {
    size_t n = std::min(kNoiseMaxPlaintext, plain.size() - off);
    size_t clen = n + kNoiseTagSize;
    out.push_back(static_cast<uint8_t>(clen >> 8));
    out.push_back(static_cast<uint8_t>(clen));
    cipher.encrypt({}, plain.subspan(off, n), out);
    off += n;
  } while (off < plain.size());
}

Bytes noise_encode_payload(const Ed25519PrivateKey& identity, ByteSpan static_public) {
  Bytes to_sign(kStaticKeyPrefix.begin(), kStaticKeyPrefix.end());
  append(to_sign, static_public);
  pb::NoiseHandshakePayload payload;
  Bytes key = identity.public_key().encode();
  Bytes sig = identity.sign(to_sign);
  payload.set_identity_key(key.data(), key.size());
  payload.set_identity_sig(sig.data(), sig.size());
  std::string out = payload.SerializeAsString();
  return Bytes(out.begin(), out.end());
}

Result<PublicKey> noise_verify_payload(ByteSpan payload, ByteSpan remote_static) {
  pb::NoiseHandshakePayload msg;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Error(ErrorCode::kProtocol, "noise: malformed handshake payload");
  }
  if (!msg.has_identity_key() || !msg.has_identity_sig()) {
    return Error(ErrorCode::kProtocol, "noise: handshake payload lacks identity key or signature");
  }
  SYNDB_ASSIGN_OR_RETURN(PublicKey key, PublicKey::decode(as_bytes(msg.identity_key())));
  Bytes signed_msg(kStaticKeyPrefix.begin(), kStaticKeyPrefix.end());
  append(signed_msg, remote_static);
  if (!key.verify(signed_msg, as_bytes(msg.identity_sig()))) {
    return Error(ErrorCode::kPermissionDenied, "noise: identity signature does not verify");
  }
  return key;
}

NoiseConnection::NoiseConnection(std::unique_ptr<Stream> inner, NoiseCipher send, NoiseCipher recv,
                                 PublicKey remote_key)
    : inner_(std::move(inner)), send_(send), recv_(recv), remote_key_(std::move(remote_key)),
      frame_(kNoiseMaxMessage) {}

Task<Result<size_t>> NoiseConnection::read_some(MutableByteSpan buf) {
  if (buf.empty()) co_return size_t{0};
  while (pos_ == end_) {
    uint8_t len[2];
    // A clean EOF is only allowed between frames.
    SYNDB_CO_ASSIGN_OR_RETURN(size_t got, co_await inner_->read_some(MutableByteSpan(len, 1)));
    if (got == 0) co_return size_t{0};
    SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(*inner_, MutableByteSpan(len + 1, 1)));
    size_t clen = static_cast<size_t>(len[0]) << 8 | len[1];
    MutableByteSpan cipher(frame_.data(), clen);
    SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(*inner_, cipher));
    SYNDB_CO_ASSIGN_OR_RETURN(size_t plen, recv_.decrypt_in_place({}, cipher));
    pos_ = 0;
    end_ = plen;
  }
  size_t n = std::min(buf.size(), end_ - pos_);
  std::memcpy(buf.data(), frame_.data() + pos_, n);
  pos_ += n;
  co_return n;
}

Task<Status> NoiseConnection::write(ByteSpan data) {
  out_.clear();
  noise_seal_frames(send_, data, out_);
  co_return co_await inner_->write(out_);
}

Task<Result<std::unique_ptr<NoiseConnection>>> noise_handshake(std::unique_ptr<Stream> inner,
                                                               const Ed25519PrivateKey& identity, bool initiator,
                                                               const std::optional<PeerId>& expected) {
  Symmetric sym;
  KeyPair e = KeyPair::generate();
  KeyPair s = KeyPair::generate();
  Bytes payload = noise_encode_payload(identity, s.pub);
  std::optional<PublicKey> remote_key;

  if (initiator) {
    // -> e
    Bytes m1(e.pub.begin(), e.pub.end());
    sym.mix_hash(e.pub);
    sym.encrypt_and_hash({}, m1);
    SYNDB_CO_RETURN_IF_ERROR(co_await write_message(*inner, m1));
    // <- e, ee, s, es
    SYNDB_CO_ASSIGN_OR_RETURN(Bytes m2, co_await read_message(*inner));
    if (m2.size() < 32 + 48) co_return Error(ErrorCode::kProtocol, "noise: handshake message 2 too short");
    ByteSpan re(m2.data(), 32);
    sym.mix_hash(re);
    SYNDB_CO_ASSIGN_OR_RETURN(Key ee, dh(e, re));
    sym.mix_key(ee);
    SYNDB_CO_ASSIGN_OR_RETURN(Bytes rs, sym.decrypt_and_hash(ByteSpan(m2.data() + 32, 48)));
    SYNDB_CO_ASSIGN_OR_RETURN(Key es, dh(e, rs));
    sym.mix_key(es);
    SYNDB_CO_ASSIGN_OR_RETURN(Bytes rpayload, sym.decrypt_and_hash(ByteSpan(m2.data() + 80, m2.size() - 80)));
    SYNDB_CO_ASSIGN_OR_RETURN(PublicKey rk, noise_verify_payload(rpayload, rs));
    remote_key = rk;
    if (expected && !(PeerId::from_public_key(rk) == *expected)) {
      co_return Error(ErrorCode::kPermissionDenied, "dialed " + expected->to_string() + " but reached " +
                                                        PeerId::from_public_key(rk).to_string());
    }
    // -> s, se
    Bytes m3;
    sym.encrypt_and_hash(s.pub, m3);
    SYNDB_CO_ASSIGN_OR_RETURN(Key se, dh(s, re));
    sym.mix_key(se);
    sym.encrypt_and_hash(payload, m3);
    SYNDB_CO_RETURN_IF_ERROR(co_await write_message(*inner, m3));
    auto [c1, c2] = sym.split();
    co_return std::make_unique<NoiseConnection>(std::move(inner), c1, c2, *remote_key);
  }

  // -> e
  SYNDB_CO_ASSIGN_OR_RETURN(Bytes m1, co_await read_message(*inner));
  if (m1.size() < 32) co_return Error(ErrorCode::kProtocol, "noise: handshake message 1 too short");
  Bytes re(m1.begin(), m1.begin() + 32);
  sym.mix_hash(re);
  SYNDB_CO_RETURN_IF_ERROR(sym.decrypt_and_hash(ByteSpan(m1.data() + 32, m1.size() - 32)));
  // <- e, ee, s, es
  Bytes m2(e.pub.begin(), e.pub.end());
  sym.mix_hash(e.pub);
  SYNDB_CO_ASSIGN_OR_RETURN(Key ee, dh(e, re));
  sym.mix_key(ee);
  sym.encrypt_and_hash(s.pub, m2);
  SYNDB_CO_ASSIGN_OR_RETURN(Key es, dh(s, re));
  sym.mix_key(es);
  sym.encrypt_and_hash(payload, m2);
  SYNDB_CO_RETURN_IF_ERROR(co_await write_message(*inner, m2));
  // -> s, se
  SYNDB_CO_ASSIGN_OR_RETURN(Bytes m3, co_await read_message(*inner));
  if (m3.size() < 48) co_return Error(ErrorCode::kProtocol, "noise: handshake message 3 too short");
  SYNDB_CO_ASSIGN_OR_RETURN(Bytes rs, sym.decrypt_and_hash(ByteSpan(m3.data(), 48)));
  SYNDB_CO_ASSIGN_OR_RETURN(Key se, dh(e, rs));
  sym.mix_key(se);
  SYNDB_CO_ASSIGN_OR_RETURN(Bytes rpayload, sym.decrypt_and_hash(ByteSpan(m3.data() + 48, m3.size() - 48)));
  SYNDB_CO_ASSIGN_OR_RETURN(PublicKey rk, noise_verify_payload(rpayload, rs));
  if (expected && !(PeerId::from_public_key(rk) == *expected)) {
    co_return Error(ErrorCode::kPermissionDenied, "expected " + expected->to_string() + " but peer is " +
                                                      PeerId::from_public_key(rk).to_string());
  }
  auto [c1, c2] = sym.split();
  co_return std::make_unique<NoiseConnection>(std::move(inner), c2, c1, rk);
}

}  // namespace syndb::p2p
