// identify: decoding one or more length-prefixed Identify protobufs.
#include "p2p/identify/identify.h"
#include "p2p/multiformats/varint.h"

using namespace syndb;
using namespace syndb::p2p;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = decode_identify_messages(ByteSpan(data, size));
  if (!info.ok()) return 0;
  // Whatever decodes must re-encode and decode to the same addresses and protocols.
  Bytes msg = encode_identify(*info);
  Bytes framed;
  put_uvarint(framed, msg.size());
  append(framed, msg);
  auto again = decode_identify_messages(framed);
  if (!again.ok() || again->protocols != info->protocols || again->listen_addrs != info->listen_addrs) {
    __builtin_trap();
  }
  return 0;
}
