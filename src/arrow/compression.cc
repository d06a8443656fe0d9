#include "arrow/compression.h"

#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <string>

namespace syndb::arrow {

const char* codec_name(Codec codec) { return codec == Codec::kLz4Frame ? "LZ4_FRAME" : "ZSTD"; }

struct CodecContext::Impl {
  ZSTD_CCtx* zc = nullptr;
  ZSTD_DCtx* zd = nullptr;
  LZ4F_dctx* ld = nullptr;
  ~Impl() {
    if (zc) ZSTD_freeCCtx(zc);
    if (zd) ZSTD_freeDCtx(zd);
    if (ld) LZ4F_freeDecompressionContext(ld);
  }
};

CodecContext::CodecContext() : impl_(std::make_unique<Impl>()) {}
CodecContext::~CodecContext() = default;

namespace {
Error codec_error(Codec c, const std::string& what) {
  return Error(ErrorCode::kProtocol, std::string("arrow: ") + codec_name(c) + ": " + what);
}
}  // namespace

uint64_t CodecContext::max_expansion(Codec codec, uint64_t n) {
  if (codec == Codec::kLz4Frame) {
    // An LZ4 sequence of k bytes expands to at most ~255*k bytes.
    return n * 255 + 1024;
  }
  // A zstd block header (3 bytes) + one RLE byte yields at most 128 KiB.
  return (n / 4 + 1) * 131072;
}

Status CodecContext::compress(Codec codec, ByteSpan src, int level, Bytes* out) {
  const size_t base = out->size();
  if (codec == Codec::kZstd) {
    if (!impl_->zc && !(impl_->zc = ZSTD_createCCtx())) return codec_error(codec, "out of memory");
    const size_t cap = ZSTD_compressBound(src.size());
    out->resize(base + cap);
    const size_t n = ZSTD_compressCCtx(impl_->zc, out->data() + base, cap, src.data(), src.size(), level == 0 ? 1 : level);
    if (ZSTD_isError(n)) {
      out->resize(base);
      return codec_error(codec, ZSTD_getErrorName(n));
    }
    out->resize(base + n);
    return ok_status();
  }
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = src.size();
  prefs.compressionLevel = level;
  const size_t cap = LZ4F_compressFrameBound(src.size(), &prefs);
  out->resize(base + cap);
  const size_t n = LZ4F_compressFrame(out->data() + base, cap, src.data(), src.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(base);
    return codec_error(codec, LZ4F_getErrorName(n));
  }
  out->resize(base + n);
  return ok_status();
}

Status CodecContext::decompress(Codec codec, ByteSpan src, uint8_t* dst, size_t expected) {
  if (expected > max_expansion(codec, src.size())) {
    return codec_error(codec, "uncompressed length " + std::to_string(expected) + " impossible for " +
                                  std::to_string(src.size()) + " compressed bytes");
  }
  if (codec == Codec::kZstd) {
    const unsigned long long declared = ZSTD_getFrameContentSize(src.data(), src.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR) return codec_error(codec, "not a zstd frame");
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != expected) {
      return codec_error(codec, "frame content size " + std::to_string(declared) + " != declared length " +
                                    std::to_string(expected));
    }
    if (!impl_->zd && !(impl_->zd = ZSTD_createDCtx())) return codec_error(codec, "out of memory");
    const size_t n = ZSTD_decompressDCtx(impl_->zd, dst, expected, src.data(), src.size());
    if (ZSTD_isError(n)) {
      return codec_error(codec, std::string(ZSTD_getErrorName(n)) + " (declared uncompressed length " +
                                    std::to_string(expected) + ")");
    }
    if (n != expected) {
      return codec_error(codec, "decoded " + std::to_string(n) + " bytes, declared " + std::to_string(expected));
    }
    return ok_status();
  }
  if (!impl_->ld) {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&impl_->ld, LZ4F_VERSION))) {
      impl_->ld = nullptr;
      return codec_error(codec, "out of memory");
    }
  }
  LZ4F_resetDecompressionContext(impl_->ld);
  size_t in_pos = 0;
  size_t out_pos = 0;
  while (true) {
    size_t in_n = src.size() - in_pos;
    size_t out_n = expected - out_pos;
    LZ4F_decompressOptions_t opts{};
    // A dummy 1-byte window when the output is full lets LZ4F report "frame
    // not finished" (more output) instead of spinning on an empty buffer.
    uint8_t overflow = 0;
    uint8_t* out_ptr = out_n > 0 ? dst + out_pos : &overflow;
    if (out_n == 0) out_n = 1;
    const size_t r = LZ4F_decompress(impl_->ld, out_ptr, &out_n, src.data() + in_pos, &in_n, &opts);
    if (LZ4F_isError(r)) return codec_error(codec, LZ4F_getErrorName(r));
    if (out_ptr == &overflow && out_n > 0) {
      return codec_error(codec, "frame decodes to more than the declared " + std::to_string(expected) + " bytes");
    }
    if (out_ptr != &overflow) out_pos += out_n;
    in_pos += in_n;
    if (r == 0) break;  // frame complete
    if (in_n == 0 && out_n == 0) return codec_error(codec, "truncated frame");  // no progress
  }
  if (in_pos != src.size()) return codec_error(codec, "trailing bytes after the frame");
  if (out_pos != expected) {
    return codec_error(codec, "decoded " + std::to_string(out_pos) + " bytes, declared " + std::to_string(expected));
  }
  return ok_status();
}

