#include "arrow/ipc_reader.h"

#include <cstring>
#include <set>
#include <string>

#include "arrow/bits.h"
#include "arrow/ipc_metadata.h"

namespace syndb::arrow {

namespace fb = ipc::fb;

namespace {

Error bad(const std::string& what) { return Error(ErrorCode::kProtocol, "arrow ipc: " + what); }
Error limit(const std::string& what) { return Error(ErrorCode::kLimitExceeded, "arrow ipc: " + what); }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Element i of a verified flatbuffers vector of 8-byte scalars or structs,
// copied out: the Verifier only guarantees 4-byte alignment of vector data.
template <typename T, typename V>
T vector_element(const V* v, size_t i) {
  T out;
  std::memcpy(&out, reinterpret_cast<const uint8_t*>(v->data()) + i * sizeof(T), sizeof(T));
  return out;
}

bool has_union(const Field& f) {
  if (f.type.id == TypeId::kSparseUnion || f.type.id == TypeId::kDenseUnion) return true;
  for (const auto& c : f.children) {
    if (has_union(c)) return true;
  }
  return false;
}

struct Buf {
  const uint8_t* p = nullptr;
  int64_t len = 0;
  std::shared_ptr<const Memory> mem;
};

void keep(ArrayData& a, const std::shared_ptr<const Memory>& mem) {
  if (!mem) return;
  for (const auto& m : a.memory) {
    if (m == mem) return;
  }
  a.memory.push_back(mem);
}

// Checks `n + 1` offsets: first >= 0, non-decreasing, last <= limit.
template <typename O>
Status check_offsets(const O* o, int64_t n, int64_t limit_value, const std::string& where) {
  if (o[0] < 0) return bad(where + ": negative first offset");
  for (int64_t i = 0; i < n; ++i) {
    if (o[i + 1] < o[i]) return bad(where + ": offsets decrease at slot " + std::to_string(i));
  }
  if (static_cast<int64_t>(o[n]) > limit_value) {
    return bad(where + ": last offset " + std::to_string(static_cast<int64_t>(o[n])) + " beyond " +
               std::to_string(limit_value));
  }
  return ok_status();
}

template <typename O>
Status check_utf8_slots(const O* o, int64_t n, const uint8_t* data, const std::string& where) {
  const int64_t begin = o[0];
  const int64_t end = o[n];
  if (!valid_utf8(data + begin, static_cast<size_t>(end - begin))) return bad(where + ": invalid UTF-8");
  // Valid as a whole; also no value may start inside a character.
  for (int64_t i = 1; i < n; ++i) {
    const int64_t at = o[i];
    if (at < end && (data[at] & 0xC0) == 0x80) return bad(where + ": value " + std::to_string(i) + " splits a UTF-8 character");
  }
  return ok_status();
}

class BatchDecoder {
 public:
  BatchDecoder(const ReaderOptions& opt, const fb::RecordBatch* rb, std::shared_ptr<const Memory> body,
               int64_t body_len, std::optional<Codec> codec, CodecContext* cc,
               const std::map<int64_t, std::shared_ptr<const ArrayData>>* dictionaries)
      : opt_(opt), rb_(rb), body_(std::move(body)), body_len_(body_len), codec_(codec), cc_(cc),
        dictionaries_(dictionaries) {}

