#include "p2p/transport/memory.h"

#include <boost/asio/post.hpp>
#include <map>
#include <mutex>

namespace syndb::p2p {

Task<Result<size_t>> MemoryStream::read_some(MutableByteSpan buf) {
  while (in_->data.empty() && !in_->eof && !in_->reset) co_await in_->readable.wait();
  if (in_->reset) co_return Error(ErrorCode::kReset, "pipe reset");
  if (in_->data.empty()) co_return size_t{0};
  size_t n = std::min(buf.size(), in_->data.size());
  std::copy_n(in_->data.begin(), n, buf.begin());
  in_->data.erase(in_->data.begin(), in_->data.begin() + static_cast<long>(n));
  in_->writable.notify_all();
  co_return n;
}

Task<Status> MemoryStream::write(ByteSpan data) {
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

Task<Status> MemoryStream::close_write() {
  out_->eof = true;
  out_->readable.notify_all();
  co_return ok_status();
}

void MemoryStream::reset() {
  for (auto* b : {in_.get(), out_.get()}) {
    b->reset = true;
    b->readable.notify_all();
    b->writable.notify_all();
  }
}

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> make_memory_pipe(asio::any_io_executor ex) {
  auto ab = std::make_shared<PipeBuffer>(ex);
  auto ba = std::make_shared<PipeBuffer>(ex);
  return {std::make_unique<MemoryStream>(ba, ab), std::make_unique<MemoryStream>(ab, ba)};
}

namespace {

struct Listener {
  asio::io_context* io;
  Transport::AcceptHandler on_accept;
};

// The process's /memory listeners.
struct Network {
  std::mutex mu;
  std::map<uint64_t, Listener> listeners;
  uint64_t next = 1;
  static Network& get() {
    static Network n;
    return n;
  }
};

std::optional<uint64_t> memory_id(const Multiaddr& addr) {
  auto comps = addr.components();
  if (comps.empty() || comps[0].code != multicodec::kMemory || comps[0].value.size() != 8) return std::nullopt;
  if (comps.size() > 2 || (comps.size() == 2 && comps[1].code != multicodec::kP2p)) return std::nullopt;
  uint64_t x = 0;
  for (uint8_t b : comps[0].value) x = x << 8 | b;
  return x;
}

Multiaddr memory_addr(uint64_t id) { return *Multiaddr::from_string("/memory/" + std::to_string(id)); }

}  // namespace

MemoryTransport::~MemoryTransport() { close(); }

bool MemoryTransport::handles(const Multiaddr& addr) const { return memory_id(addr).has_value(); }

Result<Multiaddr> MemoryTransport::listen(const Multiaddr& addr, AcceptHandler on_accept) {
  auto id = memory_id(addr);
  if (!id) return Error(ErrorCode::kInvalidArgument, "not a /memory/<id> multiaddr: " + addr.to_string());
  Network& net = Network::get();
  std::lock_guard lock(net.mu);
  if (*id == 0) {
    while (net.listeners.count(net.next)) ++net.next;
    id = net.next++;
  }
  if (net.listeners.count(*id)) return Error(ErrorCode::kIo, "/memory/" + std::to_string(*id) + " is in use");
  net.listeners[*id] = Listener{&io_, std::move(on_accept)};
  listening_.push_back(*id);
  return memory_addr(*id);
}

Task<Result<TransportConnection>> MemoryTransport::dial(const Multiaddr& addr) {
  auto id = memory_id(addr);
  if (!id) co_return Error(ErrorCode::kInvalidArgument, "not a /memory/<id> multiaddr: " + addr.to_string());
  Network& net = Network::get();
  Listener listener;
  uint64_t local_id;
  {
    std::lock_guard lock(net.mu);
    auto it = net.listeners.find(*id);
    if (it == net.listeners.end())
      co_return Error(ErrorCode::kIo, "cannot connect to " + addr.to_string() + ": refused");
    listener = it->second;
    local_id = net.next++;  // the dialer's ephemeral id, like a source port
  }
  if (listener.io != &io_) co_return Error(ErrorCode::kUnsupported, "/memory peers must share one io_context");
  auto [ours, theirs] = make_memory_pipe(io_.get_executor());
  TransportConnection in;
  in.local = memory_addr(*id);
  in.remote = memory_addr(local_id);
  in.raw = std::move(theirs);
  // Accepted on the next turn of the loop, as a socket accept would be.
  asio::post(io_, [handler = listener.on_accept, c = std::make_shared<TransportConnection>(std::move(in))]() mutable {
    handler(std::move(*c));
  });
  TransportConnection out;
  out.local = memory_addr(local_id);
  out.remote = memory_addr(*id);
  out.raw = std::move(ours);
  co_return out;
}

void MemoryTransport::close() {
  Network& net = Network::get();
  std::lock_guard lock(net.mu);
  for (auto id : listening_) net.listeners.erase(id);
  listening_.clear();
}

}  // namespace syndb::p2p
