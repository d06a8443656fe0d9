#include "p2p/stream.h"

#include "p2p/multiformats/varint.h"

namespace syndb::p2p {

Task<Status> read_exact(Stream& s, MutableByteSpan buf) {
  size_t done = 0;
  while (done < buf.size()) {
    SYNDB_CO_ASSIGN_OR_RETURN(size_t n, co_await s.read_some(buf.subspan(done)));
    if (n == 0) co_return Error(ErrorCode::kClosed, "unexpected end of stream");
    done += n;
  }
  co_return ok_status();
}

Task<Result<Bytes>> read_to_eof(Stream& s, size_t max_bytes) {
  Bytes out;
  uint8_t chunk[16384];
  for (;;) {
    SYNDB_CO_ASSIGN_OR_RETURN(size_t n, co_await s.read_some(chunk));
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      co_return Error(ErrorCode::kLimitExceeded, "message exceeds " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), chunk, chunk + n);
  }
  co_return out;
}

Task<Result<uint64_t>> read_uvarint(Stream& s) {
  uint8_t buf[10];
  for (size_t i = 0; i < sizeof(buf); ++i) {
    SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(s, MutableByteSpan(buf + i, 1)));
    if ((buf[i] & 0x80) == 0) {
      SYNDB_CO_ASSIGN_OR_RETURN(auto decoded, p2p::read_uvarint(ByteSpan(buf, i + 1)));
      co_return decoded.first;
    }
  }
  co_return Error(ErrorCode::kProtocol, "varint longer than 9 bytes");
}

Task<Result<Bytes>> read_length_prefixed(Stream& s, size_t max_bytes) {
  SYNDB_CO_ASSIGN_OR_RETURN(uint64_t len, co_await read_uvarint(s));
  if (len > max_bytes) {
    co_return Error(ErrorCode::kLimitExceeded,
                    "length prefix " + std::to_string(len) + " exceeds " + std::to_string(max_bytes) + " bytes");
  }
  Bytes out(len);
  SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(s, out));
  co_return out;
}

Task<Status> write_length_prefixed(Stream& s, ByteSpan data) {
  Bytes out;
  out.reserve(data.size() + 10);
  put_uvarint(out, data.size());
  append(out, data);
  co_return co_await s.write(out);
}

}  // namespace syndb::p2p
