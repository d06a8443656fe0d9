#include "p2p/crypto/peer_id.h"

#include "p2p/multiformats/multibase.h"
#include "p2p/multiformats/multihash.h"
#include "p2p/multiformats/varint.h"

namespace syndb::p2p {

PeerId PeerId::from_public_key(const PublicKey& key) {
  const Bytes encoded = key.encode();
  const Multihash mh =
      encoded.size() <= kMaxInlineKeySize ? Multihash::identity(encoded) : Multihash::sha2_256(encoded);
  return PeerId(mh.encode());
}

Result<PeerId> PeerId::from_bytes(ByteSpan multihash) {
  auto mh = Multihash::decode(multihash);
  if (!mh.ok()) return mh.error().wrap("peer id");
  if (mh->code == Multihash::kIdentity) {
    if (mh->digest.size() > kMaxInlineKeySize) {
      return Error(ErrorCode::kProtocol, "peer id: identity multihash longer than 42 bytes");
    }
  } else if (mh->code == Multihash::kSha2_256) {
    if (mh->digest.size() != 32) {
      return Error(ErrorCode::kProtocol, "peer id: sha2-256 digest must be 32 bytes");
    }
  } else {
    return Error(ErrorCode::kProtocol, "peer id: unsupported multihash code " + std::to_string(mh->code));
  }
  return PeerId(Bytes(multihash.begin(), multihash.end()));
}

Result<PeerId> PeerId::from_string(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "empty peer id");
  const std::string shown(text.substr(0, 100));
  Bytes multihash;
  if (text[0] == '1' || text.starts_with("Qm")) {
    auto decoded = base58btc_decode(text);
    if (!decoded.ok()) return decoded.error().wrap("peer id '" + shown + "'");
    multihash = std::move(*decoded);
  } else {
    auto decoded = multibase_decode(text);
    if (!decoded.ok()) return decoded.error().wrap("peer id '" + shown + "'");
    ByteSpan cid = *decoded;
    auto version = read_uvarint(cid);
    if (!version.ok() || version->first != 1) {
      return Error(ErrorCode::kInvalidArgument, "peer id '" + shown + "': not a CIDv1");
    }
    cid = cid.subspan(version->second);
    auto codec = read_uvarint(cid);
    if (!codec.ok() || codec->first != kLibp2pKeyCodec) {
      return Error(ErrorCode::kInvalidArgument,
                   "peer id '" + shown + "': CID codec is not libp2p-key (0x72)");
    }
    cid = cid.subspan(codec->second);
    multihash.assign(cid.begin(), cid.end());
  }
  auto id = from_bytes(multihash);
  if (!id.ok()) {
    return Error(ErrorCode::kInvalidArgument, "'" + shown + "': " + id.error().message());
  }
  return id;
}

std::string PeerId::to_string() const { return base58btc_encode(bytes_); }

std::string PeerId::to_cid_string() const {
  Bytes cid;
  cid.reserve(2 + bytes_.size());
  put_uvarint(cid, 1);
  put_uvarint(cid, kLibp2pKeyCodec);
  append(cid, bytes_);
  return multibase_encode('b', cid);
}

Result<PublicKey> PeerId::extract_public_key() const {
  auto mh = Multihash::decode(bytes_);
  if (!mh.ok()) return mh.error().wrap("peer id");
  if (mh->code != Multihash::kIdentity) {
    return Error(ErrorCode::kNotFound, "peer id " + to_string() + " does not inline its public key");
  }
  auto key = PublicKey::decode(mh->digest);
  if (!key.ok()) return key.error().wrap("peer id " + to_string());
  return key;
}

}  // namespace syndb::p2p