  Result<std::shared_ptr<const ArrayData>> decode(const Field& f, int depth) {
    const std::string where = "column '" + f.name + "' (" + type_name(f.type) + ")";
    if (depth > opt_.schema_limits.max_depth + 1) return limit(where + ": nested too deep");
    SYNDB_ASSIGN_OR_RETURN(auto node, next_node(where));
    const auto [length, null_count] = node;
    auto a = std::make_shared<ArrayData>();
    a->length = length;
    a->null_count = null_count;
    const Layout layout = storage_layout(f);

    if (layout != Layout::kNull && layout != Layout::kSparseUnion && layout != Layout::kDenseUnion) {
      SYNDB_ASSIGN_OR_RETURN(Buf v, next_buffer(where));
      if (null_count > 0) {
        if (v.len < (length + 7) / 8) {
          return bad(where + ": validity bitmap of " + std::to_string(v.len) + " bytes for " + std::to_string(length) +
                     " slots");
        }
        const int64_t nulls = length - count_set_bits(v.p, 0, length);
        if (nulls != null_count) {
          return bad(where + ": null_count " + std::to_string(null_count) + " but the validity bitmap has " +
                     std::to_string(nulls) + " nulls");
        }
        a->buffers.push_back(v.p);
        keep(*a, v.mem);
      } else {
        a->buffers.push_back(nullptr);
      }
    }
    const uint8_t* validity = null_count > 0 && !a->buffers.empty() ? static_cast<const uint8_t*>(a->buffers[0]) : nullptr;
    auto is_valid = [&](int64_t i) { return validity == nullptr || get_bit(validity, i); };

    switch (layout) {
      case Layout::kNull:
        a->null_count = length;
        break;
      case Layout::kBool: {
        SYNDB_ASSIGN_OR_RETURN(Buf v, next_buffer(where));
        SYNDB_RETURN_IF_ERROR(need(v, (length + 7) / 8, where, "values"));
        a->buffers.push_back(v.len ? v.p : zero_buffer());
        keep(*a, v.mem);
        break;
      }
      case Layout::kFixed: {
        const int64_t w = storage_width(f);
        SYNDB_ASSIGN_OR_RETURN(Buf v, next_buffer(where));
        SYNDB_RETURN_IF_ERROR(need(v, length * w, where, "values"));
        a->buffers.push_back(v.len ? v.p : zero_buffer());
        keep(*a, v.mem);
        if (f.dictionary) {
          auto it = dictionaries_->find(f.dictionary->id);
          if (it == dictionaries_->end()) {
            if (length - null_count > 0) {
              return bad(where + ": dictionary " + std::to_string(f.dictionary->id) + " used before it was sent");
            }
            // All null: the dictionary may legitimately come later; export an empty one.
            auto empty = std::make_shared<ArrayData>();
            SYNDB_RETURN_IF_ERROR(empty_array(f, *empty));
            a->dictionary = std::move(empty);
          } else {
            a->dictionary = it->second;
          }
          SYNDB_RETURN_IF_ERROR(check_indices(*f.dictionary, v.p, length, is_valid, a->dictionary->length, where));
        }
        break;
      }
      case Layout::kBinary32:
      case Layout::kBinary64: {
        const bool wide = layout == Layout::kBinary64;
        SYNDB_ASSIGN_OR_RETURN(Buf off, next_buffer(where));
        SYNDB_ASSIGN_OR_RETURN(Buf data, next_buffer(where));
        SYNDB_ASSIGN_OR_RETURN(const uint8_t* o, offsets_of(off, length, wide ? 8 : 4, where));
        const uint8_t* d = data.len ? data.p : static_cast<const uint8_t*>(zero_buffer());
        if (wide) SYNDB_RETURN_IF_ERROR(check_offsets(reinterpret_cast<const int64_t*>(o), length, data.len, where));
        else SYNDB_RETURN_IF_ERROR(check_offsets(reinterpret_cast<const int32_t*>(o), length, data.len, where));
        if (opt_.validate_utf8 && (f.type.id == TypeId::kUtf8 || f.type.id == TypeId::kLargeUtf8) && length > 0) {
          if (wide) SYNDB_RETURN_IF_ERROR(check_utf8_slots(reinterpret_cast<const int64_t*>(o), length, d, where));
          else SYNDB_RETURN_IF_ERROR(check_utf8_slots(reinterpret_cast<const int32_t*>(o), length, d, where));
        }
        a->buffers.push_back(o);
        a->buffers.push_back(d);
        keep(*a, off.mem);
        keep(*a, data.mem);
        break;
      }
      case Layout::kView: {
        SYNDB_ASSIGN_OR_RETURN(Buf views, next_buffer(where));
        SYNDB_RETURN_IF_ERROR(need(views, length * 16, where, "views"));
        const auto* counts = rb_->variadicBufferCounts();
        if (counts == nullptr || variadic_i_ >= counts->size()) return bad(where + ": variadicBufferCounts missing");
        const int64_t k = vector_element<int64_t>(counts, variadic_i_++);
        const int64_t remaining = rb_->buffers() ? static_cast<int64_t>(rb_->buffers()->size()) - buffer_i_ : 0;
        if (k < 0 || k > remaining) return bad(where + ": bad variadic buffer count " + std::to_string(k));
        a->buffers.push_back(views.len ? views.p : zero_buffer());
        keep(*a, views.mem);
        std::vector<Buf> data;
        for (int64_t i = 0; i < k; ++i) {
          SYNDB_ASSIGN_OR_RETURN(Buf b, next_buffer(where));
          a->buffers.push_back(b.len ? b.p : zero_buffer());
          keep(*a, b.mem);
          data.push_back(std::move(b));
        }
        auto sizes = Memory::allocate(static_cast<size_t>(k) * 8);
        if (!sizes) return limit("out of memory");
        for (int64_t i = 0; i < k; ++i) std::memcpy(sizes->data() + i * 8, &data[i].len, 8);
        a->buffers.push_back(sizes->data());
        a->memory.push_back(sizes);
        const bool utf8 = opt_.validate_utf8 && f.type.id == TypeId::kUtf8View;
        for (int64_t i = 0; i < length; ++i) {
          if (!is_valid(i)) continue;
          const uint8_t* view = views.p + i * 16;
          const int32_t len = load<int32_t>(view);
          if (len < 0) return bad(where + ": negative view length at slot " + std::to_string(i));
          const uint8_t* bytes = view + 4;
          if (len > 12) {
            const int32_t index = load<int32_t>(view + 8);
            const int32_t offset = load<int32_t>(view + 12);
            if (index < 0 || index >= k || offset < 0 || int64_t{offset} + len > data[index].len) {
              return bad(where + ": view at slot " + std::to_string(i) + " outside its data buffer");
            }
            bytes = data[index].p + offset;
          }
          if (utf8 && !valid_utf8(bytes, static_cast<size_t>(len))) {
            return bad(where + ": invalid UTF-8 at slot " + std::to_string(i));
          }
        }
        break;
      }
      case Layout::kList32:
      case Layout::kList64: {
        const bool wide = layout == Layout::kList64;
        SYNDB_ASSIGN_OR_RETURN(Buf off, next_buffer(where));
        SYNDB_ASSIGN_OR_RETURN(const uint8_t* o, offsets_of(off, length, wide ? 8 : 4, where));
        SYNDB_ASSIGN_OR_RETURN(auto child, decode(f.children[0], depth + 1));
        if (wide) SYNDB_RETURN_IF_ERROR(check_offsets(reinterpret_cast<const int64_t*>(o), length, child->length, where));
        else SYNDB_RETURN_IF_ERROR(check_offsets(reinterpret_cast<const int32_t*>(o), length, child->length, where));
        a->buffers.push_back(o);
        keep(*a, off.mem);
        a->children.push_back(std::move(child));
        break;
      }
      case Layout::kFixedSizeList: {
        SYNDB_ASSIGN_OR_RETURN(auto child, decode(f.children[0], depth + 1));
        if (child->length < length * f.type.list_size) {
          return bad(where + ": child of " + std::to_string(child->length) + " values for " + std::to_string(length) +
                     " lists of " + std::to_string(f.type.list_size));
        }
        a->children.push_back(std::move(child));
        break;
      }
      case Layout::kStruct: {
        for (const auto& cf : f.children) {
          SYNDB_ASSIGN_OR_RETURN(auto child, decode(cf, depth + 1));
          if (child->length < length) return bad(where + ": child '" + cf.name + "' shorter than its struct");
          a->children.push_back(std::move(child));
        }
        break;
      }
      case Layout::kSparseUnion:
      case Layout::kDenseUnion: {
        const bool dense = layout == Layout::kDenseUnion;
        a->null_count = 0;
        SYNDB_ASSIGN_OR_RETURN(Buf ids, next_buffer(where));
        SYNDB_RETURN_IF_ERROR(need(ids, length, where, "type ids"));
        Buf offs;
        if (dense) {
          SYNDB_ASSIGN_OR_RETURN(offs, next_buffer(where));
          SYNDB_RETURN_IF_ERROR(need(offs, length * 4, where, "offsets"));
        }
        for (const auto& cf : f.children) {
          SYNDB_ASSIGN_OR_RETURN(auto child, decode(cf, depth + 1));
          if (!dense && child->length < length) return bad(where + ": child '" + cf.name + "' shorter than its union");
          a->children.push_back(std::move(child));
        }
        int child_of[128];
        for (int& c : child_of) c = -1;
        for (size_t i = 0; i < f.type.type_ids.size(); ++i) child_of[f.type.type_ids[i]] = static_cast<int>(i);
        for (int64_t i = 0; i < length; ++i) {
          const int8_t id = static_cast<int8_t>(ids.p[i]);
          if (id < 0 || child_of[id] < 0) return bad(where + ": unknown type id " + std::to_string(id));
          if (dense) {
            const int32_t o = load<int32_t>(offs.p + i * 4);
            if (o < 0 || o >= a->children[child_of[id]]->length) {
              return bad(where + ": dense union offset out of range at slot " + std::to_string(i));
            }
          }
        }
        a->buffers.push_back(ids.len ? ids.p : zero_buffer());
        keep(*a, ids.mem);
        if (dense) {
          a->buffers.push_back(offs.len ? offs.p : zero_buffer());
          keep(*a, offs.mem);
        }
        break;
      }
    }
    return std::shared_ptr<const ArrayData>(std::move(a));
  }

