// Arrow IPC encode / decode throughput, one core: a 1M-row record batch of
// (int64, double, utf8) with ~1% nulls in every column, 8..40-byte strings.
//
// Bytes/s is the size of the IPC stream (uncompressed size for the
// compressed variants, so the numbers compare). Encode writes the stream
// into a reused in-memory buffer (one memcpy of every body byte); decode
// parses it, copies each body once into aligned memory, validates
// everything (offsets, UTF-8, null counts) and exports C Data Interface
// arrays.
//
//   build/bench/syndb_microbench --benchmark_filter=ArrowIpc
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "arrow/array.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "arrow/schema.h"

namespace {

using namespace syndb;
using namespace syndb::arrow;

constexpr int64_t kRows = 1'000'000;

struct Data {
  OwnedArrowSchema schema;
  OwnedArrowArray batch;
  int64_t stream_bytes = 0;
};

const Data& data() {
  static Data* d = [] {
    auto* out = new Data;
    std::vector<uint8_t> validity((kRows + 7) / 8, 0xFF);
    int64_t nulls = 0;
    for (int64_t i = 0; i < kRows; i += 97) {
      validity[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
      ++nulls;
    }
    std::vector<int64_t> ints(kRows);
    std::vector<double> doubles(kRows);
    std::vector<int32_t> offsets(kRows + 1, 0);
    std::string chars;
    chars.reserve(static_cast<size_t>(kRows) * 24);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < kRows; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      ints[i] = static_cast<int64_t>(x);
      doubles[i] = static_cast<double>(x % 1000000) / 7.0;
      if (i % 97 != 0) {
        const int len = 8 + static_cast<int>(x % 33);
        for (int k = 0; k < len; ++k) chars += static_cast<char>('a' + (x >> (k % 50)) % 26);
      }
      offsets[i + 1] = static_cast<int32_t>(chars.size());
    }
    auto column = [&](const std::string& name) {
      auto a = std::make_shared<ArrayData>();
      a->length = kRows;
      a->null_count = nulls;
      a->buffers.push_back(make_buffer(*a, validity));
      return a;
    };
    auto c_int = column("i");
    c_int->buffers.push_back(make_buffer(*c_int, ints));
    auto c_dbl = column("d");
    c_dbl->buffers.push_back(make_buffer(*c_dbl, doubles));
    auto c_str = column("s");
    c_str->buffers.push_back(make_buffer(*c_str, offsets));
    c_str->buffers.push_back(make_buffer(*c_str, std::vector<uint8_t>(chars.begin(), chars.end())));
    Schema schema;
    for (auto [name, format] : {std::pair{"i", "l"}, {"d", "g"}, {"s", "u"}}) {
      Field f;
      f.name = name;
      f.type = *parse_format(format);
      schema.fields.push_back(f);
    }
    (void)export_schema(schema, out->schema.get());
    export_batch(kRows, {c_int, c_dbl, c_str}, out->batch.get());
    out->stream_bytes = static_cast<int64_t>(write_ipc_stream(*out->schema.get(), {out->batch.get()})->size());
    return out;
  }();
  return *d;
}

std::optional<Codec> codec_of(int64_t arg) {
  if (arg == 1) return Codec::kLz4Frame;
  if (arg == 2) return Codec::kZstd;
  return std::nullopt;
}

void BM_ArrowIpcEncode(benchmark::State& state) {
  const Data& d = data();
  WriterOptions options;
  options.compression = codec_of(state.range(0));
  Bytes out;
  out.reserve(static_cast<size_t>(d.stream_bytes) + 4096);
  for (auto _ : state) {
    out.clear();
    IpcStreamWriter writer(
        [&out](ByteSpan b) {
          out.insert(out.end(), b.begin(), b.end());
          return ok_status();
        },
        options);
    if (!writer.write_schema(*d.schema.get()).ok() || !writer.write_batch(*d.batch.get()).ok() || !writer.finish().ok()) {
      state.SkipWithError("encode failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * d.stream_bytes);
  state.counters["stream_MB"] = static_cast<double>(out.size()) / 1e6;
}
BENCHMARK(BM_ArrowIpcEncode)->Arg(0)->Arg(1)->Arg(2)->ArgNames({"codec"})->Unit(benchmark::kMillisecond);

void BM_ArrowIpcDecode(benchmark::State& state) {
  const Data& d = data();
  WriterOptions options;
  options.compression = codec_of(state.range(0));
  Bytes stream = *write_ipc_stream(*d.schema.get(), {d.batch.get()}, options);
  ReaderOptions read_options;
  read_options.validate_utf8 = state.range(1) != 0;
  for (auto _ : state) {
    auto r = read_ipc_stream(stream, read_options);
    if (!r.ok() || r->batches.size() != 1) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(r->batches[0]->length);
  }
  state.SetBytesProcessed(state.iterations() * d.stream_bytes);
}
BENCHMARK(BM_ArrowIpcDecode)
    ->Args({0, 1})
    ->Args({0, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->ArgNames({"codec", "utf8_check"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
