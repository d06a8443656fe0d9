// Byte buffer aliases and small helpers shared by every wire codec.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace syndb {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

inline ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string to_string(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
inline void append(Bytes& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }

// Lowercase hex; from_hex returns an empty vector and sets ok=false on bad input.
std::string to_hex(ByteSpan b);
Bytes from_hex(std::string_view hex, bool* ok = nullptr);

}  // namespace syndb
