// libp2p keys (libp2p/specs peer-ids/peer-ids.md): the PublicKey/PrivateKey
// protobufs of proto/crypto.proto, Ed25519 signing via libsodium, and key
// files holding a serialized PrivateKey (the format go/js/rust store on disk).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p {

enum class KeyType { kRsa = 0, kEd25519 = 1, kSecp256k1 = 2, kEcdsa = 3 };

// "RSA", "Ed25519", "Secp256k1", "ECDSA" (or "unknown").
const char* key_type_name(KeyType type);

// A public key of any libp2p type. For Ed25519, `data` is the 32-byte raw key;
// other types carry their spec encoding (DER etc.) opaquely.
struct PublicKey {
  KeyType type = KeyType::kEd25519;
  Bytes data;

  // The PublicKey protobuf, deterministic: Type (always present, also when 0)
  // then Data. An Ed25519 key encodes to 36 bytes: 08 01 12 20 <32 bytes>.
  Bytes encode() const;
  // Parses the PublicKey protobuf. Errors: kProtocol if it does not parse,
  // lacks Type or Data, has an unknown Type, or is Ed25519 with Data != 32 bytes.
  static Result<PublicKey> decode(ByteSpan bytes);
  // Ed25519 (RFC 8032) verification of a 64-byte signature over the raw
  // message. Other key types are not supported and always return false.
  bool verify(ByteSpan message, ByteSpan signature) const;

  bool operator==(const PublicKey&) const = default;
};

// An Ed25519 key pair; holds libsodium's 64-byte secret key (seed || public
// key), wiped with sodium_memzero on destruction. Copyable; every copy wipes
// its own bytes.
class Ed25519PrivateKey {
 public:
  static constexpr size_t kSeedSize = 32, kSecretKeySize = 64, kSignatureSize = 64;

  // A fresh random key pair.
  static Ed25519PrivateKey generate();
  // Deterministic key pair from a 32-byte seed (RFC 8032 private key).
  // Errors: kInvalidArgument if seed32 is not 32 bytes.
  static Result<Ed25519PrivateKey> from_seed(ByteSpan seed32);

  Ed25519PrivateKey(const Ed25519PrivateKey&) = default;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = default;
  Ed25519PrivateKey(Ed25519PrivateKey&&) = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) = default;
  ~Ed25519PrivateKey();

  PublicKey public_key() const;
  // RFC 8032 signature (64 bytes) over the raw message.
  Bytes sign(ByteSpan message) const;
  // The 32-byte seed (RFC 8032 private key).
  Bytes seed() const;

  // PrivateKey protobuf {Type = Ed25519, Data = 64-byte seed || public key}.
  Bytes encode() const;
  // Parses the PrivateKey protobuf. Accepts 64-byte Data (seed || pub) and the
  // legacy 96-byte form (seed || pub || pub, both copies equal). The public
  // half must match the one derived from the seed. Errors: kInvalidArgument if
  // it does not parse or is inconsistent; kUnsupported for non-Ed25519 types.
  static Result<Ed25519PrivateKey> decode(ByteSpan bytes);

  // Constant-time comparison of the secret keys.
  bool operator==(const Ed25519PrivateKey& other) const;

 private:
  Ed25519PrivateKey() = default;
  std::array<uint8_t, kSecretKeySize> sk_{};
};

// Writes key.encode() to `path`, created with mode 0600 (and chmod'ed to 0600
// when overwritten). Errors: kInvalidArgument "key file X already exists" if
// the path exists and !overwrite; kIo for open/write/fsync failures.
Status save_key_file(const std::string& path, const Ed25519PrivateKey& key, bool overwrite = false);

// Reads a key file written by save_key_file (or by go/js/rust libp2p for an
// Ed25519 identity). Errors: kNotFound "key file X does not exist";
// kInvalidArgument "X is not a libp2p private key: ..." (unparsable or larger
// than 64 KiB); kUnsupported if it holds a non-Ed25519 key; kIo otherwise.
Result<Ed25519PrivateKey> load_key_file(const std::string& path);

}  // namespace syndb::p2p
