#include "p2p/multiformats/multibase.h"

#include <array>

namespace syndb::p2p {
namespace {

constexpr std::string_view kBase58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

// Reverse lookup tables: character -> digit, or -1.
constexpr std::array<int8_t, 256> make_reverse(std::string_view alphabet, bool fold_case) {
  std::array<int8_t, 256> table{};
  for (auto& t : table) t = -1;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    const auto c = static_cast<unsigned char>(alphabet[i]);
    table[c] = static_cast<int8_t>(i);
    if (fold_case && c >= 'a' && c <= 'z') table[c - 'a' + 'A'] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr auto kBase58Reverse = make_reverse(kBase58Alphabet, false);
constexpr auto kBase32Reverse = make_reverse(kBase32Alphabet, true);

std::string printable_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("byte 0x") + kDigits[u >> 4] + kDigits[u & 15];
}

}  // namespace

std::string base58btc_encode(ByteSpan data) {
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // Little-endian base-58 digits of the big-endian number data[zeros..].
  std::vector<uint8_t> digits;
  digits.reserve((data.size() - zeros) * 138 / 100 + 1);
  for (size_t i = zeros; i < data.size(); ++i) {
    uint32_t carry = data[i];
    for (auto& d : digits) {
      carry += static_cast<uint32_t>(d) << 8;
      d = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  out.reserve(zeros + digits.size());
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58Alphabet[*it]);
  return out;
}

Result<Bytes> base58btc_decode(std::string_view text) {
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // Little-endian base-256 bytes of the number text[ones..].
  Bytes le;
  le.reserve((text.size() - ones) * 733 / 1000 + 1);
  for (size_t i = ones; i < text.size(); ++i) {
    const int8_t v = kBase58Reverse[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return Error(ErrorCode::kInvalidArgument, "invalid base58btc character " + printable_char(text[i]) +
                                                    " at offset " + std::to_string(i));
    }
    uint32_t carry = static_cast<uint32_t>(v);
    for (auto& b : le) {
      carry += static_cast<uint32_t>(b) * 58;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      le.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, 0);
  out.insert(out.end(), le.rbegin(), le.rend());
  return out;
}

std::string base32_encode(ByteSpan data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<Bytes> base32_decode(std::string_view text) {
  const size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return Error(ErrorCode::kInvalidArgument,
                 "invalid base32 length " + std::to_string(text.size()) + " (unpadded)");
  }
  Bytes out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t v = kBase32Reverse[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "invalid base32 character " + printable_char(text[i]) + " at offset " + std::to_string(i));
    }
    buffer = ((buffer << 5) | static_cast<uint32_t>(v)) & 0x1fff;  // never more than 12 live bits
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(buffer >> bits));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return Error(ErrorCode::kInvalidArgument, "non-zero trailing bits in base32 string");
  }
  return out;
}

std::string multibase_encode(char prefix, ByteSpan data) {
  switch (prefix) {
    case 'z':
      return "z" + base58btc_encode(data);
    case 'b':
      return "b" + base32_encode(data);
    case 'f':
      return "f" + to_hex(data);
    default:
      return {};
  }
}

Result<Bytes> multibase_decode(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "empty multibase string");
  const std::string_view body = text.substr(1);
  switch (text[0]) {
    case 'z':
      return base58btc_decode(body);
    case 'b':
    case 'B':
      return base32_decode(body);
    case 'f':
    case 'F': {
      bool ok = false;
      Bytes out = from_hex(body, &ok);
      if (!ok) return Error(ErrorCode::kInvalidArgument, "invalid base16 in multibase string");
      return out;
    }
    default:
      return Error(ErrorCode::kInvalidArgument, "unsupported multibase prefix " + printable_char(text[0]));
  }
}

}  // namespace syndb::p2p