  Status finish() {
    const size_t nodes = rb_->nodes() ? rb_->nodes()->size() : 0;
    const size_t buffers = rb_->buffers() ? rb_->buffers()->size() : 0;
    if (node_i_ != nodes) return bad("record batch has " + std::to_string(nodes) + " field nodes, the schema " + std::to_string(node_i_));
    if (static_cast<size_t>(buffer_i_) != buffers) {
      return bad("record batch has " + std::to_string(buffers) + " buffers, the schema " + std::to_string(buffer_i_));
    }
    return ok_status();
  }

 private:
  Result<std::pair<int64_t, int64_t>> next_node(const std::string& where) {
    const auto* nodes = rb_->nodes();
    if (nodes == nullptr || node_i_ >= nodes->size()) return bad(where + ": fewer field nodes than the schema has fields");
    const auto n = vector_element<fb::FieldNode>(nodes, node_i_++);
    const int64_t length = n.length();
    const int64_t nulls = n.null_count();
    if (length < 0 || length > opt_.max_array_length) return limit(where + ": array length " + std::to_string(length));
    if (nulls < 0 || nulls > length) return bad(where + ": null count " + std::to_string(nulls) + " for length " + std::to_string(length));
    return std::make_pair(length, nulls);
  }

  Result<Buf> next_buffer(const std::string& where) {
    const auto* buffers = rb_->buffers();
    if (buffers == nullptr || static_cast<size_t>(buffer_i_) >= buffers->size()) {
      return bad(where + ": fewer buffers than the schema needs");
    }
    const int64_t index = buffer_i_++;
    const auto b = vector_element<fb::Buffer>(buffers, static_cast<size_t>(index));
    const int64_t off = b.offset();
    const int64_t len = b.length();
    if (off < 0 || len < 0 || off > body_len_ || len > body_len_ - off) {
      return bad(where + ": buffer " + std::to_string(index) + " [" + std::to_string(off) + ", +" + std::to_string(len) +
                 ") outside the " + std::to_string(body_len_) + "-byte body");
    }
    Buf out;
    if (len == 0) {  // where an empty buffer "is" does not matter (Arrow JS leaves it unaligned)
      out.p = static_cast<const uint8_t*>(zero_buffer());
      return out;
    }
    if (off % 8 != 0) return bad(where + ": buffer " + std::to_string(index) + " at unaligned offset " + std::to_string(off));
    const uint8_t* p = body_->data() + off;
    if (!codec_) {
      out.p = p;
      out.len = len;
      out.mem = body_;
      return out;
    }
    if (len < 8) return bad(where + ": compressed buffer " + std::to_string(index) + " shorter than its length prefix");
    const int64_t raw = load<int64_t>(p);
    if (raw == -1) {
      out.p = p + 8;
      out.len = len - 8;
      out.mem = body_;
      return out;
    }
    if (raw < 0) return bad(where + ": negative uncompressed length");
    if (raw > opt_.max_decompressed_bytes - decompressed_) {
      return limit(where + ": decompressed buffers exceed " + std::to_string(opt_.max_decompressed_bytes) + " bytes");
    }
    if (static_cast<uint64_t>(raw) > CodecContext::max_expansion(*codec_, static_cast<uint64_t>(len - 8))) {
      return bad(where + ": uncompressed length " + std::to_string(raw) + " impossible for " + std::to_string(len - 8) +
                 " compressed bytes");
    }
    if (opt_.accept_js_compressed_length_prefix && raw == len - 8) {
      Bytes decoded;
      Status st = cc_->decompress_unsized(*codec_, ByteSpan(p + 8, static_cast<size_t>(len - 8)),
                                          static_cast<size_t>(opt_.max_decompressed_bytes - decompressed_), &decoded);
      if (!st.ok()) return st.error().wrap(where + ": buffer " + std::to_string(index));
      auto mem = Memory::allocate(decoded.size());
      if (!mem) return limit("out of memory");
      if (!decoded.empty()) std::memcpy(mem->data(), decoded.data(), decoded.size());
      decompressed_ += static_cast<int64_t>(decoded.size());
      out.p = mem->data();
      out.len = static_cast<int64_t>(decoded.size());
      out.mem = std::move(mem);
      return out;
    }
    auto mem = Memory::allocate(static_cast<size_t>(raw));
    if (!mem) return limit("out of memory");
    Status st = cc_->decompress(*codec_, ByteSpan(p + 8, static_cast<size_t>(len - 8)), mem->data(), static_cast<size_t>(raw));
    if (!st.ok()) return st.error().wrap(where + ": buffer " + std::to_string(index));
    decompressed_ += raw;
    out.p = mem->data();
    out.len = raw;
    out.mem = std::move(mem);
    return out;
  }

