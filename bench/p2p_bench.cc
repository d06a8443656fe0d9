// Micro-benchmarks of the p2p hot paths: Noise transport encryption and
// decryption, and Yamux frame header encode/decode. Bytes/s are plaintext.
#include <benchmark/benchmark.h>

#include "p2p/noise/noise.h"
#include "p2p/yamux/frame.h"

using namespace syndb;
using namespace syndb::p2p;

static void BM_NoiseSeal(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  NoiseCipher cipher(std::array<uint8_t, 32>{1});
  Bytes plain(size, 7);
  Bytes out(noise_sealed_size(size));
  for (auto _ : state) {
    noise_seal_frames_to(cipher, plain, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_NoiseSeal)->Arg(1024)->Arg(kNoiseMaxPlaintext)->Arg(1 << 20);

static void BM_NoiseOpen(benchmark::State& state) {
  const size_t size = kNoiseMaxPlaintext;
  std::array<uint8_t, 32> key{2};
  NoiseCipher enc(key);
  // Pre-seal enough frames with consecutive nonces; decrypt them in order.
  constexpr int kFrames = 256;
  std::vector<Bytes> frames(kFrames);
  Bytes plain(size, 3);
  for (auto& f : frames) enc.encrypt({}, plain, f);
  std::vector<Bytes> work = frames;
  NoiseCipher dec(key);
  int i = 0;
  for (auto _ : state) {
    if (i == kFrames) {
      state.PauseTiming();
      work = frames;
      dec = NoiseCipher(key);
      i = 0;
      state.ResumeTiming();
    }
    auto r = dec.decrypt_in_place({}, work[i++]);
    if (!r.ok()) state.SkipWithError("decryption failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_NoiseOpen);

static void BM_YamuxHeaderEncodeDecode(benchmark::State& state) {
  uint8_t buf[yamux::kHeaderSize];
  uint32_t id = 1;
  for (auto _ : state) {
    yamux::FrameHeader{yamux::FrameType::kData, 0, id += 2, 65536}.encode(buf);
    auto h = yamux::FrameHeader::decode(ByteSpan(buf, yamux::kHeaderSize));
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_YamuxHeaderEncodeDecode);
