// Noise secure channel for libp2p (libp2p/specs noise/README.md):
// Noise_XX_25519_ChaChaPoly_SHA256 with an empty prologue, the libp2p
// handshake payload (identity key + signature over
// "noise-libp2p-static-key:" || static X25519 key), then transport messages
// framed as u16 BE length || ciphertext (at most 65535 bytes, so at most
// 65519 bytes of plaintext per frame). Crypto from libsodium.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"
#include "p2p/stream.h"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace syndb::p2p {

inline constexpr std::string_view kNoiseProtocolId = "/noise";
inline constexpr size_t kNoiseMaxMessage = 65535;
inline constexpr size_t kNoiseTagSize = 16;
inline constexpr size_t kNoiseMaxPlaintext = kNoiseMaxMessage - kNoiseTagSize;

// One direction of the transport phase: ChaCha20-Poly1305 with a 64-bit
// counter nonce (4 zero bytes || LE counter, Noise spec §5.1). The AEAD is
// OpenSSL's (its assembly is about twice libsodium 1.0.18's speed here).
class NoiseCipher {
 public:
  NoiseCipher() = default;
  explicit NoiseCipher(const std::array<uint8_t, 32>& key);
  ~NoiseCipher();
  NoiseCipher(const NoiseCipher& other);
  NoiseCipher& operator=(const NoiseCipher& other);
  // Appends ciphertext||tag of `plain` (<= 65519 bytes) to out.
  void encrypt(ByteSpan ad, ByteSpan plain, Bytes& out);
  // Writes ciphertext||tag (plain.size() + 16 bytes) to out.
  void encrypt_to(ByteSpan ad, ByteSpan plain, uint8_t* out);
  // Decrypts `cipher` in place; returns the plaintext length, or kProtocol
  // when authentication fails.
  Result<size_t> decrypt_in_place(ByteSpan ad, MutableByteSpan cipher);

 private:
  std::array<uint8_t, 32> key_{};
  uint64_t nonce_ = 0;
  ::evp_cipher_ctx_st* enc_ = nullptr;  // created on first use, one per direction
  ::evp_cipher_ctx_st* dec_ = nullptr;
};

// Appends the transport frames for `plain` (any size; split at 65519 bytes).
void noise_seal_frames(NoiseCipher& cipher, ByteSpan plain, Bytes& out);
// Bytes of transport frames for `plain_size` bytes of plaintext.
size_t noise_sealed_size(size_t plain_size);
// Writes the frames to `out`, which has noise_sealed_size(plain.size()) bytes.
void noise_seal_frames_to(NoiseCipher& cipher, ByteSpan plain, uint8_t* out);

// Encodes the libp2p handshake payload; decodes and verifies one against the
// remote static key, returning the remote's public identity key.
Bytes noise_encode_payload(const Ed25519PrivateKey& identity, ByteSpan static_public);
Result<PublicKey> noise_verify_payload(ByteSpan payload, ByteSpan remote_static);

// A Noise-secured connection. Owns the underlying stream.
class NoiseConnection : public Stream {
 public:
  NoiseConnection(std::unique_ptr<Stream> inner, NoiseCipher send, NoiseCipher recv, PublicKey remote_key);
  Task<Result<size_t>> read_some(MutableByteSpan buf) override;
  Task<Status> write(ByteSpan data) override;
  Task<Status> close_write() override { return inner_->close_write(); }
  void reset() override { inner_->reset(); }

  const PublicKey& remote_key() const { return remote_key_; }
  PeerId remote_peer() const { return PeerId::from_public_key(remote_key_); }

 private:
  std::unique_ptr<Stream> inner_;
  NoiseCipher send_, recv_;
  PublicKey remote_key_;
  static constexpr size_t kReceiveBuffer = 256 * 1024;  // bytes; holds several 64 KiB frames
  Bytes cbuf_;                    // received bytes: [cstart_, cend_) not yet decrypted
  size_t cstart_ = 0, cend_ = 0;
  size_t pstart_ = 0, pend_ = 0;  // decrypted plaintext not yet read, inside cbuf_
  std::unique_ptr<uint8_t[]> out_;  // reused ciphertext buffer (not zero-filled)
  size_t out_capacity_ = 0;
};

// Runs the XX handshake over `inner` as initiator or responder. When
// `expected` is set (the /p2p/ of a dialed multiaddr), a remote with another
// PeerId fails with kPermissionDenied. Other errors: kProtocol (bad message,
// bad signature, decryption failure), kIo/kClosed from the transport.
Task<Result<std::unique_ptr<NoiseConnection>>> noise_handshake(std::unique_ptr<Stream> inner,
                                                               const Ed25519PrivateKey& identity, bool initiator,
                                                               const std::optional<PeerId>& expected);

}  // namespace syndb::p2p
