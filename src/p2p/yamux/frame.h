// Yamux frame header (libp2p/specs yamux/README.md, hashicorp/yamux spec.md):
// 12 bytes big-endian: version u8 (0), type u8, flags u16, stream id u32,
// length u32. Data frames carry `length` payload bytes; WindowUpdate carries
// a window delta, Ping an opaque value, GoAway an error code, in `length`.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p::yamux {

inline constexpr std::string_view kProtocolId = "/yamux/1.0.0";
inline constexpr size_t kHeaderSize = 12;
inline constexpr uint32_t kInitialWindow = 256 * 1024;

enum class FrameType : uint8_t { kData = 0, kWindowUpdate = 1, kPing = 2, kGoAway = 3 };

namespace flags {
inline constexpr uint16_t kSyn = 1, kAck = 2, kFin = 4, kRst = 8;
}

enum class GoAwayCode : uint32_t { kNormal = 0, kProtocolError = 1, kInternalError = 2 };

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint16_t flags = 0;
  uint32_t stream_id = 0;
  uint32_t length = 0;

  void encode(uint8_t out[kHeaderSize]) const;
  void append_to(Bytes& out) const;
  // kProtocol for a version other than 0 or an unknown type.
  static Result<FrameHeader> decode(ByteSpan in12);
};

}  // namespace syndb::p2p::yamux
