#include "p2p/ping/ping.h"

#include <sodium.h>

#include <chrono>
#include <cstring>

namespace syndb::p2p {

void register_ping(Host& host) {
  host.set_stream_handler(std::string(kPingProtocol), [](NegotiatedStream ns) -> Task<void> {
    uint8_t buf[kPingSize];
    for (;;) {
      // EOF before a full payload ends the exchange; anything else is dropped.
      if (!(co_await read_exact(*ns.stream, buf)).ok()) break;
      if (!(co_await ns.stream->write(buf)).ok()) break;
    }
    (void)co_await ns.stream->close_write();
  });
}

Task<Result<uint64_t>> ping_once(Stream& stream) {
  uint8_t out[kPingSize], in[kPingSize];
  randombytes_buf(out, sizeof(out));
  auto start = std::chrono::steady_clock::now();
  SYNDB_CO_RETURN_IF_ERROR(co_await stream.write(out));
  SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(stream, in));
  auto rtt = std::chrono::steady_clock::now() - start;
  if (std::memcmp(in, out, kPingSize) != 0) co_return Error(ErrorCode::kProtocol, "ping: echo does not match");
  co_return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(rtt).count());
}

}  // namespace syndb::p2p
