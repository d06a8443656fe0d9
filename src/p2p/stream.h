// Stream: the byte-stream contract every layer of the p2p stack implements
// (TCP connection, Noise secure channel, Yamux stream), so protocols such as
// multistream-select, identify, ping and perf run over any of them.
//
// Coroutines on Boost.Asio; every call must be made from the owning
// io_context's thread (the stack is single-threaded per io_context).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <memory>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::p2p {

namespace asio = boost::asio;
template <typename T>
using Task = asio::awaitable<T>;

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads between 1 and buf.size() bytes; 0 means the peer half-closed (EOF).
  // Errors: kReset, kIo, kProtocol (the layer below broke its framing).
  virtual Task<Result<size_t>> read_some(MutableByteSpan buf) = 0;
  // Writes all of `data`, waiting for flow control when the layer has any.
  virtual Task<Status> write(ByteSpan data) = 0;
  // Half-close: no more writes from us; reading continues until the peer's EOF.
  virtual Task<Status> close_write() = 0;
  // Abort both directions at once; pending reads and writes fail with kReset.
  virtual void reset() = 0;
};

// Reads exactly buf.size() bytes. EOF before that: kClosed.
Task<Status> read_exact(Stream& s, MutableByteSpan buf);
// Reads until EOF; more than max_bytes: kLimitExceeded.
Task<Result<Bytes>> read_to_eof(Stream& s, size_t max_bytes);
// Reads one unsigned varint (minimal, <= 9 bytes) a byte at a time, so nothing
// past it is consumed.
Task<Result<uint64_t>> read_uvarint(Stream& s);
// Reads uvarint(length) || bytes; a length above max_bytes: kLimitExceeded.
Task<Result<Bytes>> read_length_prefixed(Stream& s, size_t max_bytes);
// Writes uvarint(data.size()) || data in one write.
Task<Status> write_length_prefixed(Stream& s, ByteSpan data);

}  // namespace syndb::p2p