  static Status need(const Buf& b, int64_t bytes, const std::string& where, const char* what) {
    if (b.len < bytes) {
      return bad(where + ": " + what + " buffer of " + std::to_string(b.len) + " bytes, needs " + std::to_string(bytes));
    }
    return ok_status();
  }

  // The offsets buffer (length + 1 entries); an empty buffer is allowed for length 0.
  Result<const uint8_t*> offsets_of(const Buf& b, int64_t length, int width, const std::string& where) {
    if (length == 0 && b.len < width) return static_cast<const uint8_t*>(zero_buffer());
    SYNDB_RETURN_IF_ERROR(need(b, (length + 1) * width, where, "offsets"));
    return b.p;
  }

  template <typename IsValid>
  Status check_indices(const DictionaryEncoding& d, const uint8_t* p, int64_t length, IsValid is_valid,
                       int64_t dict_length, const std::string& where) {
    for (int64_t i = 0; i < length; ++i) {
      if (!is_valid(i)) continue;
      int64_t v = 0;
      bool negative = false;
      switch (d.index_bit_width) {
        case 8: v = d.index_signed ? load<int8_t>(p + i) : load<uint8_t>(p + i); break;
        case 16: v = d.index_signed ? load<int16_t>(p + i * 2) : load<uint16_t>(p + i * 2); break;
        case 32: v = d.index_signed ? load<int32_t>(p + i * 4) : int64_t{load<uint32_t>(p + i * 4)}; break;
        default: {
          if (d.index_signed) {
            v = load<int64_t>(p + i * 8);
          } else {
            const uint64_t u = load<uint64_t>(p + i * 8);
            negative = u > static_cast<uint64_t>(INT64_MAX);
            v = static_cast<int64_t>(u);
          }
        }
      }
      if (negative || v < 0 || v >= dict_length) {
        return bad(where + ": dictionary index out of range at slot " + std::to_string(i));
      }
    }
    return ok_status();
  }

