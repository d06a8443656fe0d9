#include "p2p/echo/echo.h"

namespace syndb::p2p {

void register_echo(Host& host) {
  host.set_stream_handler(std::string(kEchoProtocol), [](NegotiatedStream ns) -> Task<void> {
    Bytes buf(64 * 1024);
    for (;;) {
      auto n = co_await ns.stream->read_some(buf);
      if (!n.ok()) {
        ns.stream->reset();
        co_return;
      }
      if (*n == 0) break;
      if (!(co_await ns.stream->write(ByteSpan(buf.data(), *n))).ok()) co_return;
    }
    (void)co_await ns.stream->close_write();
  });
}

}  // namespace syndb::p2p
