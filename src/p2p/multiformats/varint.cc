#include "p2p/multiformats/varint.h"

namespace syndb::p2p {

void put_uvarint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

Result<std::pair<uint64_t, size_t>> read_uvarint(ByteSpan in) {
  uint64_t value = 0;
  for (size_t i = 0; i < kMaxUvarintBytes; ++i) {
    if (i >= in.size()) return Error(ErrorCode::kClosed, "truncated varint");
    const uint8_t b = in[i];
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) return Error(ErrorCode::kProtocol, "non-minimal varint encoding");
      return std::pair<uint64_t, size_t>{value, i + 1};
    }
  }
  return Error(ErrorCode::kProtocol, "varint longer than 9 bytes");
}

}  // namespace syndb::p2p
