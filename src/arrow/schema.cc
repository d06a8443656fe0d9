#include "arrow/schema.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <set>

namespace syndb::arrow {

namespace {

Error unsupported(const std::string& what) { return Error(ErrorCode::kUnsupported, "arrow: " + what); }
Error invalid(const std::string& what) { return Error(ErrorCode::kInvalidArgument, "arrow: " + what); }

const char* unit_code(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSecond: return "s";
    case TimeUnit::kMilli: return "m";
    case TimeUnit::kMicro: return "u";
    case TimeUnit::kNano: return "n";
  }
  return "?";
}

const char* unit_name(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSecond: return "s";
    case TimeUnit::kMilli: return "ms";
    case TimeUnit::kMicro: return "us";
    case TimeUnit::kNano: return "ns";
  }
  return "?";
}

std::optional<TimeUnit> parse_unit(char c) {
  switch (c) {
    case 's': return TimeUnit::kSecond;
    case 'm': return TimeUnit::kMilli;
    case 'u': return TimeUnit::kMicro;
    case 'n': return TimeUnit::kNano;
    default: return std::nullopt;
  }
}

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

DataType int_type(int bits, bool is_signed) {
  DataType t;
  t.id = TypeId::kInt;
  t.bit_width = bits;
  t.is_signed = is_signed;
  return t;
}

DataType simple(TypeId id) {
  DataType t;
  t.id = id;
  return t;
}

}  // namespace

Layout layout_of(const DataType& type) {
  switch (type.id) {
    case TypeId::kNull: return Layout::kNull;
    case TypeId::kBool: return Layout::kBool;
    case TypeId::kInt:
    case TypeId::kFloatingPoint:
    case TypeId::kDecimal:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
    case TypeId::kInterval:
    case TypeId::kFixedSizeBinary: return Layout::kFixed;
    case TypeId::kBinary:
    case TypeId::kUtf8: return Layout::kBinary32;
    case TypeId::kLargeBinary:
    case TypeId::kLargeUtf8: return Layout::kBinary64;
    case TypeId::kBinaryView:
    case TypeId::kUtf8View: return Layout::kView;
    case TypeId::kList:
    case TypeId::kMap: return Layout::kList32;
    case TypeId::kLargeList: return Layout::kList64;
    case TypeId::kFixedSizeList: return Layout::kFixedSizeList;
    case TypeId::kStruct: return Layout::kStruct;
    case TypeId::kSparseUnion: return Layout::kSparseUnion;
    case TypeId::kDenseUnion: return Layout::kDenseUnion;
  }
  return Layout::kNull;
}

int64_t fixed_width_bytes(const DataType& type) {
  switch (type.id) {
    case TypeId::kInt: return type.bit_width / 8;
    case TypeId::kFloatingPoint:
      return type.precision == FloatPrecision::kHalf ? 2 : type.precision == FloatPrecision::kSingle ? 4 : 8;
    case TypeId::kDecimal: return type.bit_width / 8;
    case TypeId::kDate: return type.date_unit == DateUnit::kDay ? 4 : 8;
    case TypeId::kTime: return type.bit_width / 8;
    case TypeId::kTimestamp:
    case TypeId::kDuration: return 8;
    case TypeId::kInterval:
      return type.interval_unit == IntervalUnit::kYearMonth ? 4 : type.interval_unit == IntervalUnit::kDayTime ? 8 : 16;
    case TypeId::kFixedSizeBinary: return type.byte_width;
    default: return 0;
  }
}

DataType index_type(const DictionaryEncoding& dict) { return int_type(dict.index_bit_width, dict.index_signed); }

Layout storage_layout(const Field& field) {
  return field.dictionary ? Layout::kFixed : layout_of(field.type);
}

int64_t storage_width(const Field& field) {
  return field.dictionary ? field.dictionary->index_bit_width / 8 : fixed_width_bytes(field.type);
}

