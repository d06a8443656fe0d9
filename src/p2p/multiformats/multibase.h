// Text encodings of binary data (multiformats/multibase). Only the bases
// libp2p needs: base58btc (Bitcoin alphabet), base32 (RFC 4648 alphabet,
// no padding) and base16.
//
// Decoders take user strings, so every decode error is kInvalidArgument.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p {

// Bitcoin-alphabet base58; each leading 0x00 byte becomes a leading '1'.
std::string base58btc_encode(ByteSpan data);
// Inverse of base58btc_encode; "" decodes to no bytes. Errors: kInvalidArgument
// for a character outside the alphabet.
Result<Bytes> base58btc_decode(std::string_view text);

// RFC 4648 base32, lowercase, without '=' padding.
std::string base32_encode(ByteSpan data);
// Case-insensitive, unpadded base32. Errors: kInvalidArgument for a character
// outside the alphabet (including '='), an impossible length (8n+1, 8n+3, 8n+6
// characters) or non-zero unused trailing bits.
Result<Bytes> base32_decode(std::string_view text);

// `prefix` followed by data in that base: 'z' base58btc, 'b' base32 (lower),
// 'f' base16 (lower). Any other prefix returns "" (never a valid multibase).
std::string multibase_encode(char prefix, ByteSpan data);
// Decodes a multibase string by its first character: 'z' base58btc, 'b'/'B'
// base32, 'f'/'F' base16 (all case-insensitive where the base allows). Errors:
// kInvalidArgument for "", an unsupported prefix, or a body that fails to decode.
Result<Bytes> multibase_decode(std::string_view text);

}  // namespace syndb::p2p
