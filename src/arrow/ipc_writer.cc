#include "arrow/ipc_writer.h"

#include <cstring>
#include <string>

#include "arrow/array.h"
#include "arrow/bits.h"
#include "arrow/ipc_metadata.h"

namespace syndb::arrow {

namespace fb = ipc::fb;

namespace {

Error bad_input(const std::string& what) { return Error(ErrorCode::kInvalidArgument, "arrow ipc writer: " + what); }

alignas(8) const uint8_t kZeros[8] = {};

// Collects the nodes, buffers and body pieces of one message body.
class BodyEncoder {
 public:
  BodyEncoder(const WriterOptions& options, CodecContext* codec, std::vector<Bytes>* scratch)
      : options_(options), codec_(codec), scratch_(scratch) {}

  void node(int64_t length, int64_t null_count) { nodes.emplace_back(length, null_count); }

  Status add(const void* data, int64_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    if (len == 0) {
      buffers.emplace_back(offset, 0);
      return ok_status();
    }
    if (!options_.compression) {
      buffers.emplace_back(offset, len);
      pieces.emplace_back(p, static_cast<size_t>(len));
      pad(len);
      return ok_status();
    }
    Bytes& out = scratch_->emplace_back();
    out.resize(8);
    SYNDB_RETURN_IF_ERROR(codec_->compress(*options_.compression, ByteSpan(p, static_cast<size_t>(len)),
                                           options_.compression_level, &out));
    int64_t stored = 0;
    if (static_cast<int64_t>(out.size()) - 8 < len) {
      const int64_t n = len;
      std::memcpy(out.data(), &n, 8);
      pieces.emplace_back(out.data(), out.size());
      stored = static_cast<int64_t>(out.size());
    } else {
      // Compression does not help: -1 and the raw bytes.
      out.resize(8);
      const int64_t n = -1;
      std::memcpy(out.data(), &n, 8);
      pieces.emplace_back(out.data(), 8);
      pieces.emplace_back(p, static_cast<size_t>(len));
      stored = 8 + len;
    }
    buffers.emplace_back(offset, stored);
    pad(stored);
    return ok_status();
  }

  // A copy owned by the encoder (for shifted bitmaps and re-based offsets).
  Bytes& scratch() { return scratch_->emplace_back(); }

  std::vector<fb::FieldNode> nodes;
  std::vector<fb::Buffer> buffers;
  std::vector<int64_t> variadic;
  std::vector<ByteSpan> pieces;
  int64_t offset = 0;

 private:
  void pad(int64_t len) {
    offset += len;
    const int64_t padding = (8 - (len % 8)) % 8;
    if (padding) pieces.emplace_back(kZeros, static_cast<size_t>(padding));
    offset += padding;
  }

  const WriterOptions& options_;
  CodecContext* codec_;
  std::vector<Bytes>* scratch_;
};

}  // namespace

struct IpcEncoder::State {
  WriterOptions options;
  std::optional<Schema> schema;
  CodecContext codec;
  std::vector<Bytes> scratch;
  // Last dictionary sent per id: its body bytes, to skip unchanged re-sends.
  std::map<int64_t, Bytes> sent_dictionaries;
  std::map<int64_t, std::pair<const Field*, const ArrowArray*>> pending_dictionaries;

  Status encode_bits(BodyEncoder& body, const uint8_t* bits, int64_t off, int64_t n) {
    const int64_t nbytes = (n + 7) / 8;
    if (n == 0) return body.add(nullptr, 0);
    if (off % 8 == 0) return body.add(bits + off / 8, nbytes);
    Bytes& out = body.scratch();
    out.resize(static_cast<size_t>(nbytes));
    copy_bits(bits, off, n, out.data());
    return body.add(out.data(), nbytes);
  }

