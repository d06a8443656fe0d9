#include "arrow/bits.h"

#include <cstring>

namespace syndb::arrow {

int64_t count_set_bits(const uint8_t* bits, int64_t off, int64_t n) {
  if (n <= 0) return 0;
  int64_t count = 0;
  int64_t i = off;
  const int64_t end = off + n;
  // Leading bits up to a byte boundary.
  while (i < end && (i & 7) != 0) count += get_bit(bits, i++);
  // Whole 64-bit words.
  const uint8_t* p = bits + (i >> 3);
  while (end - i >= 64) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    count += __builtin_popcountll(w);
    p += 8;
    i += 64;
  }
  // Whole bytes.
  while (end - i >= 8) {
    count += __builtin_popcount(*p++);
    i += 8;
  }
  while (i < end) count += get_bit(bits, i++);
  return count;
}

void copy_bits(const uint8_t* src, int64_t off, int64_t n, uint8_t* dst) {
  const int64_t nbytes = (n + 7) / 8;
  if (n <= 0) return;
  const int shift = static_cast<int>(off & 7);
  const uint8_t* s = src + (off >> 3);
  const int64_t last_src = (off + n - 1) >> 3;  // last byte index we may read, relative to src
  const int64_t avail = last_src - (off >> 3) + 1;
  if (shift == 0) {
    std::memcpy(dst, s, static_cast<size_t>(nbytes));
  } else {
    for (int64_t j = 0; j < nbytes; ++j) {
      uint8_t lo = static_cast<uint8_t>(s[j] >> shift);
      uint8_t hi = (j + 1 < avail) ? static_cast<uint8_t>(s[j + 1] << (8 - shift)) : 0;
      dst[j] = lo | hi;
    }
  }
  const int tail = static_cast<int>(n & 7);
  if (tail) dst[nbytes - 1] &= static_cast<uint8_t>((1u << tail) - 1);
}

bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint8_t cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace syndb::arrow
