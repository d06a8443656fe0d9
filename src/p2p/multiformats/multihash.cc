#include "p2p/multiformats/multihash.h"

#include <sodium.h>

#include "p2p/multiformats/varint.h"

namespace syndb::p2p {
namespace {

// A truncated varint inside a complete buffer is malformed, not "need more".
Error as_protocol(const Error& e, const char* what) {
  return Error(ErrorCode::kProtocol, std::string("multihash ") + what + ": " + e.message());
}

}  // namespace

Multihash Multihash::identity(ByteSpan data) { return Multihash{kIdentity, Bytes(data.begin(), data.end())}; }

Multihash Multihash::sha2_256(ByteSpan data) {
  static const int sodium_ready = sodium_init();
  (void)sodium_ready;
  Bytes digest(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(digest.data(), data.data(), data.size());
  return Multihash{kSha2_256, std::move(digest)};
}

Bytes Multihash::encode() const {
  Bytes out;
  out.reserve(uvarint_size(code) + uvarint_size(digest.size()) + digest.size());
  put_uvarint(out, code);
  put_uvarint(out, digest.size());
  append(out, digest);
  return out;
}

Result<Multihash> Multihash::decode(ByteSpan bytes) {
  auto code = read_uvarint(bytes);
  if (!code.ok()) return as_protocol(code.error(), "code");
  ByteSpan rest = bytes.subspan(code->second);
  auto len = read_uvarint(rest);
  if (!len.ok()) return as_protocol(len.error(), "length");
  rest = rest.subspan(len->second);
  if (len->first != rest.size()) {
    return Error(ErrorCode::kProtocol, "multihash length " + std::to_string(len->first) + " but " +
                                           std::to_string(rest.size()) + " digest bytes follow");
  }
  return Multihash{code->first, Bytes(rest.begin(), rest.end())};
}

}  // namespace syndb::p2p