  // An empty array of the field's value type (for all-null columns whose dictionary has not arrived).
  Status empty_array(const Field& f, ArrayData& a) {
    a.length = 0;
    a.null_count = 0;
    const Layout layout = layout_of(f.type);
    int n = c_buffer_count(layout);
    for (int i = 0; i < n; ++i) a.buffers.push_back(i == 0 && layout != Layout::kSparseUnion && layout != Layout::kDenseUnion ? nullptr : zero_buffer());
    for (const auto& c : f.children) {
      auto child = std::make_shared<ArrayData>();
      SYNDB_RETURN_IF_ERROR(empty_array(c, *child));
      a.children.push_back(std::move(child));
    }
    return ok_status();
  }

  const ReaderOptions& opt_;
  const fb::RecordBatch* rb_;
  std::shared_ptr<const Memory> body_;
  int64_t body_len_;
  std::optional<Codec> codec_;
  CodecContext* cc_;
  const std::map<int64_t, std::shared_ptr<const ArrayData>>* dictionaries_;
  size_t node_i_ = 0;
  int64_t buffer_i_ = 0;
  size_t variadic_i_ = 0;
  int64_t decompressed_ = 0;
};

// Concatenates two arrays of a non-nested type (delta dictionaries).
Result<std::shared_ptr<const ArrayData>> concat_flat(const Field& f, const ArrayData& a, const ArrayData& b,
                                                     int64_t max_length) {
  const Layout layout = layout_of(f.type);
  const int64_t n = a.length + b.length;
  if (n > max_length) return limit("dictionary longer than " + std::to_string(max_length));
  auto out = std::make_shared<ArrayData>();
  out->length = n;
  out->null_count = a.null_count + b.null_count;
  if (layout == Layout::kNull) {
    out->null_count = n;
    return std::shared_ptr<const ArrayData>(std::move(out));
  }
  auto bits_of = [](const ArrayData& x, int i, int64_t j) {
    const auto* p = static_cast<const uint8_t*>(x.buffers[i]);
    return p == nullptr || get_bit(p, j);
  };
  auto concat_bits = [&](int i) -> const void* {
    auto mem = Memory::allocate(static_cast<size_t>((n + 7) / 8));
    if (!mem) return nullptr;
    std::memset(mem->data(), 0, mem->size());
    for (int64_t j = 0; j < n; ++j) {
      const bool bit = j < a.length ? bits_of(a, i, j) : bits_of(b, i, j - a.length);
      if (bit) mem->data()[j >> 3] |= static_cast<uint8_t>(1u << (j & 7));
    }
    out->memory.push_back(mem);
    return mem->data();
  };
  out->buffers.push_back(out->null_count > 0 ? concat_bits(0) : nullptr);
  switch (layout) {
    case Layout::kBool:
      out->buffers.push_back(concat_bits(1));
      break;
    case Layout::kFixed: {
      const int64_t w = fixed_width_bytes(f.type);
      auto mem = Memory::allocate(static_cast<size_t>(n * w));
      if (!mem) return limit("out of memory");
      std::memcpy(mem->data(), a.buffers[1], static_cast<size_t>(a.length * w));
      std::memcpy(mem->data() + a.length * w, b.buffers[1], static_cast<size_t>(b.length * w));
      out->buffers.push_back(mem->data());
      out->memory.push_back(mem);
      break;
    }
    case Layout::kBinary32:
    case Layout::kBinary64: {
      const bool wide = layout == Layout::kBinary64;
      auto off_at = [&](const ArrayData& x, int64_t j) -> int64_t {
        return wide ? static_cast<const int64_t*>(x.buffers[1])[j] : static_cast<const int32_t*>(x.buffers[1])[j];
      };
      const int64_t a0 = off_at(a, 0), a1 = off_at(a, a.length), b0 = off_at(b, 0), b1 = off_at(b, b.length);
      const int64_t total = (a1 - a0) + (b1 - b0);
      if (!wide && total > INT32_MAX) return limit("dictionary data exceeds 32-bit offsets");
      auto offs = Memory::allocate(static_cast<size_t>((n + 1) * (wide ? 8 : 4)));
      auto data = Memory::allocate(static_cast<size_t>(total));
      if (!offs || !data) return limit("out of memory");
      for (int64_t j = 0; j <= n; ++j) {
        const int64_t v = j <= a.length ? off_at(a, j) - a0 : (a1 - a0) + off_at(b, j - a.length) - b0;
        if (wide) reinterpret_cast<int64_t*>(offs->data())[j] = v;
        else reinterpret_cast<int32_t*>(offs->data())[j] = static_cast<int32_t>(v);
      }
      std::memcpy(data->data(), static_cast<const uint8_t*>(a.buffers[2]) + a0, static_cast<size_t>(a1 - a0));
      std::memcpy(data->data() + (a1 - a0), static_cast<const uint8_t*>(b.buffers[2]) + b0, static_cast<size_t>(b1 - b0));
      out->buffers.push_back(offs->data());
      out->buffers.push_back(data->data());
      out->memory.push_back(offs);
      out->memory.push_back(data);
      break;
    }
    default:
      return Error(ErrorCode::kUnsupported, "arrow ipc: delta dictionaries of type " + type_name(f.type));
  }
  for (const void* p : out->buffers) {
    if (p == nullptr && out->null_count > 0) return limit("out of memory");
  }
  return std::shared_ptr<const ArrayData>(std::move(out));
}

}  // namespace

struct IpcStreamReader::State {
  ReaderOptions options;
  Bytes pending;
  size_t pos = 0;
  std::deque<ReadMessage> queue;
  std::optional<Error> error;
  std::optional<Schema> schema;
  bool v4_unions = false;
  bool eos = false;
  int64_t consumed = 0;
  // Dictionary id -> the field of its values (dictionary encoding removed).
  std::map<int64_t, Field> dictionary_fields;
  std::map<int64_t, std::shared_ptr<const ArrayData>> dictionaries;
  CodecContext codec;
  std::vector<uint64_t> aligned;  // for metadata that does not start 8-aligned

