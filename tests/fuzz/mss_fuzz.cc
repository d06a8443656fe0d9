// multistream-select listener fed with arbitrary peer bytes.
#include "fuzz_util.h"
#include "p2p/mss/multistream.h"

using namespace syndb;
using namespace syndb::p2p;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)mss_decode_body(ByteSpan(data, size));
  testing::feed(data, size, [](asio::io_context& io, std::unique_ptr<testing::PipeStream> s) {
    asio::co_spawn(
        io,
        [](std::unique_ptr<testing::PipeStream> s) -> Task<void> {
          const std::vector<std::string> list{"/echo/1.0.0"};
          auto supported = [](std::string_view p) { return p == "/echo/1.0.0"; };
          (void)co_await mss_handle(*s, supported, list);
        }(std::move(s)),
        asio::detached);
  });
  return 0;
}
