#include "p2p/yamux/session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <algorithm>
#include <cstring>

namespace syndb::p2p::yamux {

// ---- YamuxStream ----

YamuxStream::YamuxStream(std::shared_ptr<Session> session, uint32_t id, uint32_t recv_window)
    : session_(std::move(session)), id_(id), readable_(session_->ex_), writable_(session_->ex_),
      window_(recv_window), recv_window_(recv_window) {}

YamuxStream::~YamuxStream() { session_->release(window_); }

Task<Result<size_t>> YamuxStream::read_some(MutableByteSpan buf) {
  while (buffered_ == 0 && !remote_closed_ && !reset_) co_await readable_.wait();
  if (buffered_ == 0) {
    if (reset_) co_return Error(ErrorCode::kReset, "yamux: stream reset");
    co_return size_t{0};
  }
  size_t done = 0;
  while (done < buf.size() && !chunks_.empty()) {
    Chunk& front = chunks_.front();
    size_t n = std::min(buf.size() - done, front.size - chunk_pos_);
    std::memcpy(buf.data() + done, front.data.get() + chunk_pos_, n);
    done += n;
    chunk_pos_ += n;
    if (chunk_pos_ == front.size) {
      chunks_.pop_front();
      chunk_pos_ = 0;
    }
  }
  buffered_ -= done;
  consumed_ += static_cast<uint32_t>(done);
  if (!reset_ && !remote_closed_ && consumed_ >= window_ / 2) {
    // Replenish what was read; double the window while the budget allows.
    uint32_t grow = std::min(window_, session_->config_.max_window - window_);
    if (grow > 0 && !session_->reserve(grow, true)) grow = 0;
    window_ += grow;
    session_->send_frame(FrameType::kWindowUpdate, 0, id_, consumed_ + grow);
    recv_window_ += consumed_ + grow;
    consumed_ = 0;
  }
  co_return done;
}

Task<Status> YamuxStream::write(ByteSpan data) {
  size_t off = 0;
  while (off < data.size()) {
    while (send_window_ == 0 && !reset_ && !session_->closed_) co_await writable_.wait();
    if (reset_) co_return Error(ErrorCode::kReset, "yamux: stream reset");
    if (session_->closed_) co_return Error(ErrorCode::kClosed, "yamux: connection closed");
    if (local_closed_) co_return Error(ErrorCode::kClosed, "yamux: write after close");
    size_t n = std::min<size_t>({data.size() - off, send_window_, session_->config_.max_frame});
    session_->send_frame(FrameType::kData, 0, id_, static_cast<uint32_t>(n), data.subspan(off, n));
    send_window_ -= static_cast<uint32_t>(n);
    off += n;
    // Write inline when no one else is writing: saves waking the writer
    // coroutine, which is most of a small message's latency.
    if (!session_->flushing_ && !session_->writer_done_) {
      co_await session_->flush();
    } else {
      co_await session_->wait_for_queue_space();
    }
  }
  co_return ok_status();
}

Task<Status> YamuxStream::close_write() {
  if (reset_) co_return Error(ErrorCode::kReset, "yamux: stream reset");
  if (local_closed_) co_return ok_status();
  local_closed_ = true;
  session_->send_frame(FrameType::kWindowUpdate, flags::kFin, id_, 0);
  maybe_forget();
  co_return ok_status();
}

void YamuxStream::reset() {
  if (reset_ || forgotten_) return;
  if (!(local_closed_ && remote_closed_)) session_->send_frame(FrameType::kWindowUpdate, flags::kRst, id_, 0);
  on_reset();
}

void YamuxStream::on_data(Chunk payload) {
  buffered_ += payload.size;
  chunks_.push_back(std::move(payload));
  readable_.notify_all();
}

void YamuxStream::on_window(uint32_t delta) {
  send_window_ += delta;
  writable_.notify_all();
}

void YamuxStream::on_fin() {
  remote_closed_ = true;
  readable_.notify_all();
  maybe_forget();
}

void YamuxStream::on_reset() {
  reset_ = true;
  chunks_.clear();
  buffered_ = 0;
  readable_.notify_all();
  writable_.notify_all();
  if (!forgotten_) {
    forgotten_ = true;
    session_->forget(id_);
  }
}

void YamuxStream::maybe_forget() {
  if (local_closed_ && remote_closed_ && !forgotten_) {
    forgotten_ = true;
    session_->forget(id_);
  }
}

// ---- Session ----

Session::Session(std::unique_ptr<Stream> conn, bool is_client, Config config, asio::any_io_executor ex,
                 std::shared_ptr<MemoryBudget> budget)
    : conn_(std::move(conn)), is_client_(is_client), config_(config), ex_(ex), budget_(std::move(budget)),
      next_id_(is_client ? 1 : 2),
      queue_ready_(ex), queue_drained_(ex) {
  if (config_.max_window < kInitialWindow) config_.max_window = kInitialWindow;
}

Session::~Session() = default;

void Session::start(InboundHandler on_inbound, CloseHandler on_close) {
  on_inbound_ = std::move(on_inbound);
  on_close_ = std::move(on_close);
  auto self = shared_from_this();
  asio::co_spawn(ex_, [self]() -> Task<void> { co_await self->read_loop(); }, asio::detached);
  asio::co_spawn(ex_, [self]() -> Task<void> { co_await self->write_loop(); }, asio::detached);
}

Result<std::shared_ptr<YamuxStream>> Session::open_stream() {
  if (closed_) return Error(ErrorCode::kClosed, "yamux: connection closed");
  if (remote_goaway_) return Error(ErrorCode::kClosed, "yamux: peer sent GoAway");
  if (streams_.size() >= config_.max_streams) {
    return Error(ErrorCode::kLimitExceeded, "yamux: " + std::to_string(config_.max_streams) + " streams open");
  }
  if (!reserve(kInitialWindow)) {
    return Error(ErrorCode::kLimitExceeded, "yamux: the connection's memory budget is spent");
  }
  uint32_t id = next_id_;
  next_id_ += 2;
  auto stream = std::make_shared<YamuxStream>(shared_from_this(), id, kInitialWindow);
  streams_[id] = stream;
  send_frame(FrameType::kWindowUpdate, flags::kSyn, id, 0);
  return stream;
}

void Session::close() {
  if (closed_) return;
  send_frame(FrameType::kGoAway, 0, 0, static_cast<uint32_t>(GoAwayCode::kNormal));
  terminate(Error(ErrorCode::kClosed, "closed locally"), GoAwayCode::kNormal);
}

void Session::send_frame(FrameType type, uint16_t fl, uint32_t id, uint32_t length, ByteSpan payload) {
  if (writer_done_) return;
  FrameHeader{type, fl, id, length}.append_to(queue_);
  append(queue_, payload);
  queue_ready_.notify_all();
}

Task<void> Session::wait_for_queue_space() {
  while (queue_.size() > config_.max_write_queue && !writer_done_) co_await queue_drained_.wait();
}

Task<void> Session::flush() {
  flushing_ = true;
  while (!queue_.empty() && !writer_done_) {
    writing_.swap(queue_);
    Status st = co_await conn_->write(writing_);
    writing_.clear();
    if (!st.ok()) {
      writer_done_ = true;
      flushing_ = false;
      queue_drained_.notify_all();
      terminate(st.error(), GoAwayCode::kInternalError);
      co_return;
    }
  }
  flushing_ = false;
  queue_drained_.notify_all();
}

Task<void> Session::write_loop() {
  auto self = shared_from_this();
  for (;;) {
    while ((queue_.empty() || flushing_) && !closed_) {
      if (flushing_) {
        co_await queue_drained_.wait();
      } else {
        co_await queue_ready_.wait();
      }
    }
    if (flushing_) {  // closed while a stream flushes: let it finish first
      co_await queue_drained_.wait();
      continue;
    }
    if (queue_.empty() || writer_done_) break;  // closed and flushed
    co_await flush();
  }
  writer_done_ = true;
  queue_drained_.notify_all();
  conn_->reset();
}

Task<void> Session::read_loop() {
  auto self = shared_from_this();
  uint8_t hdr[kHeaderSize];
  for (;;) {
    Status st = co_await read_exact(*conn_, hdr);
    if (!st.ok()) {
      terminate(st.error(), GoAwayCode::kNormal);
      co_return;
    }
    auto h = FrameHeader::decode(hdr);
    if (!h.ok()) {
      terminate(h.error(), GoAwayCode::kProtocolError);
      co_return;
    }
    st = co_await handle_frame(*h);
    if (!st.ok()) {
      terminate(st.error(), st.error().code() == ErrorCode::kProtocol ? GoAwayCode::kProtocolError
                                                                       : GoAwayCode::kNormal);
      co_return;
    }
    if (closed_) co_return;
  }
}

Task<Status> Session::handle_frame(const FrameHeader& h) {
  if (h.type == FrameType::kPing) {
    if (queue_.size() > 2 * config_.max_write_queue) {
      co_return Error(ErrorCode::kLimitExceeded, "yamux: peer sends pings but does not read the replies");
    }
    if (h.flags & flags::kSyn) send_frame(FrameType::kPing, flags::kAck, 0, h.length);
    co_return ok_status();
  }
  if (h.type == FrameType::kGoAway) {
    remote_goaway_ = true;
    co_return ok_status();
  }
  // Data or WindowUpdate on a stream.
  if (h.stream_id == 0) co_return Error(ErrorCode::kProtocol, "yamux: stream frame on stream 0");
  std::shared_ptr<YamuxStream> stream;
  if (h.flags & flags::kSyn) {
    bool peer_parity_ok = (h.stream_id % 2 == 1) != is_client_;
    if (!peer_parity_ok) co_return Error(ErrorCode::kProtocol, "yamux: peer used a stream id of our parity");
    if (streams_.count(h.stream_id)) co_return Error(ErrorCode::kProtocol, "yamux: duplicate SYN");
    if (streams_.size() >= config_.max_streams || remote_goaway_ || closed_ || !reserve(kInitialWindow)) {
      send_frame(FrameType::kWindowUpdate, flags::kRst, h.stream_id, 0);
    } else {
      stream = std::make_shared<YamuxStream>(shared_from_this(), h.stream_id, kInitialWindow);
      streams_[h.stream_id] = stream;
      send_frame(FrameType::kWindowUpdate, flags::kAck, h.stream_id, 0);
      if (on_inbound_) on_inbound_(stream);
    }
  } else {
    auto it = streams_.find(h.stream_id);
    if (it != streams_.end()) stream = it->second;
  }

  if (h.type == FrameType::kData) {
    if (stream && h.length > stream->recv_window_) {
      co_return Error(ErrorCode::kProtocol, "yamux: peer exceeded the receive window of stream " +
                                                std::to_string(h.stream_id));
    }
    if (!stream && h.length > config_.max_window) {  // a stream we reset: its data is read and dropped
      co_return Error(ErrorCode::kProtocol, "yamux: oversized data frame");
    }
    // Read in pieces of at most 64 KiB: smaller than malloc's mmap threshold,
    // so buffers are recycled instead of page-faulted in anew for every frame.
    constexpr uint32_t kPiece = 64 * 1024;
    for (uint32_t left = h.length; left > 0;) {
      uint32_t n = std::min(left, kPiece);
      Chunk piece{std::unique_ptr<uint8_t[]>(new uint8_t[n]), n};
      SYNDB_CO_RETURN_IF_ERROR(co_await read_exact(*conn_, MutableByteSpan(piece.data.get(), n)));
      left -= n;
      // The stream may have been reset while we read.
      if (stream && !stream->reset_ && !stream->remote_closed_) {
        stream->recv_window_ -= n;
        stream->on_data(std::move(piece));
      }
    }
  } else if (stream) {
    stream->on_window(h.length);
  }
  if (stream) {
    if (h.flags & flags::kRst) {
      stream->on_reset();
    } else if (h.flags & flags::kFin) {
      stream->on_fin();
    }
  }
  co_return ok_status();
}

void Session::terminate(const Error& why, GoAwayCode code) {
  if (closed_) return;
  if (code != GoAwayCode::kNormal && !writer_done_) {
    send_frame(FrameType::kGoAway, 0, 0, static_cast<uint32_t>(code));
  }
  closed_ = true;
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) {
    s->forgotten_ = true;
    if (s->remote_closed_) {
      s->writable_.notify_all();  // writes now fail; data the peer finished sending stays readable
    } else {
      s->on_reset();
    }
  }
  queue_ready_.notify_all();
  queue_drained_.notify_all();
  if (writer_done_) conn_->reset();
  auto handler = std::move(on_close_);
  on_close_ = nullptr;
  on_inbound_ = nullptr;
  if (handler) handler(why);
}

}  // namespace syndb::p2p::yamux