  Status fail(Error e) {
    error = e;
    return e;
  }

  Status index_dictionaries(const Field& f) {
    if (f.dictionary) {
      Field values = f;
      values.dictionary.reset();
      auto [it, inserted] = dictionary_fields.emplace(f.dictionary->id, values);
      if (!inserted && (it->second.type != values.type || it->second.children != values.children)) {
        return bad("dictionary id " + std::to_string(f.dictionary->id) + " used for different value types");
      }
    }
    for (const auto& c : f.children) SYNDB_RETURN_IF_ERROR(index_dictionaries(c));
    return ok_status();
  }

  Result<const fb::Message*> verify(ByteSpan metadata) {
    const uint8_t* p = metadata.data();
    if (reinterpret_cast<uintptr_t>(p) % 8 != 0) {
      aligned.assign((metadata.size() + 7) / 8, 0);
      std::memcpy(aligned.data(), metadata.data(), metadata.size());
      p = reinterpret_cast<const uint8_t*>(aligned.data());
    }
    const auto max_tables = static_cast<flatbuffers::uoffset_t>(
        std::min<int64_t>(options.schema_limits.max_fields * 4 + 1024, 100000000));
    flatbuffers::Verifier verifier(p, metadata.size(),
                                   static_cast<flatbuffers::uoffset_t>(options.schema_limits.max_depth * 2 + 16),
                                   max_tables);
    if (!fb::VerifyMessageBuffer(verifier)) return bad("message metadata is not a valid Message flatbuffer");
    return fb::GetMessage(p);
  }