  template <typename O>
  Status encode_offsets(BodyEncoder& body, const ArrowArray& a, int64_t off, int64_t n, int64_t* first,
                        int64_t* last) {
    if (n == 0) {
      *first = *last = 0;
      return body.add(zero_buffer(), sizeof(O));
    }
    const O* offsets = static_cast<const O*>(a.buffers[1]);
    if (offsets == nullptr) return bad_input("offsets buffer missing");
    *first = static_cast<int64_t>(offsets[off]);
    *last = static_cast<int64_t>(offsets[off + n]);
    if (*first < 0 || *last < *first) return bad_input("offsets not increasing");
    if (*first == 0) return body.add(offsets + off, (n + 1) * static_cast<int64_t>(sizeof(O)));
    Bytes& out = body.scratch();
    out.resize(static_cast<size_t>(n + 1) * sizeof(O));
    O* rebased = reinterpret_cast<O*>(out.data());
    const O base = offsets[off];
    for (int64_t i = 0; i <= n; ++i) rebased[i] = offsets[off + i] - base;
    return body.add(out.data(), static_cast<int64_t>(out.size()));
  }

  // off: absolute slot index into a's buffers (a.offset already included); n: slots.
  Status encode_array(const Field& f, const ArrowArray& a, int64_t off, int64_t n, BodyEncoder& body) {
    const std::string where = "column '" + f.name + "'";
    const Layout layout = storage_layout(f);
    if (a.offset < 0 || a.length < 0 || off < a.offset || n < 0 || off - a.offset + n > a.length) {
      return bad_input(where + ": array of length " + std::to_string(a.length) + " cannot supply slots [" +
                       std::to_string(off - a.offset) + ", " + std::to_string(off - a.offset + n) + ")");
    }
    if (layout != Layout::kNull) {
      const int64_t want = c_buffer_count(layout);
      if (layout == Layout::kView ? a.n_buffers < want : a.n_buffers != want) {
        return bad_input(where + " (" + type_name(f.type) + "): " + std::to_string(a.n_buffers) + " buffers, expected " +
                         std::to_string(want));
      }
      if (a.buffers == nullptr) return bad_input(where + ": no buffers");
    }
    const bool dict = f.dictionary.has_value();
    const size_t want_children = dict ? 0 : f.children.size();
    if (a.n_children != static_cast<int64_t>(want_children) || (want_children > 0 && a.children == nullptr)) {
      return bad_input(where + ": " + std::to_string(a.n_children) + " children, expected " +
                       std::to_string(want_children));
    }

    // Null count of exactly [off, off + n).
    int64_t nulls = 0;
    const bool has_validity = layout != Layout::kNull && layout != Layout::kSparseUnion && layout != Layout::kDenseUnion;
    const auto* validity = has_validity ? static_cast<const uint8_t*>(a.buffers[0]) : nullptr;
    if (layout == Layout::kNull) {
      nulls = n;
    } else if (validity != nullptr) {
      if (off == a.offset && n == a.length && a.null_count >= 0) nulls = a.null_count;
      else nulls = n - count_set_bits(validity, off, n);
    } else if (has_validity && a.null_count > 0) {
      return bad_input(where + ": null_count > 0 without a validity bitmap");
    }
    body.node(n, nulls);
    if (has_validity) {
      if (nulls > 0) SYNDB_RETURN_IF_ERROR(encode_bits(body, validity, off, n));
      else SYNDB_RETURN_IF_ERROR(body.add(nullptr, 0));
    }

    auto need = [&](int i) -> Result<const uint8_t*> {
      const auto* p = static_cast<const uint8_t*>(a.buffers[i]);
      if (p == nullptr && n > 0) return bad_input(where + ": buffer " + std::to_string(i) + " missing");
      return p;
    };

    switch (layout) {
      case Layout::kNull: return ok_status();
      case Layout::kBool: {
        SYNDB_ASSIGN_OR_RETURN(const uint8_t* bits, need(1));
        return encode_bits(body, bits, off, n);
      }
      case Layout::kFixed: {
        const int64_t w = storage_width(f);
        SYNDB_ASSIGN_OR_RETURN(const uint8_t* values, need(1));
        SYNDB_RETURN_IF_ERROR(body.add(n > 0 ? values + off * w : nullptr, n * w));
        if (dict) {
          if (a.dictionary == nullptr) return bad_input(where + ": dictionary-encoded column without a dictionary");
          pending_dictionaries[f.dictionary->id] = {&f, a.dictionary};
        }
        return ok_status();
      }
      case Layout::kBinary32:
      case Layout::kBinary64: {
        int64_t first = 0, last = 0;
        if (layout == Layout::kBinary32) SYNDB_RETURN_IF_ERROR(encode_offsets<int32_t>(body, a, off, n, &first, &last));
        else SYNDB_RETURN_IF_ERROR(encode_offsets<int64_t>(body, a, off, n, &first, &last));
        const auto* data = static_cast<const uint8_t*>(a.buffers[2]);
        if (data == nullptr && last > first) return bad_input(where + ": data buffer missing");
        return body.add(last > first ? data + first : nullptr, last - first);
      }
      case Layout::kView: {
        SYNDB_ASSIGN_OR_RETURN(const uint8_t* views, need(1));
        SYNDB_RETURN_IF_ERROR(body.add(n > 0 ? views + off * 16 : nullptr, n * 16));
        const int64_t k = a.n_buffers - 3;
        const auto* sizes = static_cast<const int64_t*>(a.buffers[a.n_buffers - 1]);
        if (k > 0 && sizes == nullptr) return bad_input(where + ": view buffer sizes missing");
        for (int64_t i = 0; i < k; ++i) {
          if (sizes[i] < 0 || (sizes[i] > 0 && a.buffers[2 + i] == nullptr)) {
            return bad_input(where + ": bad variadic buffer " + std::to_string(i));
          }
          SYNDB_RETURN_IF_ERROR(body.add(a.buffers[2 + i], sizes[i]));
        }
        body.variadic.push_back(k);
        return ok_status();
      }
      case Layout::kList32:
      case Layout::kList64: {
        int64_t first = 0, last = 0;
        if (layout == Layout::kList32) SYNDB_RETURN_IF_ERROR(encode_offsets<int32_t>(body, a, off, n, &first, &last));
        else SYNDB_RETURN_IF_ERROR(encode_offsets<int64_t>(body, a, off, n, &first, &last));
        const ArrowArray* c = a.children[0];
        if (c == nullptr) return bad_input(where + ": missing child");
        return encode_array(f.children[0], *c, c->offset + first, last - first, body);
      }
      case Layout::kFixedSizeList: {
        const ArrowArray* c = a.children[0];
        if (c == nullptr) return bad_input(where + ": missing child");
        const int64_t size = f.type.list_size;
        return encode_array(f.children[0], *c, c->offset + off * size, n * size, body);
      }
      case Layout::kStruct: {
        for (size_t i = 0; i < f.children.size(); ++i) {
          const ArrowArray* c = a.children[i];
          if (c == nullptr) return bad_input(where + ": missing child");
          SYNDB_RETURN_IF_ERROR(encode_array(f.children[i], *c, c->offset + off, n, body));
        }
        return ok_status();
      }
      case Layout::kSparseUnion:
      case Layout::kDenseUnion: {
        const auto* type_ids = static_cast<const uint8_t*>(a.buffers[0]);
        if (type_ids == nullptr && n > 0) return bad_input(where + ": type ids missing");
        SYNDB_RETURN_IF_ERROR(body.add(n > 0 ? type_ids + off : nullptr, n));
        if (layout == Layout::kDenseUnion) {
          SYNDB_ASSIGN_OR_RETURN(const uint8_t* offsets, need(1));
          SYNDB_RETURN_IF_ERROR(body.add(n > 0 ? offsets + off * 4 : nullptr, n * 4));
        }
        for (size_t i = 0; i < f.children.size(); ++i) {
          const ArrowArray* c = a.children[i];
          if (c == nullptr) return bad_input(where + ": missing child");
          // Dense union offsets address whole children: write them whole.
          if (layout == Layout::kDenseUnion) SYNDB_RETURN_IF_ERROR(encode_array(f.children[i], *c, c->offset, c->length, body));
          else SYNDB_RETURN_IF_ERROR(encode_array(f.children[i], *c, c->offset + off, n, body));
        }
        return ok_status();
      }
    }
    return ok_status();
  }

