// Arrow IPC body compression codecs (Message.fbs BodyCompression): one LZ4
// frame (lz4frame.h, not a raw block) or one Zstandard frame per buffer.
//
// Decompression is bounded: the caller states the exact uncompressed size
// (the buffer's int64 prefix, already checked against its limits), the
// output never grows past it, and a frame that decodes to a different size
// is an error. Lengths no frame of the given size could decode to (more
// than the codec's maximum expansion) are refused before allocating.
//
// Thread-safety: a CodecContext is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "common/result.h"

namespace syndb::arrow {

enum class Codec : uint8_t { kLz4Frame = 0, kZstd = 1 };

const char* codec_name(Codec codec);

class CodecContext {
 public:
  CodecContext();
  ~CodecContext();
  CodecContext(const CodecContext&) = delete;
  CodecContext& operator=(const CodecContext&) = delete;

  // Appends one compressed frame of `src` to *out. level: zstd level
  // (default 1), lz4 compression level (0 = fast default).
  Status compress(Codec codec, ByteSpan src, int level, Bytes* out);
  // Decompresses `src` (one frame) into dst[0, expected); error unless it
  // decodes to exactly `expected` bytes.
  Status decompress(Codec codec, ByteSpan src, uint8_t* dst, size_t expected);
  // Decompresses one frame of unknown decoded size (at most `limit` bytes)
  // into *out. Only for peers that mislabel the size (see ReaderOptions).
  Status decompress_unsized(Codec codec, ByteSpan src, size_t limit, Bytes* out);
  // The largest uncompressed size a frame of `compressed` bytes can decode to.
  static uint64_t max_expansion(Codec codec, uint64_t compressed);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace syndb::arrow
