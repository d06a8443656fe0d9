// perf (/perf/1.0.0, libp2p/specs perf/perf.md): the client sends a u64 BE
// count of bytes it wants back, uploads its bytes and half-closes; the server
// reads to EOF, then sends the requested bytes and closes.
#pragma once

#include "p2p/host/host.h"

namespace syndb::p2p {

inline constexpr std::string_view kPerfProtocol = "/perf/1.0.0";

struct PerfResult {
  uint64_t upload_bytes = 0, download_bytes = 0;
  double seconds = 0;  // wall time from the stream being open to the last byte received
};

// Serves perf on `host`.
void register_perf(Host& host);

// Runs the client side on a negotiated perf stream. kProtocol when the server
// sends a different number of bytes than requested.
Task<Result<PerfResult>> perf_client(Stream& stream, uint64_t upload_bytes, uint64_t download_bytes);

}  // namespace syndb::p2p
