// Arrow IPC streaming format writer (apache/arrow docs/source/format/
// Columnar.rst, "Serialization and Interprocess Communication"), from Arrow C
// Data Interface batches such as DuckDB's duckdb_data_chunk_to_arrow output.
//
// A stream is: Schema message, then for each batch any DictionaryBatch
// messages it needs followed by its RecordBatch message, then the
// end-of-stream marker (FFFFFFFF 00000000). Each message is framed as
// continuation FFFFFFFF, int32 LE metadata length (padded so the body starts
// 8-aligned), the Message flatbuffer (format/Message.fbs, version V5),
// padding, and the body: every buffer at an 8-aligned offset, zero-padded to
// a multiple of 8. Little-endian throughout.
//
// Batches are read, never modified: sliced arrays (offset != 0) are
// normalised on the way out (validity and boolean bitmaps shifted, offsets
// re-based to 0, values sliced), null counts recomputed when the C array
// does not state them for exactly the written range (or says -1), and
// validity bitmaps omitted for arrays without nulls. Buffers that need no
// change are passed to the sink in place, without copying.
//
// Dictionary-encoded columns: the dictionary is sent (as a non-delta
// DictionaryBatch, i.e. a replacement) before the first batch that uses it
// and again only when its contents change; DuckDB re-exports ENUM
// dictionaries with every chunk, which therefore costs one comparison.
//
// Optional body compression (WriterOptions::compression): LZ4_FRAME or ZSTD,
// one frame per buffer prefixed by its int64 uncompressed length; buffers
// that do not shrink are stored raw with length -1. Off by default: Arrow JS
// decodes compressed bodies only with a codec registered by the application,
// so compression has to be agreed per peer.
//
// Types: see arrow/schema.h. The string_view type ("vu"/"vz", Utf8View/
// BinaryView) is supported; DuckDB 1.4.4 emits it only with
// produce_arrow_string_view=true and arrow_output_version >= 1.4 (default:
// plain "u"/"z").
//
// Thread-safety: one writer per thread; the sink is called on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "arrow/compression.h"
#include "arrow/schema.h"
#include "common/arrow_c_data.h"
#include "common/bytes.h"
#include "common/result.h"

namespace syndb::arrow {

struct WriterOptions {
  std::optional<Codec> compression;  // none by default
  int compression_level = 0;         // 0: the codec's default (zstd 1, lz4 fast)
};

// One IPC message before framing (what Arrow Flight sends as FlightData:
// data_header = metadata, data_body = the concatenated body pieces).
struct EncodedMessage {
  Bytes metadata;              // the Message flatbuffer, unpadded
  int64_t body_length = 0;     // sum of the body pieces' sizes, a multiple of 8
  std::vector<ByteSpan> body;  // buffers and padding, in order
};

// Encodes messages without framing them. The spans of an EncodedMessage
// point into the batch being encoded and into the encoder's scratch memory:
// they stay valid until the next encode_batch() call, and while the batch is
// alive.
class IpcEncoder {
 public:
  explicit IpcEncoder(WriterOptions options = {});
  ~IpcEncoder();
  IpcEncoder(IpcEncoder&&) noexcept;
  IpcEncoder& operator=(IpcEncoder&&) noexcept;

  // Imports the stream's schema (a struct "+s" whose children are the
  // columns). Errors: kInvalidArgument, kUnsupported (a type not supported).
  Status set_schema(const ArrowSchema& schema);
  bool has_schema() const;
  const Schema& schema() const;
  // The Schema message (no body).
  EncodedMessage schema_message() const;
  // The DictionaryBatch messages `batch` needs (if any), then its RecordBatch.
  // `batch` is a struct array whose children are the columns.
  Result<std::vector<EncodedMessage>> encode_batch(const ArrowArray& batch);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Writes the framing of one message (continuation, length, metadata,
// padding) and its body to `sink`.
Status write_framed(const EncodedMessage& message, const std::function<Status(ByteSpan)>& sink);

// The 8-byte end-of-stream marker.
ByteSpan end_of_stream_marker();

class IpcStreamWriter {
 public:
  using Sink = std::function<Status(ByteSpan)>;

  explicit IpcStreamWriter(Sink sink, WriterOptions options = {});

  // Writes the Schema message; must be called once, before any batch.
  Status write_schema(const ArrowSchema& schema);
  // Writes the dictionaries the batch needs and the batch.
  Status write_batch(const ArrowArray& batch);
  // Writes the end-of-stream marker; the writer accepts nothing afterwards.
  Status finish();

  int64_t bytes_written() const { return bytes_written_; }
  const IpcEncoder& encoder() const { return encoder_; }

 private:
  Status emit(ByteSpan bytes);

  Sink sink_;
  IpcEncoder encoder_;
  bool finished_ = false;
  int64_t bytes_written_ = 0;
};

// Convenience: the whole stream (schema, batches, EOS) in memory.
Result<Bytes> write_ipc_stream(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches,
                               WriterOptions options = {});

}  // namespace syndb::arrow