  EncodedMessage finish_batch(BodyEncoder& body, int64_t length, std::optional<int64_t> dictionary_id) {
    flatbuffers::FlatBufferBuilder fbb(1024);
    auto nodes = fbb.CreateVectorOfStructs(body.nodes);
    auto buffers = fbb.CreateVectorOfStructs(body.buffers);
    flatbuffers::Offset<fb::BodyCompression> compression = 0;
    if (options.compression) {
      compression = fb::CreateBodyCompression(
          fbb, *options.compression == Codec::kZstd ? fb::CompressionType_ZSTD : fb::CompressionType_LZ4_FRAME,
          fb::BodyCompressionMethod_BUFFER);
    }
    flatbuffers::Offset<flatbuffers::Vector<int64_t>> variadic = 0;
    if (!body.variadic.empty()) variadic = fbb.CreateVector(body.variadic);
    auto rb = fb::CreateRecordBatch(fbb, length, nodes, buffers, compression, variadic);
    flatbuffers::Offset<fb::Message> msg;
    if (dictionary_id) {
      auto db = fb::CreateDictionaryBatch(fbb, *dictionary_id, rb, false);
      msg = fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_DictionaryBatch, db.Union(), body.offset);
    } else {
      msg = fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_RecordBatch, rb.Union(), body.offset);
    }
    fbb.Finish(msg);
    EncodedMessage out;
    out.metadata.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
    out.body_length = body.offset;
    out.body = std::move(body.pieces);
    return out;
  }
};

