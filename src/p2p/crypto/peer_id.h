// Peer IDs (libp2p/specs peer-ids/peer-ids.md, RFC/0001-text-peerid-cid.md):
// the multihash of a PublicKey protobuf. Keys encoding to <= 42 bytes (Ed25519:
// 36, secp256k1: 37) are inlined with the identity multihash; larger ones
// (RSA, ECDSA) use sha2-256. On the wire a peer ID is always the multihash
// bytes; in text it is base58btc ("12D3KooW...", "Qm...") or a CIDv1 with
// codec libp2p-key (0x72), base32 by default ("bafz...").
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "p2p/crypto/keys.h"

namespace syndb::p2p {

class PeerId {
 public:
  // Longest PublicKey encoding that is inlined with the identity multihash.
  static constexpr size_t kMaxInlineKeySize = 42;
  // CIDv1 multicodec for peer IDs.
  static constexpr uint64_t kLibp2pKeyCodec = 0x72;

  // An empty (invalid) ID, only so PeerId can be a default-constructed
  // member/container value; every factory below returns a valid one.
  PeerId() = default;

  static PeerId from_public_key(const PublicKey& key);
  // From multihash bytes (as carried on the wire). Accepts identity multihashes
  // of <= 42 bytes and 32-byte sha2-256 ones. Errors: kProtocol otherwise.
  static Result<PeerId> from_bytes(ByteSpan multihash);
  // From text: base58btc multihash when it starts with '1' or "Qm", else a
  // multibase CIDv1 (prefixes z, b, B, f, F) whose codec must be 0x72.
  // Errors: kInvalidArgument naming what was wrong.
  static Result<PeerId> from_string(std::string_view text);

  // base58btc of the multihash ("12D3KooW..." for Ed25519).
  std::string to_string() const;
  // "b" + base32(0x01 0x72 || multihash): the CIDv1 text form.
  std::string to_cid_string() const;
  // The multihash bytes (empty only for a default-constructed PeerId).
  const Bytes& bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }

  // The public key inlined in an identity multihash. Errors: kNotFound for a
  // sha2-256 ID (the key is not recoverable); kProtocol if the inlined bytes
  // are not a PublicKey protobuf.
  Result<PublicKey> extract_public_key() const;

  bool operator==(const PeerId&) const = default;
  auto operator<=>(const PeerId&) const = default;

 private:
  explicit PeerId(Bytes multihash) : bytes_(std::move(multihash)) {}
  Bytes bytes_;
};

}  // namespace syndb::p2p

template <>
struct std::hash<syndb::p2p::PeerId> {
  size_t operator()(const syndb::p2p::PeerId& id) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size()));
  }
};