int c_buffer_count(Layout layout) {
  switch (layout) {
    case Layout::kNull: return 0;
    case Layout::kBool:
    case Layout::kFixed: return 2;
    case Layout::kBinary32:
    case Layout::kBinary64: return 3;
    case Layout::kView: return 3;  // minimum: validity, views, sizes (no data buffers)
    case Layout::kList32:
    case Layout::kList64: return 2;
    case Layout::kFixedSizeList:
    case Layout::kStruct: return 1;
    case Layout::kSparseUnion: return 1;
    case Layout::kDenseUnion: return 2;
  }
  return 0;
}

std::string format_string(const DataType& t) {
  switch (t.id) {
    case TypeId::kNull: return "n";
    case TypeId::kBool: return "b";
    case TypeId::kInt:
      switch (t.bit_width) {
        case 8: return t.is_signed ? "c" : "C";
        case 16: return t.is_signed ? "s" : "S";
        case 32: return t.is_signed ? "i" : "I";
        case 64: return t.is_signed ? "l" : "L";
      }
      return "?";
    case TypeId::kFloatingPoint:
      return t.precision == FloatPrecision::kHalf ? "e" : t.precision == FloatPrecision::kSingle ? "f" : "g";
    case TypeId::kDecimal: {
      std::string s = "d:" + std::to_string(t.decimal_precision) + "," + std::to_string(t.decimal_scale);
      if (t.bit_width != 128) s += "," + std::to_string(t.bit_width);
      return s;
    }
    case TypeId::kDate: return t.date_unit == DateUnit::kDay ? "tdD" : "tdm";
    case TypeId::kTime: return std::string("tt") + unit_code(t.time_unit);
    case TypeId::kTimestamp: return std::string("ts") + unit_code(t.time_unit) + ":" + t.timezone;
    case TypeId::kDuration: return std::string("tD") + unit_code(t.time_unit);
    case TypeId::kInterval:
      return t.interval_unit == IntervalUnit::kYearMonth ? "tiM" : t.interval_unit == IntervalUnit::kDayTime ? "tiD" : "tin";
    case TypeId::kFixedSizeBinary: return "w:" + std::to_string(t.byte_width);
    case TypeId::kBinary: return "z";
    case TypeId::kLargeBinary: return "Z";
    case TypeId::kUtf8: return "u";
    case TypeId::kLargeUtf8: return "U";
    case TypeId::kBinaryView: return "vz";
    case TypeId::kUtf8View: return "vu";
    case TypeId::kList: return "+l";
    case TypeId::kLargeList: return "+L";
    case TypeId::kFixedSizeList: return "+w:" + std::to_string(t.list_size);
    case TypeId::kStruct: return "+s";
    case TypeId::kMap: return "+m";
    case TypeId::kSparseUnion:
    case TypeId::kDenseUnion: {
      std::string s = t.id == TypeId::kSparseUnion ? "+us:" : "+ud:";
      for (size_t i = 0; i < t.type_ids.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(t.type_ids[i]);
      }
      return s;
    }
  }
  return "?";
}

