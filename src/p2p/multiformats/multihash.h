// Multihash (multiformats/multihash): uvarint(code) || uvarint(len) || digest.
// Only identity (0x00) and sha2-256 (0x12, 32-byte digest) are produced here;
// decode accepts any code whose framing is valid.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p {

struct Multihash {
  uint64_t code = 0;
  Bytes digest;

  static constexpr uint64_t kIdentity = 0x00, kSha2_256 = 0x12;

  // {kIdentity, data}: the data itself, unhashed.
  static Multihash identity(ByteSpan data);
  // {kSha2_256, SHA-256(data)} (32-byte digest, libsodium).
  static Multihash sha2_256(ByteSpan data);

  // uvarint(code) || uvarint(digest.size()) || digest.
  Bytes encode() const;
  // Parses encode()'s format; the whole buffer must be consumed. Errors:
  // kProtocol for a bad/truncated varint, a length that does not match the
  // remaining bytes, or trailing bytes.
  static Result<Multihash> decode(ByteSpan bytes);

  bool operator==(const Multihash&) const = default;
};

}  // namespace syndb::p2p
