#include "p2p/perf/perf.h"

#include <chrono>

namespace syndb::p2p {

namespace {
constexpr size_t kChunk = 256 * 1024;

Task<Status> send_zeros(Stream& s, uint64_t n) {
  static const Bytes zeros(kChunk, 0);
  while (n > 0) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
    SYNDB_CO_RETURN_IF_ERROR(co_await s.write(ByteSpan(zeros.data(), k)));
    n -= k;
  }
  co_return ok_status();
}

Task<Result<uint64_t>> drain(Stream& s) {
  Bytes buf(kChunk);
  uint64_t total = 0;
  for (;;) {
    SYNDB_CO_ASSIGN_OR_RETURN(size_t n, co_await s.read_some(buf));
    if (n == 0) co_return total;
    total += n;
  }
}
}  // namespace

void register_perf(Host& host) {
  host.set_stream_handler(std::string(kPerfProtocol), [](NegotiatedStream ns) -> Task<void> {
    uint8_t hdr[8];
    if (!(co_await read_exact(*ns.stream, hdr)).ok()) {
      ns.stream->reset();
      co_return;
    }
    uint64_t want = 0;
    for (uint8_t b : hdr) want = want << 8 | b;
    if (!(co_await drain(*ns.stream)).ok() || !(co_await send_zeros(*ns.stream, want)).ok()) {
      ns.stream->reset();
      co_return;
    }
    (void)co_await ns.stream->close_write();
  });
}

Task<Result<PerfResult>> perf_client(Stream& stream, uint64_t upload_bytes, uint64_t download_bytes) {
  auto start = std::chrono::steady_clock::now();
  uint8_t hdr[8];
  for (int i = 0; i < 8; ++i) hdr[i] = static_cast<uint8_t>(download_bytes >> (56 - 8 * i));
  SYNDB_CO_RETURN_IF_ERROR(co_await stream.write(hdr));
  SYNDB_CO_RETURN_IF_ERROR(co_await send_zeros(stream, upload_bytes));
  SYNDB_CO_RETURN_IF_ERROR(co_await stream.close_write());
  SYNDB_CO_ASSIGN_OR_RETURN(uint64_t got, co_await drain(stream));
  if (got != download_bytes) {
    co_return Error(ErrorCode::kProtocol,
                    "perf: asked for " + std::to_string(download_bytes) + " bytes, got " + std::to_string(got));
  }
  PerfResult r;
  r.upload_bytes = upload_bytes;
  r.download_bytes = got;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_return r;
}

}  // namespace syndb::p2p
