// libFuzzer target: read_uvarint must never read past its input, and whatever
// it accepts must re-encode to exactly the bytes it consumed.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/bytes.h"
#include "p2p/multiformats/varint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace syndb;
  using namespace syndb::p2p;
  auto decoded = read_uvarint(ByteSpan(data, size));
  if (!decoded.ok()) {
    const ErrorCode code = decoded.error().code();
    if (code != ErrorCode::kClosed && code != ErrorCode::kProtocol) __builtin_trap();
    return 0;
  }
  const auto [value, consumed] = *decoded;
  if (consumed == 0 || consumed > size || consumed > kMaxUvarintBytes) __builtin_trap();
  Bytes encoded;
  put_uvarint(encoded, value);
  if (encoded.size() != consumed || uvarint_size(value) != consumed) __builtin_trap();
  if (std::memcmp(encoded.data(), data, consumed) != 0) __builtin_trap();
  return 0;
}