Status CodecContext::decompress_unsized(Codec codec, ByteSpan src, size_t limit, Bytes* out) {
  out->clear();
  const size_t bound = static_cast<size_t>(std::min<uint64_t>(limit, max_expansion(codec, src.size())));
  size_t in_pos = 0;
  if (codec == Codec::kZstd) {
    if (!impl_->zd && !(impl_->zd = ZSTD_createDCtx())) return codec_error(codec, "out of memory");
    ZSTD_DCtx_reset(impl_->zd, ZSTD_reset_session_only);
    size_t ret = 1;
    while (true) {
      if (out->size() == bound) {
        if (ret == 0 && in_pos == src.size()) break;
        return codec_error(codec, "frame decodes to more than " + std::to_string(bound) + " bytes");
      }
      const size_t used = out->size();
      out->resize(std::min(bound, std::max<size_t>(used * 2, 4096)));
      ZSTD_inBuffer in{src.data(), src.size(), in_pos};
      ZSTD_outBuffer o{out->data(), out->size(), used};
      ret = ZSTD_decompressStream(impl_->zd, &o, &in);
      if (ZSTD_isError(ret)) return codec_error(codec, ZSTD_getErrorName(ret));
      out->resize(o.pos);
      const bool progress = in.pos != in_pos || o.pos != used;
      in_pos = in.pos;
      if (ret == 0 && in_pos == src.size()) break;
      if (!progress) return codec_error(codec, "truncated frame");
    }
    return ok_status();
  }
  if (!impl_->ld) {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&impl_->ld, LZ4F_VERSION))) {
      impl_->ld = nullptr;
      return codec_error(codec, "out of memory");
    }
  }
  LZ4F_resetDecompressionContext(impl_->ld);
  while (true) {
    const size_t used = out->size();
    if (used == bound) out->resize(used + 1);  // room to detect overflow
    else out->resize(std::min(bound, std::max<size_t>(used * 2, 4096)));
    size_t in_n = src.size() - in_pos;
    size_t out_n = out->size() - used;
    LZ4F_decompressOptions_t opts{};
    const size_t r = LZ4F_decompress(impl_->ld, out->data() + used, &out_n, src.data() + in_pos, &in_n, &opts);
    if (LZ4F_isError(r)) return codec_error(codec, LZ4F_getErrorName(r));
    out->resize(used + out_n);
    if (out->size() > bound) return codec_error(codec, "frame decodes to more than " + std::to_string(bound) + " bytes");
    in_pos += in_n;
    if (r == 0) break;
    if (in_n == 0 && out_n == 0) return codec_error(codec, "truncated frame");
  }
  if (in_pos != src.size()) return codec_error(codec, "trailing bytes after the frame");
  return ok_status();
}

}  // namespace syndb::arrow