Result<DataType> parse_format(std::string_view f) {
  auto bad = [&] { return unsupported("unsupported or malformed C format string '" + std::string(f) + "'"); };
  if (f.empty()) return bad();
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': return simple(TypeId::kNull);
      case 'b': return simple(TypeId::kBool);
      case 'c': return int_type(8, true);
      case 'C': return int_type(8, false);
      case 's': return int_type(16, true);
      case 'S': return int_type(16, false);
      case 'i': return int_type(32, true);
      case 'I': return int_type(32, false);
      case 'l': return int_type(64, true);
      case 'L': return int_type(64, false);
      case 'e':
      case 'f':
      case 'g': {
        DataType t = simple(TypeId::kFloatingPoint);
        t.precision = f[0] == 'e' ? FloatPrecision::kHalf : f[0] == 'f' ? FloatPrecision::kSingle : FloatPrecision::kDouble;
        return t;
      }
      case 'z': return simple(TypeId::kBinary);
      case 'Z': return simple(TypeId::kLargeBinary);
      case 'u': return simple(TypeId::kUtf8);
      case 'U': return simple(TypeId::kLargeUtf8);
      default: return bad();
    }
  }
  if (f == "vz") return simple(TypeId::kBinaryView);
  if (f == "vu") return simple(TypeId::kUtf8View);
  if (f.starts_with("w:")) {
    int64_t n = 0;
    if (!parse_int(f.substr(2), &n) || n < 0 || n > INT32_MAX) return bad();
    DataType t = simple(TypeId::kFixedSizeBinary);
    t.byte_width = static_cast<int32_t>(n);
    return t;
  }
  if (f.starts_with("d:")) {
    std::string_view rest = f.substr(2);
    std::vector<int64_t> parts;
    while (true) {
      size_t comma = rest.find(',');
      int64_t v = 0;
      if (!parse_int(rest.substr(0, comma), &v)) return bad();
      parts.push_back(v);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    if (parts.size() < 2 || parts.size() > 3) return bad();
    DataType t = simple(TypeId::kDecimal);
    if (parts[0] < INT32_MIN || parts[0] > INT32_MAX || parts[1] < INT32_MIN || parts[1] > INT32_MAX) return bad();
    t.decimal_precision = static_cast<int32_t>(parts[0]);
    t.decimal_scale = static_cast<int32_t>(parts[1]);
    t.bit_width = parts.size() == 3 ? static_cast<int>(parts[2]) : 128;
    if (parts.size() == 3 && parts[2] != 32 && parts[2] != 64 && parts[2] != 128 && parts[2] != 256) return bad();
    return t;
  }
  if (f.size() == 3 && f.starts_with("td")) {
    DataType t = simple(TypeId::kDate);
    if (f[2] == 'D') t.date_unit = DateUnit::kDay;
    else if (f[2] == 'm') t.date_unit = DateUnit::kMilli;
    else return bad();
    return t;
  }
  if (f.size() == 3 && (f.starts_with("tt") || f.starts_with("tD"))) {
    auto unit = parse_unit(f[2]);
    if (!unit) return bad();
    DataType t = simple(f[1] == 't' ? TypeId::kTime : TypeId::kDuration);
    t.time_unit = *unit;
    if (t.id == TypeId::kTime) t.bit_width = (*unit == TimeUnit::kSecond || *unit == TimeUnit::kMilli) ? 32 : 64;
    return t;
  }
  if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {
    auto unit = parse_unit(f[2]);
    if (!unit) return bad();
    DataType t = simple(TypeId::kTimestamp);
    t.time_unit = *unit;
    t.timezone = std::string(f.substr(4));
    return t;
  }
  if (f.size() == 3 && f.starts_with("ti")) {
    DataType t = simple(TypeId::kInterval);
    if (f[2] == 'M') t.interval_unit = IntervalUnit::kYearMonth;
    else if (f[2] == 'D') t.interval_unit = IntervalUnit::kDayTime;
    else if (f[2] == 'n') t.interval_unit = IntervalUnit::kMonthDayNano;
    else return bad();
    return t;
  }
  if (f == "+l") return simple(TypeId::kList);
  if (f == "+L") return simple(TypeId::kLargeList);
  if (f == "+s") return simple(TypeId::kStruct);
  if (f == "+m") return simple(TypeId::kMap);
  if (f.starts_with("+w:")) {
    int64_t n = 0;
    if (!parse_int(f.substr(3), &n) || n < 0 || n > INT32_MAX) return bad();
    DataType t = simple(TypeId::kFixedSizeList);
    t.list_size = static_cast<int32_t>(n);
    return t;
  }
  if (f.starts_with("+us:") || f.starts_with("+ud:")) {
    DataType t = simple(f[2] == 's' ? TypeId::kSparseUnion : TypeId::kDenseUnion);
    std::string_view rest = f.substr(4);
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      int64_t v = 0;
      if (!parse_int(rest.substr(0, comma), &v) || v < 0 || v > 127) return bad();
      t.type_ids.push_back(static_cast<int32_t>(v));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
      if (rest.empty()) return bad();
    }
    return t;
  }
  return bad();
}

