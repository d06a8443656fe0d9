// Internal: bitmap and UTF-8 helpers for the Arrow IPC writer and reader.
// Bitmaps use Arrow's LSB bit order (bit i of the array is byte i/8, bit i%8).
#pragma once

#include <cstddef>
#include <cstdint>

namespace syndb::arrow {

inline bool get_bit(const uint8_t* bits, int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }

// Number of set bits in [off, off + n); reads only bytes off/8 .. (off+n-1)/8.
int64_t count_set_bits(const uint8_t* bits, int64_t off, int64_t n);

// Copies bits [off, off + n) of src to dst starting at bit 0; writes
// ceil(n/8) bytes (trailing bits of the last byte are zero).
void copy_bits(const uint8_t* src, int64_t off, int64_t n, uint8_t* dst);

// True if data[0, n) is well-formed UTF-8 (no overlongs, surrogates or
// code points above U+10FFFF).
bool valid_utf8(const uint8_t* data, size_t n);

}  // namespace syndb::arrow
