// libFuzzer target: the Arrow IPC stream reader on untrusted bytes.
//
// Even inputs are fed to the reader as raw stream bytes (in pieces whose
// size the input chooses). Odd inputs pick one of a few valid streams of
// every type (uncompressed, LZ4_FRAME, ZSTD, built at start-up with our
// writer) and corrupt it with the input's (position, xor) edits and an
// optional truncation, so the fuzzer reaches deep into batch decoding
// without first having to discover flatbuffers.
//
// Properties: no crash, no ASan report, only kProtocol / kLimitExceeded /
// kUnsupported / kClosed errors; and whatever is accepted can be rendered
// (every offset really is in range) and survives write -> read unchanged.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../interop/arrow_test_arrays.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "arrow/json.h"

namespace {

using namespace syndb;
using namespace syndb::arrow;

std::vector<Bytes> make_seeds() {
  std::vector<Bytes> seeds;
  testing::Batch a = testing::make_batch(testing::all_types_columns(5, 1));
  testing::Batch b = testing::make_batch(testing::all_types_columns(3, 2));
  for (auto codec : {std::optional<Codec>(), std::optional<Codec>(Codec::kLz4Frame), std::optional<Codec>(Codec::kZstd)}) {
    WriterOptions options;
    options.compression = codec;
    auto bytes = write_ipc_stream(*a.c_schema.get(), {a.array.get(), b.array.get()}, options);
    if (!bytes.ok()) __builtin_trap();
    seeds.push_back(std::move(*bytes));
  }
  return seeds;
}

ReaderOptions fuzz_options() {
  ReaderOptions o;
  o.max_metadata_bytes = 1 << 16;
  o.max_body_bytes = 1 << 20;
  o.max_array_length = 1 << 12;
  o.max_decompressed_bytes = 1 << 22;
  o.schema_limits.max_fields = 2000;
  return o;
}

void check_error(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kProtocol:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kUnsupported:
    case ErrorCode::kClosed: return;
    default: __builtin_trap();
  }
}

std::vector<const ArrowArray*> ptrs(const std::vector<OwnedArrowArray>& v) {
  std::vector<const ArrowArray*> out;
  for (const auto& a : v) out.push_back(a.get());
  return out;
}

void run(ByteSpan stream, size_t piece, bool js_compat) {
  ReaderOptions options = fuzz_options();
  options.accept_js_compressed_length_prefix = js_compat;
  IpcStreamReader reader(options);
  std::vector<OwnedArrowArray> batches;
  Status st = ok_status();
  for (size_t pos = 0; pos < stream.size() && st.ok(); pos += piece) {
    st = reader.feed(stream.subspan(pos, std::min(piece, stream.size() - pos)));
    while (auto m = reader.next()) {
      if (m->kind == MessageKind::kRecordBatch) batches.push_back(std::move(m->batch));
    }
  }
  if (st.ok()) st = reader.finish();
  if (!st.ok()) {
    check_error(st.error());
    return;
  }
  OwnedArrowSchema schema;
  if (!reader.export_schema(schema.get()).ok()) __builtin_trap();
  // Everything accepted renders (touches every value) ...
  auto json = to_canonical_json(*schema.get(), ptrs(batches));
  if (!json.ok()) __builtin_trap();
  // ... and round-trips through our writer unchanged.
  auto bytes = write_ipc_stream(*schema.get(), ptrs(batches));
  if (!bytes.ok()) __builtin_trap();
  auto again = read_ipc_stream(*bytes);  // uncompressed now: may exceed the body limit above
  if (!again.ok()) __builtin_trap();
  auto json2 = to_canonical_json(*again->schema.get(), ptrs(again->batches));
  if (!json2.ok() || *json2 != *json) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Bytes> seeds = make_seeds();
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t piece = 1 + (size > 1 ? data[1] : 0) * 37;
  const bool js_compat = (mode & 2) != 0;
  if ((mode & 1) == 0) {
    run(ByteSpan(data, size).subspan(std::min<size_t>(size, 2)), piece, js_compat);
    return 0;
  }
  // Structured: a valid stream with edits. Layout after the mode byte:
  // seed index, truncation (u16, 0 = none), then (u16 position, u8 xor) edits.
  if (size < 5) return 0;
  Bytes stream = seeds[data[1] % seeds.size()];
  uint16_t cut;
  std::memcpy(&cut, data + 2, 2);
  for (size_t i = 4; i + 3 <= size; i += 3) {
    uint16_t pos;
    std::memcpy(&pos, data + i, 2);
    stream[pos % stream.size()] ^= data[i + 2];
  }
  if (cut != 0 && cut < stream.size()) stream.resize(cut);
  run(stream, 1 + (stream.size() >> (data[1] % 4)), js_compat);
  return 0;
}
