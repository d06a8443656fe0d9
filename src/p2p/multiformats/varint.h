// Unsigned varints as specified by multiformats/unsigned-varint: little-endian
// groups of 7 bits, high bit = "more bytes follow". Decoding is strict: the
// encoding must be minimal and at most 9 bytes long, so values are < 2^63.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p {

// Longest encoding read_uvarint accepts (9 bytes = 63 value bits).
inline constexpr size_t kMaxUvarintBytes = 9;

// Appends the minimal encoding of v (1..10 bytes) to out. Values >= 2^63 take
// 10 bytes, which read_uvarint rejects: callers must keep values below 2^63.
void put_uvarint(Bytes& out, uint64_t v);

// Size in bytes of put_uvarint's encoding of v (1..10).
size_t uvarint_size(uint64_t v);

// Decodes a varint from the front of `in`: {value, bytes consumed}; bytes
// after the varint are ignored. Errors:
//   kClosed   "truncated varint": `in` ended before the last byte (read more);
//   kProtocol non-minimal encoding (trailing 0x00 group) or longer than 9 bytes.
Result<std::pair<uint64_t, size_t>> read_uvarint(ByteSpan in);

}  // namespace syndb::p2p