std::string type_name(const DataType& t) {
  switch (t.id) {
    case TypeId::kNull: return "null";
    case TypeId::kBool: return "bool";
    case TypeId::kInt: return std::string(t.is_signed ? "int" : "uint") + std::to_string(t.bit_width);
    case TypeId::kFloatingPoint:
      return t.precision == FloatPrecision::kHalf ? "float16" : t.precision == FloatPrecision::kSingle ? "float32" : "float64";
    case TypeId::kDecimal:
      return "decimal" + std::to_string(t.bit_width) + "(" + std::to_string(t.decimal_precision) + "," +
             std::to_string(t.decimal_scale) + ")";
    case TypeId::kDate: return t.date_unit == DateUnit::kDay ? "date32" : "date64";
    case TypeId::kTime: return "time" + std::to_string(t.bit_width) + "[" + unit_name(t.time_unit) + "]";
    case TypeId::kTimestamp:
      return std::string("timestamp[") + unit_name(t.time_unit) + (t.timezone.empty() ? "" : ", " + t.timezone) + "]";
    case TypeId::kDuration: return std::string("duration[") + unit_name(t.time_unit) + "]";
    case TypeId::kInterval:
      return t.interval_unit == IntervalUnit::kYearMonth ? "interval[year_month]"
             : t.interval_unit == IntervalUnit::kDayTime ? "interval[day_time]"
                                                         : "interval[month_day_nano]";
    case TypeId::kFixedSizeBinary: return "fixed_size_binary(" + std::to_string(t.byte_width) + ")";
    case TypeId::kBinary: return "binary";
    case TypeId::kLargeBinary: return "large_binary";
    case TypeId::kUtf8: return "utf8";
    case TypeId::kLargeUtf8: return "large_utf8";
    case TypeId::kBinaryView: return "binary_view";
    case TypeId::kUtf8View: return "utf8_view";
    case TypeId::kList: return "list";
    case TypeId::kLargeList: return "large_list";
    case TypeId::kFixedSizeList: return "fixed_size_list(" + std::to_string(t.list_size) + ")";
    case TypeId::kStruct: return "struct";
    case TypeId::kMap: return t.keys_sorted ? "map(sorted)" : "map";
    case TypeId::kSparseUnion:
    case TypeId::kDenseUnion: {
      std::string s = t.id == TypeId::kSparseUnion ? "sparse_union[" : "dense_union[";
      for (size_t i = 0; i < t.type_ids.size(); ++i) s += (i ? "," : "") + std::to_string(t.type_ids[i]);
      return s + "]";
    }
  }
  return "?";
}

namespace {

bool contains_dictionary(const Field& f) {
  for (const auto& c : f.children) {
    if (c.dictionary || contains_dictionary(c)) return true;
  }
  return false;
}

}  // namespace

