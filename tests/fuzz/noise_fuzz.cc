// Noise: handshake payload decoding, transport decryption, and a responder
// handshake fed with arbitrary peer bytes.
#include "fuzz_util.h"
#include "p2p/noise/noise.h"

using namespace syndb;
using namespace syndb::p2p;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Ed25519PrivateKey key = Ed25519PrivateKey::generate();
  Bytes static_key(32, 9);
  (void)noise_verify_payload(ByteSpan(data, size), static_key);
  Bytes frame(data, data + std::min<size_t>(size, kNoiseMaxMessage));
  NoiseCipher cipher(std::array<uint8_t, 32>{});
  (void)cipher.decrypt_in_place({}, frame);
  testing::feed(data, size, [](asio::io_context& io, std::unique_ptr<testing::PipeStream> s) {
    asio::co_spawn(
        io,
        [](std::unique_ptr<testing::PipeStream> s) -> Task<void> {
          auto r = co_await noise_handshake(std::move(s), key, false, std::nullopt);
          if (r.ok()) {
            Bytes buf(1024);
            (void)co_await (*r)->read_some(buf);
          }
        }(std::move(s)),
        asio::detached);
  });
  return 0;
}
