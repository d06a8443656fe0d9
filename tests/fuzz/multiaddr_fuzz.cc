// libFuzzer target: the input is tried both as a binary multiaddr and as a
// multiaddr string. Anything accepted must round-trip through the other form,
// and the accessors must work on it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "p2p/multiformats/multiaddr.h"

namespace {

using syndb::p2p::Multiaddr;

// Checks every invariant of a Multiaddr that parsed successfully.
void check(const Multiaddr& ma) {
  if (ma.empty()) __builtin_trap();
  const std::string text = ma.to_string();
  auto reparsed = Multiaddr::from_string(text);
  if (!reparsed.ok() || !(*reparsed == ma) || reparsed->to_string() != text) __builtin_trap();
  auto rebinary = Multiaddr::from_bytes(ma.bytes());
  if (!rebinary.ok() || !(*rebinary == ma)) __builtin_trap();
  if (ma.components().empty()) __builtin_trap();
  const Multiaddr bare = ma.without_peer_id();
  if (ma.peer_id().has_value() == (bare == ma)) __builtin_trap();
  if (ma.encapsulate(ma).bytes().size() != 2 * ma.bytes().size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto from_bytes = Multiaddr::from_bytes(syndb::ByteSpan(data, size));
  if (from_bytes.ok()) {
    check(*from_bytes);
    if (from_bytes->bytes() != syndb::Bytes(data, data + size)) __builtin_trap();
  }
  auto from_string = Multiaddr::from_string(std::string_view(reinterpret_cast<const char*>(data), size));
  if (from_string.ok()) check(*from_string);
  return 0;
}
