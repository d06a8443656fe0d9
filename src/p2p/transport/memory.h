// In-process transport: /memory/<id> multiaddrs (multicodec 0x0309, as
// rust-libp2p's MemoryTransport), connecting hosts of one process through
// bounded in-memory pipes. For tests of the swarm without sockets (the same
// tests also run over TCP) and for fuzz targets (MemoryStream pairs).
// Single-threaded per io_context; the listener table is process-wide and
// thread-safe.
#pragma once

#include <deque>
#include <memory>

#include "p2p/event.h"
#include "p2p/stream.h"
#include "p2p/transport/transport.h"

namespace syndb::p2p {

// One direction of an in-memory pipe, bounded so writers feel back-pressure.
struct PipeBuffer {
  explicit PipeBuffer(asio::any_io_executor ex) : readable(ex), writable(ex) {}
  std::deque<uint8_t> data;
  bool eof = false, reset = false;
  size_t capacity = 1 << 20;  // bytes
  Event readable, writable;
};

// One end of an in-memory pipe: a Stream like a socket (reset on destruction).
class MemoryStream : public Stream {
 public:
  MemoryStream(std::shared_ptr<PipeBuffer> in, std::shared_ptr<PipeBuffer> out) : in_(in), out_(out) {}
  ~MemoryStream() override { reset(); }
  Task<Result<size_t>> read_some(MutableByteSpan buf) override;
  Task<Status> write(ByteSpan data) override;
  Task<Status> close_write() override;
  void reset() override;

 private:
  std::shared_ptr<PipeBuffer> in_, out_;
};

// Two connected ends.
std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> make_memory_pipe(asio::any_io_executor ex);

class MemoryTransport : public Transport {
 public:
  explicit MemoryTransport(asio::io_context& io) : io_(io) {}
  ~MemoryTransport() override;
  std::string_view name() const override { return "memory"; }
  bool handles(const Multiaddr& addr) const override;
  // /memory/0 picks a free id.
  Result<Multiaddr> listen(const Multiaddr& addr, AcceptHandler on_accept) override;
  // kIo ("connection refused") when nothing listens on the id.
  Task<Result<TransportConnection>> dial(const Multiaddr& addr) override;
  void close() override;

 private:
  asio::io_context& io_;
  std::vector<uint64_t> listening_;
};

}  // namespace syndb::p2p
