// MuxedConnection: a secured connection that carries many streams — what
// the swarm needs of a stream multiplexer. Yamux implements it over a
// secured byte stream (p2p/yamux/muxer.h); a QUIC connection implements it
// natively. Nothing above p2p/ sees a muxer's own type.
// Single-threaded: the io_context's thread.
#pragma once

#include <functional>
#include <memory>

#include "p2p/stream.h"

namespace syndb::p2p {

class MuxedConnection {
 public:
  using InboundHandler = std::function<void(std::shared_ptr<Stream>)>;
  using CloseHandler = std::function<void(const Error&)>;

  virtual ~MuxedConnection() = default;
  // Starts serving: on_inbound gets every stream the peer opens; on_close
  // runs once when the connection ends (EOF, error, close()).
  virtual void start(InboundHandler on_inbound, CloseHandler on_close) = 0;
  // A new outbound stream. kClosed after close or the peer's GoAway,
  // kLimitExceeded past the stream or memory limits.
  virtual Result<std::shared_ptr<Stream>> open_stream() = 0;
  // Graceful close: tells the peer, flushes, ends the connection.
  virtual void close() = 0;
  virtual bool closed() const = 0;
  // Streams open now, both directions (0 = idle, for the connection manager).
  virtual size_t stream_count() const = 0;
};

}  // namespace syndb::p2p
