// Arrow IPC streaming format reader: bytes in, owned Arrow C Data Interface
// structures out (ArrowSchema / ArrowArray with release callbacks that free
// our memory), ready to hand to DuckDB or to re-write with IpcStreamWriter.
//
// Interface: push. feed() appends bytes and decodes every message they
// complete; next() pops decoded messages in stream order; finish() says the
// input ended (an error if it stopped inside a message or before a schema;
// the end-of-stream marker itself is optional, as in the spec). Arrow Flight
// delivers messages already split: decode_message(metadata, body).
// DictionaryBatch messages are absorbed (replacement and delta) and attached
// to the record batches that follow.
//
// Memory: each message body is copied once into 64-byte-aligned memory; the
// arrays of a batch point into it (and into decompressed buffers), and it is
// freed when the last array referencing it is released. Dictionaries are
// shared by the batches that use them.
//
// The input is untrusted. Before anything is exported the reader checks:
// continuation/length framing and size limits; the flatbuffers Verifier on
// every Message (depth and table-count bounded); schema structure (child
// counts, type parameters, nesting depth, field count); node and buffer
// counts against the schema (no more, no fewer); every buffer inside the
// body and 8-byte aligned; lengths and null counts in range; each buffer
// large enough for its array (validity >= ceil(length/8), values >=
// length * width, ...); null counts equal to the validity bitmap's;
// variable-width and list offsets non-negative, non-decreasing and within
// their data / child; view structs within their data buffers; UTF-8 for
// utf8 columns (ReaderOptions::validate_utf8); union type ids and dense
// offsets; dictionary indices within the dictionary; compressed buffers'
// declared lengths (against the codec's maximum expansion and
// max_decompressed_bytes) and that each frame decodes to exactly that
// length. Violations are an Error (kProtocol; kLimitExceeded for limits;
// kUnsupported for valid but unsupported input), never a crash or over-read.
//
// Accepted: metadata versions V4 (no unions) and V5; streams with or without
// the continuation marker (pre-0.15 framing); little-endian only; LZ4_FRAME
// and ZSTD bodies. Delta dictionaries are supported for non-nested value
// types (null, bool, fixed-width, binary/utf8 and their large variants).
//
// Thread-safety: one reader per thread; exported structures are independent.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "arrow/array.h"
#include "arrow/compression.h"
#include "arrow/schema.h"
#include "common/arrow_c_data.h"
#include "common/bytes.h"
#include "common/result.h"

namespace syndb::arrow {

struct ReaderOptions {
  SchemaLimits schema_limits;                         // nesting depth 64, 100000 fields
  int64_t max_metadata_bytes = int64_t{16} << 20;     // one Message flatbuffer
  int64_t max_body_bytes = int64_t{1} << 30;          // one message body
  int64_t max_array_length = INT32_MAX;               // slots in any array
  int64_t max_decompressed_bytes = int64_t{1} << 30;  // all buffers of one message
  bool validate_utf8 = true;
  // apache-arrow (JS) up to at least 21.2.0 writes the *compressed* length in
  // a compressed buffer's int64 prefix instead of the uncompressed one
  // (fixed by apache/arrow-js PR #470); such streams are rejected, as Arrow
  // C++/PyArrow reject them, unless this is set: then a prefix equal to the
  // compressed size means "size unknown" and the frame is decoded (still
  // bounded by max_decompressed_bytes).
  bool accept_js_compressed_length_prefix = false;
};

enum class MessageKind { kSchema, kRecordBatch, kEndOfStream };

struct ReadMessage {
  MessageKind kind = MessageKind::kSchema;
  OwnedArrowArray batch;  // kRecordBatch: a struct array whose children are the columns
};

class IpcStreamReader {
 public:
  explicit IpcStreamReader(ReaderOptions options = {});
  ~IpcStreamReader();
  IpcStreamReader(const IpcStreamReader&) = delete;
  IpcStreamReader& operator=(const IpcStreamReader&) = delete;

  // Appends stream bytes and decodes the messages they complete. After an
  // error every call returns that error.
  Status feed(ByteSpan bytes);
  // The input has ended.
  Status finish();
  // The next decoded message (nullopt: none pending).
  std::optional<ReadMessage> next();

  // Decodes one unframed message: `metadata` is the Message flatbuffer,
  // `body` its body (bodyLength bytes; Arrow Flight's data_header/data_body).
  // The result is queued for next().
  Status decode_message(ByteSpan metadata, ByteSpan body);

  bool has_schema() const;
  const Schema& schema() const;  // requires has_schema()
  // A new owned C copy of the schema (a struct "+s" of the columns).
  Status export_schema(ArrowSchema* out) const;
  bool end_of_stream() const;
  int64_t bytes_consumed() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

struct ReadStream {
  OwnedArrowSchema schema;
  std::vector<OwnedArrowArray> batches;
};

// Convenience: decodes a whole stream held in memory.
Result<ReadStream> read_ipc_stream(ByteSpan bytes, ReaderOptions options = {});

}  // namespace syndb::arrow