IpcEncoder::IpcEncoder(WriterOptions options) : s_(std::make_unique<State>()) { s_->options = options; }
IpcEncoder::~IpcEncoder() = default;
IpcEncoder::IpcEncoder(IpcEncoder&&) noexcept = default;
IpcEncoder& IpcEncoder::operator=(IpcEncoder&&) noexcept = default;

Status IpcEncoder::set_schema(const ArrowSchema& schema) {
  if (s_->schema) return bad_input("schema already set");
  SYNDB_ASSIGN_OR_RETURN(Schema imported, import_schema(schema));
  s_->schema = std::move(imported);
  return ok_status();
}

bool IpcEncoder::has_schema() const { return s_->schema.has_value(); }
const Schema& IpcEncoder::schema() const { return *s_->schema; }

EncodedMessage IpcEncoder::schema_message() const {
  flatbuffers::FlatBufferBuilder fbb(1024);
  auto schema = ipc::build_schema(fbb, s_->schema ? *s_->schema : Schema{});
  auto msg = fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_Schema, schema.Union(), 0);
  fbb.Finish(msg);
  EncodedMessage out;
  out.metadata.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  return out;
}

Result<std::vector<EncodedMessage>> IpcEncoder::encode_batch(const ArrowArray& batch) {
  if (!s_->schema) return bad_input("encode_batch before set_schema");
  const Schema& schema = *s_->schema;
  if (batch.release == nullptr) return bad_input("released ArrowArray");
  if (batch.length < 0 || batch.offset < 0) return bad_input("negative length or offset");
  if (batch.n_children != static_cast<int64_t>(schema.fields.size()) ||
      (batch.n_children > 0 && batch.children == nullptr)) {
    return bad_input("batch has " + std::to_string(batch.n_children) + " columns, schema " +
                     std::to_string(schema.fields.size()));
  }
  if (batch.null_count > 0) return Error(ErrorCode::kUnsupported, "arrow ipc writer: null rows in the root struct");
  s_->scratch.clear();
  s_->pending_dictionaries.clear();

  BodyEncoder body(s_->options, &s_->codec, &s_->scratch);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const ArrowArray* c = batch.children[i];
    if (c == nullptr) return bad_input("missing column " + std::to_string(i));
    SYNDB_RETURN_IF_ERROR(s_->encode_array(schema.fields[i], *c, c->offset + batch.offset, batch.length, body));
  }
  std::vector<EncodedMessage> out;
  for (const auto& [id, entry] : s_->pending_dictionaries) {
    const auto& [field, dict] = entry;
    Field values = *field;
    values.dictionary.reset();
    BodyEncoder dbody(s_->options, &s_->codec, &s_->scratch);
    SYNDB_RETURN_IF_ERROR(s_->encode_array(values, *dict, dict->offset, dict->length, dbody));
    // Skip the message when this dictionary was sent before with the same contents.
    Bytes signature;
    signature.reserve(static_cast<size_t>(dbody.offset) + 16);
    const int64_t header[2] = {dict->length, static_cast<int64_t>(dbody.buffers.size())};
    signature.insert(signature.end(), reinterpret_cast<const uint8_t*>(header),
                     reinterpret_cast<const uint8_t*>(header) + sizeof(header));
    for (const auto& n : dbody.nodes) {
      const int64_t v[2] = {n.length(), n.null_count()};
      signature.insert(signature.end(), reinterpret_cast<const uint8_t*>(v), reinterpret_cast<const uint8_t*>(v) + 16);
    }
    for (const auto& piece : dbody.pieces) signature.insert(signature.end(), piece.begin(), piece.end());
    auto it = s_->sent_dictionaries.find(id);
    if (it != s_->sent_dictionaries.end() && it->second == signature) continue;
    s_->sent_dictionaries[id] = std::move(signature);
    out.push_back(s_->finish_batch(dbody, dict->length, id));
  }
  out.push_back(s_->finish_batch(body, batch.length, std::nullopt));
  return out;
}

