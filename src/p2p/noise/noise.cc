#include "p2p/noise/noise.h"

#include <openssl/evp.h>
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

NoiseCipher::NoiseCipher(const std::array<uint8_t, 32>& key) : key_(key) {}

NoiseCipher::~NoiseCipher() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
  sodium_memzero(key_.data(), key_.size());
}

NoiseCipher::NoiseCipher(const NoiseCipher& other) : key_(other.key_), nonce_(other.nonce_) {}

NoiseCipher& NoiseCipher::operator=(const NoiseCipher& other) {
  if (this != &other) {
    EVP_CIPHER_CTX_free(enc_);
    EVP_CIPHER_CTX_free(dec_);
    enc_ = dec_ = nullptr;
    key_ = other.key_;
    nonce_ = other.nonce_;
  }
  return *this;
}

void NoiseCipher::encrypt(ByteSpan ad, ByteSpan plain, Bytes& out) {
  size_t start = out.size();
  out.resize(start + plain.size() + kNoiseTagSize);
  encrypt_to(ad, plain, out.data() + start);
}

void NoiseCipher::encrypt_to(ByteSpan ad, ByteSpan plain, uint8_t* out) {
  uint8_t nonce[12];
  make_nonce(nonce_++, nonce);
  if (enc_ == nullptr) {
    enc_ = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(enc_, EVP_chacha20_poly1305(), nullptr, key_.data(), nullptr);
  }
  EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, nonce);
  int len = 0;
  if (!ad.empty()) EVP_EncryptUpdate(enc_, nullptr, &len, ad.data(), static_cast<int>(ad.size()));
  EVP_EncryptUpdate(enc_, out, &len, plain.data(), static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(enc_, out + len, &len);
  EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_GET_TAG, kNoiseTagSize, out + plain.size());
}

Result<size_t> NoiseCipher::decrypt_in_place(ByteSpan ad, MutableByteSpan cipher) {
  if (cipher.size() < kNoiseTagSize) return Error(ErrorCode::kProtocol, "noise: message shorter than its tag");
  uint8_t nonce[12];
  make_nonce(nonce_++, nonce);
  if (dec_ == nullptr) {
    dec_ = EVP_CIPHER_CTX_new();
    EVP_DecryptInit_ex(dec_, EVP_chacha20_poly1305(), nullptr, key_.data(), nullptr);
  }
  EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, nonce);
  size_t plen = cipher.size() - kNoiseTagSize;
  int len = 0;
  if (!ad.empty()) EVP_DecryptUpdate(dec_, nullptr, &len, ad.data(), static_cast<int>(ad.size()));
  EVP_DecryptUpdate(dec_, cipher.data(), &len, cipher.data(), static_cast<int>(plen));
  EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_TAG, kNoiseTagSize, cipher.data() + plen);
  if (EVP_DecryptFinal_ex(dec_, cipher.data() + len, &len) != 1) {
    return Error(ErrorCode::kProtocol, "noise: decryption failed (bad tag)");
  }
  return plen;
}

size_t noise_sealed_size(size_t plain_size) {
  size_t frames = plain_size == 0 ? 1 : (plain_size + kNoiseMaxPlaintext - 1) / kNoiseMaxPlaintext;
  return plain_size + frames * (2 + kNoiseTagSize);
}

void noise_seal_frames_to(NoiseCipher& cipher, ByteSpan plain, uint8_t* out) {
  size_t off = 0;
  do {
    size_t n = std::min(kNoiseMaxPlaintext, plain.size() - off);
    size_t clen = n + kNoiseTagSize;
    out[0] = static_cast<uint8_t>(clen >> 8);
    out[1] = static_cast<uint8_t>(clen);
    cipher.encrypt_to({}, plain.subspan(off, n), out + 2);
    out += 2 + clen;
    off += n;
  } while (off < plain.size());
}

void noise_seal_frames(NoiseCipher& cipher, ByteSpan plain, Bytes& out) {
  size_t start = out.size();
  out.resize(start + noise_sealed_size(plain.size()));
  noise_seal_frames_to(cipher, plain, out.data() + start);
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
      cbuf_(kReceiveBuffer) {}

Task<Result<size_t>> NoiseConnection::read_some(MutableByteSpan buf) {
  if (buf.empty()) co_return size_t{0};
  // Ciphertext is read in large chunks into cbuf_ and each frame is decrypted
  // in place there: one copy from the kernel, one to the caller.
  while (pstart_ == pend_) {
    size_t avail = cend_ - cstart_;
    if (avail >= 2) {
      size_t clen = static_cast<size_t>(cbuf_[cstart_]) << 8 | cbuf_[cstart_ + 1];
      if (avail >= 2 + clen) {
        MutableByteSpan frame(cbuf_.data() + cstart_ + 2, clen);
        SYNDB_CO_ASSIGN_OR_RETURN(size_t plen, recv_.decrypt_in_place({}, frame));
        pstart_ = cstart_ + 2;
        pend_ = pstart_ + plen;
        cstart_ += 2 + clen;
        continue;  // an empty frame is legal; never report it as EOF
      }
    }
    if (cbuf_.size() - cend_ < 2 + kNoiseMaxMessage) {  // make room for a whole frame
      std::memmove(cbuf_.data(), cbuf_.data() + cstart_, avail);
      cstart_ = pstart_ = pend_ = 0;
      cend_ = avail;
    }
    SYNDB_CO_ASSIGN_OR_RETURN(size_t n, co_await inner_->read_some(MutableByteSpan(cbuf_.data() + cend_,
                                                                                     cbuf_.size() - cend_)));
    if (n == 0) {
      if (avail > 0) co_return Error(ErrorCode::kProtocol, "noise: connection ended inside a frame");
      co_return size_t{0};
    }
    cend_ += n;
  }
  size_t n = std::min(buf.size(), pend_ - pstart_);
  std::memcpy(buf.data(), cbuf_.data() + pstart_, n);
  pstart_ += n;
  co_return n;
}

Task<Status> NoiseConnection::write(ByteSpan data) {
  size_t size = noise_sealed_size(data.size());
  if (size > out_capacity_) {
    out_.reset(new uint8_t[size]);
    out_capacity_ = size;
  }
  noise_seal_frames_to(send_, data, out_.get());
  co_return co_await inner_->write(ByteSpan(out_.get(), size));
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