Status validate_field(const Field& f, int depth, const SchemaLimits& limits, int64_t* count) {
  const std::string where = "field '" + f.name + "'";
  if (depth > limits.max_depth) {
    return Error(ErrorCode::kLimitExceeded, "arrow: " + where + " nested deeper than " + std::to_string(limits.max_depth));
  }
  if (++*count > limits.max_fields) {
    return Error(ErrorCode::kLimitExceeded, "arrow: schema has more than " + std::to_string(limits.max_fields) + " fields");
  }
  const DataType& t = f.type;
  auto children = [&](size_t n) -> Status {
    if (f.children.size() != n) {
      return invalid(where + " of type " + type_name(t) + " needs " + std::to_string(n) + " child field(s), has " +
                     std::to_string(f.children.size()));
    }
    return ok_status();
  };
  switch (t.id) {
    case TypeId::kInt:
      if (t.bit_width != 8 && t.bit_width != 16 && t.bit_width != 32 && t.bit_width != 64) {
        return invalid(where + ": integer bit width " + std::to_string(t.bit_width));
      }
      SYNDB_RETURN_IF_ERROR(children(0));
      break;
    case TypeId::kDecimal:
      if (t.bit_width != 32 && t.bit_width != 64 && t.bit_width != 128 && t.bit_width != 256) {
        return invalid(where + ": decimal bit width " + std::to_string(t.bit_width));
      }
      if (t.decimal_precision < 1 || t.decimal_precision > 76) {
        return invalid(where + ": decimal precision " + std::to_string(t.decimal_precision));
      }
      if (t.decimal_scale < -128 || t.decimal_scale > 128) {
        return invalid(where + ": decimal scale " + std::to_string(t.decimal_scale) + " outside [-128, 128]");
      }
      SYNDB_RETURN_IF_ERROR(children(0));
      break;
    case TypeId::kTime: {
      const bool small = t.time_unit == TimeUnit::kSecond || t.time_unit == TimeUnit::kMilli;
      if (t.bit_width != (small ? 32 : 64)) {
        return invalid(where + ": time bit width " + std::to_string(t.bit_width) + " does not match its unit");
      }
      SYNDB_RETURN_IF_ERROR(children(0));
      break;
    }
    case TypeId::kFixedSizeBinary:
      if (t.byte_width < 0) return invalid(where + ": negative byte width");
      SYNDB_RETURN_IF_ERROR(children(0));
      break;
    case TypeId::kList:
    case TypeId::kLargeList:
      SYNDB_RETURN_IF_ERROR(children(1));
      break;
    case TypeId::kFixedSizeList:
      if (t.list_size < 0) return invalid(where + ": negative list size");
      SYNDB_RETURN_IF_ERROR(children(1));
      break;
    case TypeId::kMap:
      SYNDB_RETURN_IF_ERROR(children(1));
      if (f.children[0].type.id != TypeId::kStruct || f.children[0].dictionary || f.children[0].children.size() != 2) {
        return invalid(where + ": a map's child must be a struct of two fields (key, value)");
      }
      break;
    case TypeId::kStruct: break;
    case TypeId::kSparseUnion:
    case TypeId::kDenseUnion: {
      if (t.type_ids.size() != f.children.size()) {
        return invalid(where + ": union has " + std::to_string(f.children.size()) + " children but " +
                       std::to_string(t.type_ids.size()) + " type ids");
      }
      std::set<int32_t> seen;
      for (int32_t id : t.type_ids) {
        if (id < 0 || id > 127 || !seen.insert(id).second) {
          return invalid(where + ": bad or duplicate union type id " + std::to_string(id));
        }
      }
      break;
    }
    default: SYNDB_RETURN_IF_ERROR(children(0)); break;
  }
  if (f.dictionary) {
    const int w = f.dictionary->index_bit_width;
    if (w != 8 && w != 16 && w != 32 && w != 64) {
      return invalid(where + ": dictionary index bit width " + std::to_string(w));
    }
    if (contains_dictionary(f)) return unsupported(where + ": dictionary-encoded values inside a dictionary");
  }
  for (const auto& c : f.children) SYNDB_RETURN_IF_ERROR(validate_field(c, depth + 1, limits, count));
  return ok_status();
}

Status validate_schema(const Schema& schema, const SchemaLimits& limits) {
  int64_t count = 0;
  for (const auto& f : schema.fields) SYNDB_RETURN_IF_ERROR(validate_field(f, 0, limits, &count));
  return ok_status();
}

// ---------------------------------------------------------------------------
// C metadata

