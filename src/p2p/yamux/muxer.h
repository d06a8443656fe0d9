// Yamux as a MuxedConnection (p2p/muxer.h): the swarm's view of a
// yamux::Session.
#pragma once

#include "p2p/muxer.h"
#include "p2p/yamux/session.h"

namespace syndb::p2p::yamux {

class YamuxMuxer : public MuxedConnection {
 public:
  // client: the Yamux client role (odd stream ids), set by the upgrader,
  // not necessarily the dialer (hole punching).
  YamuxMuxer(std::unique_ptr<Stream> secured, bool client, Config config, asio::any_io_executor ex,
             std::shared_ptr<MemoryBudget> budget)
      : session_(std::make_shared<Session>(std::move(secured), client, config, ex, std::move(budget))) {}
  ~YamuxMuxer() override = default;

  void start(InboundHandler on_inbound, CloseHandler on_close) override {
    session_->start([h = std::move(on_inbound)](std::shared_ptr<YamuxStream> s) { h(std::move(s)); },
                    std::move(on_close));
  }
  Result<std::shared_ptr<Stream>> open_stream() override {
    auto s = session_->open_stream();
    if (!s.ok()) return s.error();
    return std::shared_ptr<Stream>(std::move(s).value());
  }
  void close() override { session_->close(); }
  bool closed() const override { return session_->closed(); }
  size_t stream_count() const override { return session_->stream_count(); }

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace syndb::p2p::yamux
