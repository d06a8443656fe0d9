// Yamux: header decoding, and a server session fed with arbitrary peer bytes.
#include "fuzz_util.h"
#include "p2p/yamux/session.h"

using namespace syndb;
using namespace syndb::p2p;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= yamux::kHeaderSize) {
    auto h = yamux::FrameHeader::decode(ByteSpan(data, yamux::kHeaderSize));
    if (h.ok()) {
      uint8_t again[yamux::kHeaderSize];
      h->encode(again);
      if (std::memcmp(again, data, yamux::kHeaderSize) != 0) __builtin_trap();
    }
  }
  testing::feed(data, size, [](asio::io_context& io, std::unique_ptr<testing::PipeStream> s) {
    yamux::Config cfg;
    cfg.max_window = yamux::kInitialWindow;
    cfg.max_streams = 8;
    auto session = std::make_shared<yamux::Session>(std::move(s), false, cfg, io.get_executor());
    // Echo what each inbound stream sends, so writes and window updates are exercised too.
    session->start(
        [&io](std::shared_ptr<yamux::YamuxStream> st) {
          asio::co_spawn(
              io,
              [](std::shared_ptr<yamux::YamuxStream> st) -> Task<void> {
                Bytes buf(4096);
                for (;;) {
                  auto n = co_await st->read_some(buf);
                  if (!n.ok() || *n == 0) break;
                  if (!(co_await st->write(ByteSpan(buf.data(), *n))).ok()) break;
                }
                (void)co_await st->close_write();
              }(st),
              asio::detached);
        },
        [](const Error&) {});
  });
  return 0;
}