  Status decode(ByteSpan metadata, ByteSpan body_bytes) {
    SYNDB_ASSIGN_OR_RETURN(const fb::Message* msg, verify(metadata));
    if (msg->version() < fb::MetadataVersion_V4) {
      return Error(ErrorCode::kUnsupported,
                   "arrow ipc: metadata version V" + std::to_string(msg->version() + 1) + " (before Arrow 0.8)");
    }
    if (msg->version() > fb::MetadataVersion_MAX) {
      return Error(ErrorCode::kUnsupported, "arrow ipc: unknown metadata version " + std::to_string(msg->version()));
    }
    const int64_t body_length = msg->bodyLength();
    if (body_length < 0 || body_length > options.max_body_bytes) {
      return limit("message body of " + std::to_string(body_length) + " bytes");
    }
    if (static_cast<int64_t>(body_bytes.size()) < body_length) {
      return bad("message body truncated: " + std::to_string(body_bytes.size()) + " of " + std::to_string(body_length) +
                 " bytes");
    }
    switch (msg->header_type()) {
      case fb::MessageHeader_Schema: {
        if (schema) return bad("a second Schema message");
        SYNDB_ASSIGN_OR_RETURN(Schema s, ipc::parse_schema(msg->header_as_Schema(), options.schema_limits));
        for (const auto& f : s.fields) {
          SYNDB_RETURN_IF_ERROR(index_dictionaries(f));
          if (msg->version() == fb::MetadataVersion_V4 && has_union(f)) v4_unions = true;
        }
        if (v4_unions) return Error(ErrorCode::kUnsupported, "arrow ipc: unions in a V4 (pre-1.0) stream");
        schema = std::move(s);
        ReadMessage m;
        m.kind = MessageKind::kSchema;
        queue.push_back(std::move(m));
        return ok_status();
      }
      case fb::MessageHeader_DictionaryBatch: {
        if (!schema) return bad("DictionaryBatch before the Schema");
        const fb::DictionaryBatch* db = msg->header_as_DictionaryBatch();
        if (db == nullptr || db->data() == nullptr) return bad("DictionaryBatch without data");
        auto it = dictionary_fields.find(db->id());
        if (it == dictionary_fields.end()) return bad("DictionaryBatch for unknown dictionary id " + std::to_string(db->id()));
        SYNDB_ASSIGN_OR_RETURN(auto values, decode_batch(db->data(), body_bytes.first(static_cast<size_t>(body_length)),
                                                         {&it->second}));
        std::shared_ptr<const ArrayData> dict = values.at(0);
        auto existing = dictionaries.find(db->id());
        if (db->isDelta() && existing != dictionaries.end()) {
          SYNDB_ASSIGN_OR_RETURN(dict, concat_flat(it->second, *existing->second, *dict, options.max_array_length));
        }
        dictionaries[db->id()] = std::move(dict);
        return ok_status();
      }
      case fb::MessageHeader_RecordBatch: {
        if (!schema) return bad("RecordBatch before the Schema");
        const fb::RecordBatch* rb = msg->header_as_RecordBatch();
        if (rb == nullptr) return bad("RecordBatch message without a header");
        std::vector<const Field*> fields;
        for (const auto& f : schema->fields) fields.push_back(&f);
        SYNDB_ASSIGN_OR_RETURN(auto columns, decode_batch(rb, body_bytes.first(static_cast<size_t>(body_length)), fields));
        ReadMessage m;
        m.kind = MessageKind::kRecordBatch;
        export_batch(rb->length(), std::move(columns), m.batch.get());
        queue.push_back(std::move(m));
        return ok_status();
      }
      case fb::MessageHeader_Tensor:
      case fb::MessageHeader_SparseTensor:
        return Error(ErrorCode::kUnsupported, "arrow ipc: tensor messages are not supported");
      default: return bad("message without a known header");
    }
  }

  Result<std::vector<std::shared_ptr<const ArrayData>>> decode_batch(const fb::RecordBatch* rb, ByteSpan body_bytes,
                                                                     const std::vector<const Field*>& fields) {
    const int64_t length = rb->length();
    if (length < 0 || length > options.max_array_length) return limit("record batch length " + std::to_string(length));
    std::optional<Codec> codec;
    if (const fb::BodyCompression* c = rb->compression()) {
      if (c->method() != fb::BodyCompressionMethod_BUFFER) return Error(ErrorCode::kUnsupported, "arrow ipc: unknown body compression method");
      if (c->codec() == fb::CompressionType_LZ4_FRAME) codec = Codec::kLz4Frame;
      else if (c->codec() == fb::CompressionType_ZSTD) codec = Codec::kZstd;
      else return Error(ErrorCode::kUnsupported, "arrow ipc: unknown compression codec " + std::to_string(c->codec()));
    }
    std::shared_ptr<Memory> body = Memory::allocate(body_bytes.size());
    if (!body) return limit("out of memory for a " + std::to_string(body_bytes.size()) + "-byte body");
    if (!body_bytes.empty()) std::memcpy(body->data(), body_bytes.data(), body_bytes.size());
    BatchDecoder decoder(options, rb, body, static_cast<int64_t>(body_bytes.size()), codec, &this->codec, &dictionaries);
    std::vector<std::shared_ptr<const ArrayData>> columns;
    for (const Field* f : fields) {
      SYNDB_ASSIGN_OR_RETURN(auto column, decoder.decode(*f, 0));
      if (column->length < length) {
        return bad("column '" + f->name + "' has " + std::to_string(column->length) + " rows, the batch " +
                   std::to_string(length));
      }
      columns.push_back(std::move(column));
    }
    SYNDB_RETURN_IF_ERROR(decoder.finish());
    return columns;
  }

