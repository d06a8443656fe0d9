#include "arrow/json.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "arrow/bits.h"
#include "arrow/schema.h"

namespace syndb::arrow {

namespace {

using json = nlohmann::json;

template <typename T>
T load(const void* base, int64_t index) {
  T v;
  std::memcpy(&v, static_cast<const uint8_t*>(base) + index * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}

std::string hex(const uint8_t* p, int64_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(static_cast<size_t>(n) * 2);
  for (int64_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string hex_bits(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%0*" PRIx64, digits, v);
  return buf;
}

// Two's complement little-endian integer of `width` bytes, with `scale` applied.
std::string decimal_string(const uint8_t* p, int width, int32_t scale) {
  std::vector<uint32_t> limbs(static_cast<size_t>(width / 4));
  std::memcpy(limbs.data(), p, static_cast<size_t>(width));
  const bool negative = (p[width - 1] & 0x80) != 0;
  if (negative) {  // negate: invert and add one
    uint64_t carry = 1;
    for (auto& l : limbs) {
      const uint64_t v = static_cast<uint64_t>(static_cast<uint32_t>(~l)) + carry;
      l = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
  }
  std::string digits;
  auto is_zero = [&] {
    for (auto l : limbs) {
      if (l) return false;
    }
    return true;
  };
  if (is_zero()) digits = "0";
  while (!is_zero()) {
    uint64_t rem = 0;
    for (size_t i = limbs.size(); i-- > 0;) {
      const uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<uint32_t>(cur / 10);
      rem = cur % 10;
    }
    digits += static_cast<char>('0' + rem);
  }
  std::string s(digits.rbegin(), digits.rend());
  if (scale > 0) {
    if (s.size() <= static_cast<size_t>(scale)) s.insert(0, static_cast<size_t>(scale) + 1 - s.size(), '0');
    s.insert(s.size() - static_cast<size_t>(scale), ".");
  } else if (scale < 0 && s != "0") {
    s.append(static_cast<size_t>(-scale), '0');
  }
  if (negative && s.find_first_not_of("0.") != std::string::npos) s.insert(0, "-");
  return s;
}

json field_json(const Field& f) {
  json j = {{"name", f.name}, {"type", type_name(f.type)}, {"nullable", f.nullable}};
  if (!f.children.empty()) {
    json children = json::array();
    for (const auto& c : f.children) children.push_back(field_json(c));
    j["children"] = children;
  }
  if (f.dictionary) {
    j["dictionary"] = {{"index", type_name(index_type(*f.dictionary))}, {"ordered", f.dictionary->ordered}};
  }
  return j;
}

json value_at(const Field& f, const ArrowArray& a, int64_t i);

json storage_value(const Field& f, const ArrowArray& a, int64_t i) {
  const DataType& t = f.type;
  const void* values = a.n_buffers > 1 ? a.buffers[1] : nullptr;
  switch (t.id) {
    case TypeId::kNull: return nullptr;
    case TypeId::kBool: return get_bit(static_cast<const uint8_t*>(values), i);
    case TypeId::kInt:
      switch (t.bit_width) {
        case 8: return t.is_signed ? json(load<int8_t>(values, i)) : json(load<uint8_t>(values, i));
        case 16: return t.is_signed ? json(load<int16_t>(values, i)) : json(load<uint16_t>(values, i));
        case 32: return t.is_signed ? json(load<int32_t>(values, i)) : json(load<uint32_t>(values, i));
        default:
          return t.is_signed ? json(std::to_string(load<int64_t>(values, i)))
                             : json(std::to_string(load<uint64_t>(values, i)));
      }
    case TypeId::kFloatingPoint:
      if (t.precision == FloatPrecision::kHalf) return hex_bits(load<uint16_t>(values, i), 4);
      if (t.precision == FloatPrecision::kSingle) return hex_bits(load<uint32_t>(values, i), 8);
      return hex_bits(load<uint64_t>(values, i), 16);
    case TypeId::kDecimal: {
      const int w = t.bit_width / 8;
      return decimal_string(static_cast<const uint8_t*>(values) + i * w, w, t.decimal_scale);
    }
    case TypeId::kDate:
      if (t.date_unit == DateUnit::kDay) return load<int32_t>(values, i);
      return std::to_string(load<int64_t>(values, i));
    case TypeId::kTime:
      if (t.bit_width == 32) return load<int32_t>(values, i);
      return std::to_string(load<int64_t>(values, i));
    case TypeId::kTimestamp:
    case TypeId::kDuration: return std::to_string(load<int64_t>(values, i));
    case TypeId::kInterval:
      if (t.interval_unit == IntervalUnit::kYearMonth) return load<int32_t>(values, i);
      if (t.interval_unit == IntervalUnit::kDayTime) return json::array({load<int32_t>(values, 2 * i), load<int32_t>(values, 2 * i + 1)});
      return json::array({load<int32_t>(values, 4 * i), load<int32_t>(values, 4 * i + 1),
                          std::to_string(load<int64_t>(values, 2 * i + 1))});
    case TypeId::kFixedSizeBinary:
      return hex(static_cast<const uint8_t*>(values) + i * t.byte_width, t.byte_width);
    case TypeId::kBinary:
    case TypeId::kUtf8:
    case TypeId::kLargeBinary:
    case TypeId::kLargeUtf8: {
      const bool wide = t.id == TypeId::kLargeBinary || t.id == TypeId::kLargeUtf8;
      const int64_t begin = wide ? load<int64_t>(values, i) : load<int32_t>(values, i);
      const int64_t end = wide ? load<int64_t>(values, i + 1) : load<int32_t>(values, i + 1);
      const auto* data = static_cast<const uint8_t*>(a.buffers[2]) + begin;
      if (t.id == TypeId::kUtf8 || t.id == TypeId::kLargeUtf8) {
        return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(end - begin));
      }
      return hex(data, end - begin);
    }
    case TypeId::kBinaryView:
    case TypeId::kUtf8View: {
      const auto* view = static_cast<const uint8_t*>(values) + i * 16;
      const int32_t len = load<int32_t>(view, 0);
      const uint8_t* data = view + 4;
      if (len > 12) {
        const int32_t index = load<int32_t>(view + 8, 0);
        const int32_t offset = load<int32_t>(view + 12, 0);
        data = static_cast<const uint8_t*>(a.buffers[2 + index]) + offset;
      }
      if (t.id == TypeId::kUtf8View) return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
      return hex(data, len);
    }
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kMap: {
      const bool wide = t.id == TypeId::kLargeList;
      const int64_t begin = wide ? load<int64_t>(values, i) : load<int32_t>(values, i);
      const int64_t end = wide ? load<int64_t>(values, i + 1) : load<int32_t>(values, i + 1);
      const ArrowArray& c = *a.children[0];
      json out = json::array();
      for (int64_t j = begin; j < end; ++j) out.push_back(value_at(f.children[0], c, c.offset + j));
      return out;
    }
    case TypeId::kFixedSizeList: {
      const ArrowArray& c = *a.children[0];
      json out = json::array();
      for (int64_t j = 0; j < t.list_size; ++j) out.push_back(value_at(f.children[0], c, c.offset + i * t.list_size + j));
      return out;
    }
    case TypeId::kStruct: {
      json out = json::array();
      for (size_t k = 0; k < f.children.size(); ++k) {
        const ArrowArray& c = *a.children[k];
        out.push_back(value_at(f.children[k], c, c.offset + i));
      }
      return out;
    }
    case TypeId::kSparseUnion:
    case TypeId::kDenseUnion: {
      const int8_t id = load<int8_t>(a.buffers[0], i);
      size_t k = 0;
      while (k < t.type_ids.size() && t.type_ids[k] != id) ++k;
      if (k == t.type_ids.size()) return json::array({id, nullptr});
      const ArrowArray& c = *a.children[k];
      const int64_t j = t.id == TypeId::kSparseUnion ? i : load<int32_t>(a.buffers[1], i);
      return json::array({id, value_at(f.children[k], c, c.offset + j)});
    }
  }
  return nullptr;
}

json value_at(const Field& f, const ArrowArray& a, int64_t i) {
  const Layout layout = storage_layout(f);
  if (layout == Layout::kNull) return nullptr;
  if (layout != Layout::kSparseUnion && layout != Layout::kDenseUnion && a.null_count != 0 && a.n_buffers > 0 &&
      a.buffers[0] != nullptr && !get_bit(static_cast<const uint8_t*>(a.buffers[0]), i)) {
    return nullptr;
  }
  if (f.dictionary) {
    const void* idx = a.buffers[1];
    int64_t k = 0;
    switch (f.dictionary->index_bit_width) {
      case 8: k = f.dictionary->index_signed ? load<int8_t>(idx, i) : load<uint8_t>(idx, i); break;
      case 16: k = f.dictionary->index_signed ? load<int16_t>(idx, i) : load<uint16_t>(idx, i); break;
      case 32: k = f.dictionary->index_signed ? load<int32_t>(idx, i) : int64_t{load<uint32_t>(idx, i)}; break;
      default: k = load<int64_t>(idx, i); break;
    }
    Field values = f;
    values.dictionary.reset();
    const ArrowArray& d = *a.dictionary;
    return value_at(values, d, d.offset + k);
  }
  return storage_value(f, a, i);
}

}  // namespace

Result<nlohmann::json> to_canonical_json(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches) {
  SYNDB_ASSIGN_OR_RETURN(Schema s, import_schema(schema));
  json fields = json::array();
  for (const auto& f : s.fields) fields.push_back(field_json(f));
  json lengths = json::array();
  json columns = json::array();
  for (size_t k = 0; k < s.fields.size(); ++k) columns.push_back(json::array());
  for (const ArrowArray* b : batches) {
    if (b == nullptr || b->n_children != static_cast<int64_t>(s.fields.size())) {
      return Error(ErrorCode::kInvalidArgument, "arrow json: batch does not match the schema");
    }
    lengths.push_back(b->length);
    for (size_t k = 0; k < s.fields.size(); ++k) {
      const ArrowArray& c = *b->children[k];
      for (int64_t r = 0; r < b->length; ++r) columns[k].push_back(value_at(s.fields[k], c, c.offset + b->offset + r));
    }
  }
  return json{{"fields", fields}, {"batches", lengths}, {"columns", columns}};
}

}  // namespace syndb::arrow