Status write_framed(const EncodedMessage& message, const std::function<Status(ByteSpan)>& sink) {
  const size_t padded = (message.metadata.size() + 7) / 8 * 8;
  Bytes head(8 + padded, 0);
  const uint32_t cont = ipc::kContinuation;
  const int32_t len = static_cast<int32_t>(padded);
  std::memcpy(head.data(), &cont, 4);
  std::memcpy(head.data() + 4, &len, 4);
  std::memcpy(head.data() + 8, message.metadata.data(), message.metadata.size());
  SYNDB_RETURN_IF_ERROR(sink(head));
  for (const auto& piece : message.body) {
    if (!piece.empty()) SYNDB_RETURN_IF_ERROR(sink(piece));
  }
  return ok_status();
}

ByteSpan end_of_stream_marker() {
  static const uint8_t kEos[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  return ByteSpan(kEos, 8);
}

IpcStreamWriter::IpcStreamWriter(Sink sink, WriterOptions options) : sink_(std::move(sink)), encoder_(options) {}

Status IpcStreamWriter::emit(ByteSpan bytes) {
  SYNDB_RETURN_IF_ERROR(sink_(bytes));
  bytes_written_ += static_cast<int64_t>(bytes.size());
  return ok_status();
}

Status IpcStreamWriter::write_schema(const ArrowSchema& schema) {
  if (finished_) return bad_input("stream already finished");
  SYNDB_RETURN_IF_ERROR(encoder_.set_schema(schema));
  return write_framed(encoder_.schema_message(), [this](ByteSpan b) { return emit(b); });
}

Status IpcStreamWriter::write_batch(const ArrowArray& batch) {
  if (finished_) return bad_input("stream already finished");
  if (!encoder_.has_schema()) return bad_input("write_batch before write_schema");
  SYNDB_ASSIGN_OR_RETURN(auto messages, encoder_.encode_batch(batch));
  for (const auto& m : messages) SYNDB_RETURN_IF_ERROR(write_framed(m, [this](ByteSpan b) { return emit(b); }));
  return ok_status();
}

Status IpcStreamWriter::finish() {
  if (finished_) return ok_status();
  if (!encoder_.has_schema()) return bad_input("finish before write_schema");
  finished_ = true;
  return emit(end_of_stream_marker());
}

Result<Bytes> write_ipc_stream(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches,
                               WriterOptions options) {
  Bytes out;
  IpcStreamWriter writer(
      [&out](ByteSpan b) {
        out.insert(out.end(), b.begin(), b.end());
        return ok_status();
      },
      options);
  SYNDB_RETURN_IF_ERROR(writer.write_schema(schema));
  for (const ArrowArray* b : batches) SYNDB_RETURN_IF_ERROR(writer.write_batch(*b));
  SYNDB_RETURN_IF_ERROR(writer.finish());
  return out;
}

}  // namespace syndb::arrow