  // Decodes the complete frames at the start of `in`; *used = bytes consumed.
  Status parse_frames(ByteSpan in, size_t* used) {
    *used = 0;
    while (true) {
      ByteSpan rest = in.subspan(*used);
      if (rest.empty()) return ok_status();
      if (eos) return bad("data after the end-of-stream marker");
      if (rest.size() < 4) return ok_status();
      const uint32_t first = load<uint32_t>(rest.data());
      size_t prefix = 4;
      int32_t meta_len = static_cast<int32_t>(first);
      if (first == ipc::kContinuation) {
        if (rest.size() < 8) return ok_status();
        meta_len = load<int32_t>(rest.data() + 4);
        prefix = 8;
      }
      if (meta_len == 0) {
        eos = true;
        *used += prefix;
        consumed += static_cast<int64_t>(prefix);
        ReadMessage m;
        m.kind = MessageKind::kEndOfStream;
        queue.push_back(std::move(m));
        continue;
      }
      if (meta_len < 0 || meta_len > options.max_metadata_bytes) {
        return limit("message metadata length " + std::to_string(meta_len));
      }
      if (rest.size() < prefix + static_cast<size_t>(meta_len)) return ok_status();
      ByteSpan metadata = rest.subspan(prefix, static_cast<size_t>(meta_len));
      SYNDB_ASSIGN_OR_RETURN(const fb::Message* msg, verify(metadata));
      const int64_t body_length = msg->bodyLength();
      if (body_length < 0 || body_length > options.max_body_bytes) {
        return limit("message body of " + std::to_string(body_length) + " bytes");
      }
      const size_t total = prefix + static_cast<size_t>(meta_len) + static_cast<size_t>(body_length);
      if (rest.size() < total) return ok_status();
      SYNDB_RETURN_IF_ERROR(decode(metadata, rest.subspan(prefix + static_cast<size_t>(meta_len),
                                                          static_cast<size_t>(body_length))));
      *used += total;
      consumed += static_cast<int64_t>(total);
    }
  }
};

IpcStreamReader::IpcStreamReader(ReaderOptions options) : s_(std::make_unique<State>()) { s_->options = options; }
IpcStreamReader::~IpcStreamReader() = default;

Status IpcStreamReader::feed(ByteSpan bytes) {
  if (s_->error) return *s_->error;
  if (bytes.empty()) return ok_status();
  size_t used = 0;
  if (s_->pos == s_->pending.size()) {
    // Nothing buffered: decode straight from the caller's bytes, keep the tail.
    s_->pending.clear();
    s_->pos = 0;
    Status st = s_->parse_frames(bytes, &used);
    if (!st.ok()) return s_->fail(st.error());
    s_->pending.assign(bytes.begin() + static_cast<ptrdiff_t>(used), bytes.end());
    return ok_status();
  }
  s_->pending.insert(s_->pending.end(), bytes.begin(), bytes.end());
  Status st = s_->parse_frames(ByteSpan(s_->pending).subspan(s_->pos), &used);
  if (!st.ok()) return s_->fail(st.error());
  s_->pos += used;
  if (s_->pos == s_->pending.size()) {
    s_->pending.clear();
    s_->pos = 0;
  } else if (s_->pos > 0 && s_->pos % 8 == 0 && s_->pos >= s_->pending.size() / 2) {
    s_->pending.erase(s_->pending.begin(), s_->pending.begin() + static_cast<ptrdiff_t>(s_->pos));
    s_->pos = 0;
  }
  return ok_status();
}

Status IpcStreamReader::finish() {
  if (s_->error) return *s_->error;
  if (s_->pos < s_->pending.size()) {
    return s_->fail(Error(ErrorCode::kClosed, "arrow ipc: stream ends inside a message (" +
                                                  std::to_string(s_->pending.size() - s_->pos) + " bytes left over)"));
  }
  if (!s_->schema) return s_->fail(Error(ErrorCode::kClosed, "arrow ipc: stream ended before its Schema message"));
  return ok_status();
}

std::optional<ReadMessage> IpcStreamReader::next() {
  if (s_->queue.empty()) return std::nullopt;
  ReadMessage m = std::move(s_->queue.front());
  s_->queue.pop_front();
  return m;
}

Status IpcStreamReader::decode_message(ByteSpan metadata, ByteSpan body) {
  if (s_->error) return *s_->error;
  if (static_cast<int64_t>(metadata.size()) > s_->options.max_metadata_bytes) {
    return s_->fail(limit("message metadata length " + std::to_string(metadata.size())));
  }
  Status st = s_->decode(metadata, body);
  if (!st.ok()) return s_->fail(st.error());
  s_->consumed += static_cast<int64_t>(metadata.size() + body.size());
  return ok_status();
}

bool IpcStreamReader::has_schema() const { return s_->schema.has_value(); }
const Schema& IpcStreamReader::schema() const { return *s_->schema; }
Status IpcStreamReader::export_schema(ArrowSchema* out) const {
  if (!s_->schema) return Error(ErrorCode::kInvalidArgument, "arrow ipc: no schema yet");
  return arrow::export_schema(*s_->schema, out);
}
bool IpcStreamReader::end_of_stream() const { return s_->eos; }
int64_t IpcStreamReader::bytes_consumed() const { return s_->consumed; }

Result<ReadStream> read_ipc_stream(ByteSpan bytes, ReaderOptions options) {
  IpcStreamReader reader(options);
  SYNDB_RETURN_IF_ERROR(reader.feed(bytes));
  SYNDB_RETURN_IF_ERROR(reader.finish());
  ReadStream out;
  SYNDB_RETURN_IF_ERROR(reader.export_schema(out.schema.get()));
  while (auto m = reader.next()) {
    if (m->kind == MessageKind::kRecordBatch) out.batches.push_back(std::move(m->batch));
  }
  return out;
}

}  // namespace syndb::arrow