std::string encode_c_metadata(const KeyValues& kv) {
  if (kv.empty()) return {};
  std::string out;
  auto put32 = [&](int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put32(static_cast<int32_t>(kv.size()));
  for (const auto& [k, v] : kv) {
    put32(static_cast<int32_t>(k.size()));
    out += k;
    put32(static_cast<int32_t>(v.size()));
    out += v;
  }
  return out;
}

KeyValues decode_c_metadata(const char* p) {
  KeyValues kv;
  if (p == nullptr) return kv;
  auto get32 = [&]() {
    int32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    return v;
  };
  const int32_t n = get32();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t kl = get32();
    if (kl < 0) break;
    std::string k(p, static_cast<size_t>(kl));
    p += kl;
    const int32_t vl = get32();
    if (vl < 0) break;
    std::string v(p, static_cast<size_t>(vl));
    p += vl;
    kv.emplace_back(std::move(k), std::move(v));
  }
  return kv;
}

// ---------------------------------------------------------------------------
// Import

namespace {

Result<Field> import_rec(const ArrowSchema& s, int depth, const SchemaLimits& limits, int64_t* count,
                         int64_t* next_dict_id) {
  if (s.release == nullptr) return invalid("released ArrowSchema");
  if (s.format == nullptr) return invalid("ArrowSchema without a format");
  if (depth > limits.max_depth) {
    return Error(ErrorCode::kLimitExceeded, "arrow: schema nested deeper than " + std::to_string(limits.max_depth));
  }
  if (++*count > limits.max_fields) {
    return Error(ErrorCode::kLimitExceeded, "arrow: schema has more than " + std::to_string(limits.max_fields) + " fields");
  }
  Field f;
  f.name = s.name ? s.name : "";
  f.nullable = (s.flags & ARROW_FLAG_NULLABLE) != 0;
  f.metadata = decode_c_metadata(s.metadata);
  const ArrowSchema* value_schema = &s;
  if (s.dictionary != nullptr) {
    SYNDB_ASSIGN_OR_RETURN(DataType index, parse_format(s.format));
    if (index.id != TypeId::kInt) return invalid("field '" + f.name + "': dictionary index type must be an integer");
    if (s.dictionary->release == nullptr || s.dictionary->format == nullptr) {
      return invalid("field '" + f.name + "': released or malformed dictionary schema");
    }
    if (s.dictionary->dictionary != nullptr) return unsupported("field '" + f.name + "': nested dictionary");
    DictionaryEncoding d;
    d.id = (*next_dict_id)++;
    d.index_bit_width = index.bit_width;
    d.index_signed = index.is_signed;
    d.ordered = (s.flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0;
    f.dictionary = d;
    value_schema = s.dictionary;
  }
  SYNDB_ASSIGN_OR_RETURN(f.type, parse_format(value_schema->format));
  if (f.type.id == TypeId::kMap) f.type.keys_sorted = (value_schema->flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0;
  if (value_schema->n_children < 0 || (value_schema->n_children > 0 && value_schema->children == nullptr)) {
    return invalid("field '" + f.name + "': bad children");
  }
  for (int64_t i = 0; i < value_schema->n_children; ++i) {
    const ArrowSchema* c = value_schema->children[i];
    if (c == nullptr) return invalid("field '" + f.name + "': null child schema");
    SYNDB_ASSIGN_OR_RETURN(Field child, import_rec(*c, depth + 1, limits, count, next_dict_id));
    f.children.push_back(std::move(child));
  }
  return f;
}

}  // namespace

Result<Schema> import_schema(const ArrowSchema& root, const SchemaLimits& limits) {
  if (root.release == nullptr) return invalid("released ArrowSchema");
  if (root.format == nullptr || std::string_view(root.format) != "+s") {
    return invalid(std::string("a record batch schema must be a struct (+s), got '") + (root.format ? root.format : "") + "'");
  }
  if (root.n_children < 0 || (root.n_children > 0 && root.children == nullptr)) return invalid("bad root children");
  Schema schema;
  schema.metadata = decode_c_metadata(root.metadata);
  int64_t count = 0;
  int64_t next_dict_id = 0;
  for (int64_t i = 0; i < root.n_children; ++i) {
    if (root.children[i] == nullptr) return invalid("null child schema");
    SYNDB_ASSIGN_OR_RETURN(Field f, import_rec(*root.children[i], 0, limits, &count, &next_dict_id));
    schema.fields.push_back(std::move(f));
  }
  SYNDB_RETURN_IF_ERROR(validate_schema(schema, limits));
  return schema;
}

Result<Field> import_field(const ArrowSchema& s, const SchemaLimits& limits) {
  int64_t count = 0;
  int64_t next_dict_id = 0;
  SYNDB_ASSIGN_OR_RETURN(Field f, import_rec(s, 0, limits, &count, &next_dict_id));
  count = 0;
  SYNDB_RETURN_IF_ERROR(validate_field(f, 0, limits, &count));
  return f;
}

// ---------------------------------------------------------------------------
// Export

namespace {

struct SchemaPrivate {
  std::string format;
  std::string name;
  std::string metadata;
  std::unique_ptr<ArrowSchema[]> children;
  std::unique_ptr<ArrowSchema*[]> child_ptrs;
  int64_t n_children = 0;
  std::unique_ptr<ArrowSchema> dictionary;
};

void release_schema(ArrowSchema* s) {
  if (s == nullptr || s->release == nullptr) return;
  auto* p = static_cast<SchemaPrivate*>(s->private_data);
  for (int64_t i = 0; i < p->n_children; ++i) {
    ArrowSchema* c = p->child_ptrs[i];
    if (c->release) c->release(c);
  }
  if (p->dictionary && p->dictionary->release) p->dictionary->release(p->dictionary.get());
  delete p;
  s->release = nullptr;
  s->private_data = nullptr;
}

void fill(ArrowSchema* out, std::string format, std::string name, const KeyValues& metadata, int64_t flags,
          const std::vector<Field>* children) {
  auto* p = new SchemaPrivate;
  p->format = std::move(format);
  p->name = std::move(name);
  p->metadata = encode_c_metadata(metadata);
  const size_t n = children ? children->size() : 0;
  p->n_children = static_cast<int64_t>(n);
  if (n > 0) {
    p->children = std::make_unique<ArrowSchema[]>(n);
    p->child_ptrs = std::make_unique<ArrowSchema*[]>(n);
    for (size_t i = 0; i < n; ++i) {
      p->child_ptrs[i] = &p->children[i];
      (void)export_field((*children)[i], &p->children[i]);
    }
  }
  out->format = p->format.c_str();
  out->name = p->name.c_str();
  out->metadata = p->metadata.empty() ? nullptr : p->metadata.data();
  out->flags = flags;
  out->n_children = p->n_children;
  out->children = n > 0 ? p->child_ptrs.get() : nullptr;
  out->dictionary = nullptr;
  out->release = &release_schema;
  out->private_data = p;
}

}  // namespace

Status export_field(const Field& f, ArrowSchema* out) {
  int64_t flags = f.nullable ? ARROW_FLAG_NULLABLE : 0;
  if (!f.dictionary) {
    if (f.type.id == TypeId::kMap && f.type.keys_sorted) flags |= ARROW_FLAG_MAP_KEYS_SORTED;
    fill(out, format_string(f.type), f.name, f.metadata, flags, &f.children);
    return ok_status();
  }
  if (f.dictionary->ordered) flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  fill(out, format_string(index_type(*f.dictionary)), f.name, f.metadata, flags, nullptr);
  auto* p = static_cast<SchemaPrivate*>(out->private_data);
  p->dictionary = std::make_unique<ArrowSchema>();
  int64_t value_flags = 0;
  if (f.type.id == TypeId::kMap && f.type.keys_sorted) value_flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  fill(p->dictionary.get(), format_string(f.type), "", {}, value_flags, &f.children);
  out->dictionary = p->dictionary.get();
  return ok_status();
}

Status export_schema(const Schema& schema, ArrowSchema* out) {
  fill(out, "+s", "", schema.metadata, 0, &schema.fields);
  return ok_status();
}

}  // namespace syndb::arrow
