// Yamux stream multiplexer session over a secured connection
// (libp2p/specs yamux/README.md). The dialer is the client (odd stream ids).
//
// Flow control: every stream starts with the spec's 256 KiB window each way.
// Our receive window is memory the peer may fill, so it is reserved in the
// session's MemoryBudget (p2p/rcmgr) before it is granted: 256 KiB when the
// stream opens (no budget: the SYN is answered with RST, or open_stream()
// fails), then, each time the reader has consumed half of it, the window is
// replenished and doubled up to Config::max_window if the budget allows
// (auto-tuning: only a stream whose reader keeps up grows; growth may use
// 3/4 of a budget, the rest is kept for new streams' first 256 KiB). A peer that sends
// past the window breaks the protocol and the session is closed with
// GoAway(protocol error). Writes block (await) on the peer's window: that is
// the back-pressure. A peer that floods pings while not reading our replies
// (the write queue over 2 × max_write_queue) loses the session.
// Single-threaded: use from the io_context's thread only.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>

#include "p2p/event.h"
#include "p2p/rcmgr/memory_budget.h"
#include "p2p/stream.h"
#include "p2p/yamux/frame.h"

namespace syndb::p2p::yamux {

struct Config {
  uint32_t max_window = 16 * 1024 * 1024;  // our per-stream receive window, bytes
  size_t max_streams = 256;                // open streams per connection (both directions)
  uint32_t max_frame = 256 * 1024;         // largest Data payload we send, bytes
  size_t max_write_queue = 4 * 1024 * 1024;  // queued outbound bytes before writers wait
};

class Session;

// A received Data payload; not zero-initialised, it is overwritten at once.
struct Chunk {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;
};

class YamuxStream : public Stream {
 public:
  YamuxStream(std::shared_ptr<Session> session, uint32_t id, uint32_t recv_window);
  ~YamuxStream() override;
  Task<Result<size_t>> read_some(MutableByteSpan buf) override;
  Task<Status> write(ByteSpan data) override;
  Task<Status> close_write() override;
  void reset() override;
  uint32_t id() const { return id_; }

 private:
  friend class Session;
  void on_data(Chunk payload);
  void on_window(uint32_t delta);
  void on_fin();
  void on_reset();
  void maybe_forget();

  std::shared_ptr<Session> session_;
  uint32_t id_;
  Event readable_, writable_;
  std::deque<Chunk> chunks_;
  size_t chunk_pos_ = 0;
  uint64_t buffered_ = 0;
  uint32_t window_;              // our receive window, bytes (reserved in the session's budget)
  uint32_t recv_window_;         // credit the peer still has, bytes
  uint32_t consumed_ = 0;        // read since the last WindowUpdate we sent
  uint32_t send_window_ = kInitialWindow;
  bool local_closed_ = false, remote_closed_ = false, reset_ = false, forgotten_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using InboundHandler = std::function<void(std::shared_ptr<YamuxStream>)>;
  using CloseHandler = std::function<void(const Error&)>;

  // budget: where stream windows are reserved (nullptr: unbounded).
  Session(std::unique_ptr<Stream> conn, bool is_client, Config config, asio::any_io_executor ex,
          std::shared_ptr<MemoryBudget> budget = nullptr);
  ~Session();

  // Starts the read and write loops. on_inbound gets every stream the peer
  // opens; on_close runs once when the session ends (EOF, error, close()).
  void start(InboundHandler on_inbound, CloseHandler on_close);
  // Opens a stream (SYN). kClosed when the session is closed or the peer sent
  // GoAway; kLimitExceeded past Config::max_streams.
  Result<std::shared_ptr<YamuxStream>> open_stream();
  // Sends GoAway(normal), flushes, and closes the connection.
  void close();
  bool closed() const { return closed_; }
  // Streams open now (both directions).
  size_t stream_count() const { return streams_.size(); }

 private:
  friend class YamuxStream;
  Task<void> read_loop();
  Task<void> write_loop();
  // Writes queued frames until the queue is empty; one flush at a time (flushing_).
  Task<void> flush();
  Task<Status> handle_frame(const FrameHeader& h);
  void send_frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length, ByteSpan payload = {});
  Task<void> wait_for_queue_space();
  void terminate(const Error& why, GoAwayCode code);
  void forget(uint32_t id) { streams_.erase(id); }
  bool reserve(uint64_t n, bool optional = false) { return !budget_ || budget_->reserve(n, optional); }
  void release(uint64_t n) {
    if (budget_) budget_->release(n);
  }

  std::unique_ptr<Stream> conn_;
  bool is_client_;
  Config config_;
  asio::any_io_executor ex_;
  std::shared_ptr<MemoryBudget> budget_;
  uint32_t next_id_;
  std::unordered_map<uint32_t, std::shared_ptr<YamuxStream>> streams_;
  Bytes queue_, writing_;
  Event queue_ready_, queue_drained_;
  bool closed_ = false, remote_goaway_ = false, writer_done_ = false, flushing_ = false;
  InboundHandler on_inbound_;
  CloseHandler on_close_;
};

}  // namespace syndb::p2p::yamux
