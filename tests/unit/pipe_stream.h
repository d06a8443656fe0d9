// In-memory Stream pair for tests and fuzz targets (no gtest dependency).
#pragma once

#include <boost/asio/io_context.hpp>
#include <deque>
#include <memory>

#include "p2p/event.h"
#include "p2p/stream.h"

namespace syndb::p2p::testing {

// One direction of an in-memory pipe, bounded so writers feel back-pressure.
struct PipeBuffer {
  explicit PipeBuffer(asio::any_io_executor ex) : readable(ex), writable(ex) {}
  std::deque<uint8_t> data;
  bool eof = false, reset = false;
  size_t capacity = 1 << 20;
  Event readable, writable;
};

class PipeStream : public Stream {
 public:
  PipeStream(std::shared_ptr<PipeBuffer> in, std::shared_ptr<PipeBuffer> out) : in_(in), out_(out) {}
  ~PipeStream() override { reset(); }  // like closing a socket
  Task<Result<size_t>> read_some(MutableByteSpan buf) override {
    while (in_->data.empty() && !in_->eof && !in_->reset) co_await in_->readable.wait();
    if (in_->reset) co_return Error(ErrorCode::kReset, "pipe reset");
    if (in_->data.empty()) co_return size_t{0};
    size_t n = std::min(buf.size(), in_->data.size());
    std::copy_n(in_->data.begin(), n, buf.begin());
    in_->data.erase(in_->data.begin(), in_->data.begin() + static_cast<long>(n));
    in_->writable.notify_all();
    co_return n;
  }
  Task<Status> write(ByteSpan data) override {
    size_t off = 0;
    while (off < data.size()) {
      while (out_->data.size() >= out_->capacity && !out_->reset) co_await out_->writable.wait();
      if (out_->reset || out_->eof) co_return Error(ErrorCode::kReset, "pipe closed");
      size_t n = std::min(data.size() - off, out_->capacity - out_->data.size());
      out_->data.insert(out_->data.end(), data.begin() + static_cast<long>(off),
                        data.begin() + static_cast<long>(off + n));
      off += n;
      out_->readable.notify_all();
    }
    co_return ok_status();
  }
  Task<Status> close_write() override {
    out_->eof = true;
    out_->readable.notify_all();
    co_return ok_status();
  }
  void reset() override {
    for (auto* b : {in_.get(), out_.get()}) {
      b->reset = true;
      b->readable.notify_all();
      b->writable.notify_all();
    }
  }

 private:
  std::shared_ptr<PipeBuffer> in_, out_;
};

inline std::pair<std::unique_ptr<PipeStream>, std::unique_ptr<PipeStream>> make_pipe(asio::io_context& io) {
  auto ab = std::make_shared<PipeBuffer>(io.get_executor());
  auto ba = std::make_shared<PipeBuffer>(io.get_executor());
  return {std::make_unique<PipeStream>(ba, ab), std::make_unique<PipeStream>(ab, ba)};
}

}  // namespace syndb::p2p::testing
