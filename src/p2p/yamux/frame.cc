#include "p2p/yamux/frame.h"

namespace syndb::p2p::yamux {

void FrameHeader::encode(uint8_t out[kHeaderSize]) const {
  out[0] = 0;
  out[1] = static_cast<uint8_t>(type);
  out[2] = static_cast<uint8_t>(flags >> 8);
  out[3] = static_cast<uint8_t>(flags);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(stream_id >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
}

void FrameHeader::append_to(Bytes& out) const {
  uint8_t h[kHeaderSize];
  encode(h);
  out.insert(out.end(), h, h + kHeaderSize);
}

Result<FrameHeader> FrameHeader::decode(ByteSpan in) {
  if (in.size() < kHeaderSize) return Error(ErrorCode::kProtocol, "yamux: short header");
  if (in[0] != 0) return Error(ErrorCode::kProtocol, "yamux: unsupported version " + std::to_string(in[0]));
  if (in[1] > 3) return Error(ErrorCode::kProtocol, "yamux: unknown frame type " + std::to_string(in[1]));
  FrameHeader h;
  h.type = static_cast<FrameType>(in[1]);
  h.flags = static_cast<uint16_t>(in[2] << 8 | in[3]);
  h.stream_id = static_cast<uint32_t>(in[4]) << 24 | static_cast<uint32_t>(in[5]) << 16 |
                static_cast<uint32_t>(in[6]) << 8 | in[7];
  h.length = static_cast<uint32_t>(in[8]) << 24 | static_cast<uint32_t>(in[9]) << 16 |
             static_cast<uint32_t>(in[10]) << 8 | in[11];
  return h;
}

}  // namespace syndb::p2p::yamux
