// Test data for the Arrow IPC tests: owned C Data Interface batches of every
// supported type, with nulls, built from plain vectors (arrow::ArrayData +
// export_batch). Used by tests/unit/arrow_ipc_test.cc and
// tests/interop/arrow_ipc_interop_test.cc.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "arrow/array.h"
#include "arrow/schema.h"
#include "common/arrow_c_data.h"

namespace syndb::arrow::testing {

struct Column {
  Field field;
  std::shared_ptr<ArrayData> data;
};

inline Field make_field(const std::string& name, const std::string& format, bool nullable = true) {
  Field f;
  f.name = name;
  f.nullable = nullable;
  auto t = parse_format(format);
  if (!t.ok()) std::abort();
  f.type = *t;
  return f;
}

// Validity bitmap of `valid` (nullptr buffer when all valid); sets null_count.
inline void set_validity(ArrayData& a, const std::vector<bool>& valid) {
  int64_t nulls = 0;
  std::vector<uint8_t> bits((valid.size() + 7) / 8, 0);
  for (size_t i = 0; i < valid.size(); ++i) {
    if (valid[i]) bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    else ++nulls;
  }
  a.length = static_cast<int64_t>(valid.size());
  a.null_count = nulls;
  a.buffers.push_back(nulls > 0 ? make_buffer(a, bits) : nullptr);
}

template <typename T>
Column primitive(const std::string& name, const std::string& format, const std::vector<std::optional<T>>& values) {
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<T> raw;
  for (const auto& v : values) {
    valid.push_back(v.has_value());
    raw.push_back(v.value_or(T{}));
  }
  set_validity(*c.data, valid);
  c.data->buffers.push_back(make_buffer(*c.data, raw));
  return c;
}

// The same from values of another integer type (e.g. long long literals).
template <typename T, typename U>
  requires(!std::is_same_v<T, U>)
Column primitive(const std::string& name, const std::string& format, const std::vector<std::optional<U>>& values) {
  std::vector<std::optional<T>> converted;
  for (const auto& v : values) converted.push_back(v ? std::optional<T>(static_cast<T>(*v)) : std::nullopt);
  return primitive<T>(name, format, converted);
}

inline Column boolean(const std::string& name, const std::vector<std::optional<bool>>& values) {
  Column c{make_field(name, "b"), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<uint8_t> bits((values.size() + 7) / 8, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    valid.push_back(values[i].has_value());
    if (values[i].value_or(false)) bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  set_validity(*c.data, valid);
  c.data->buffers.push_back(make_buffer(*c.data, bits));
  return c;
}

// utf8 ("u"), large_utf8 ("U"), binary ("z"), large_binary ("Z").
inline Column var_binary(const std::string& name, const std::string& format,
                         const std::vector<std::optional<std::string>>& values) {
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::string data;
  std::vector<int64_t> offsets{0};
  for (const auto& v : values) {
    valid.push_back(v.has_value());
    data += v.value_or("");
    offsets.push_back(static_cast<int64_t>(data.size()));
  }
  set_validity(*c.data, valid);
  if (format == "U" || format == "Z") {
    c.data->buffers.push_back(make_buffer(*c.data, offsets));
  } else {
    std::vector<int32_t> o32(offsets.begin(), offsets.end());
    c.data->buffers.push_back(make_buffer(*c.data, o32));
  }
  c.data->buffers.push_back(make_buffer(*c.data, std::vector<uint8_t>(data.begin(), data.end())));
  return c;
}

// utf8_view ("vu") / binary_view ("vz"): long values go to two data buffers alternately.
inline Column view(const std::string& name, const std::string& format,
                   const std::vector<std::optional<std::string>>& values) {
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<uint8_t> views(values.size() * 16, 0);
  std::string data[2];
  int next = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    valid.push_back(values[i].has_value());
    const std::string v = values[i].value_or("");
    uint8_t* view = views.data() + i * 16;
    const int32_t len = static_cast<int32_t>(v.size());
    std::memcpy(view, &len, 4);
    if (len <= 12) {
      std::memcpy(view + 4, v.data(), v.size());
    } else {
      std::memcpy(view + 4, v.data(), 4);
      const int32_t index = next;
      const int32_t offset = static_cast<int32_t>(data[next].size());
      data[next] += v;
      std::memcpy(view + 8, &index, 4);
      std::memcpy(view + 12, &offset, 4);
      next ^= 1;
    }
  }
  set_validity(*c.data, valid);
  c.data->buffers.push_back(make_buffer(*c.data, views));
  std::vector<int64_t> sizes;
  for (auto& d : data) {
    c.data->buffers.push_back(make_buffer(*c.data, std::vector<uint8_t>(d.begin(), d.end())));
    sizes.push_back(static_cast<int64_t>(d.size()));
  }
  c.data->buffers.push_back(make_buffer(*c.data, sizes));
  return c;
}

inline Column fixed_binary(const std::string& name, int width, const std::vector<std::optional<std::string>>& values) {
  Column c{make_field(name, "w:" + std::to_string(width)), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<uint8_t> raw;
  for (const auto& v : values) {
    valid.push_back(v.has_value());
    std::string s = v.value_or(std::string(static_cast<size_t>(width), '\0'));
    s.resize(static_cast<size_t>(width), '\0');
    raw.insert(raw.end(), s.begin(), s.end());
  }
  set_validity(*c.data, valid);
  c.data->buffers.push_back(make_buffer(*c.data, raw));
  return c;
}

// decimal of 128 or 256 bits from __int128 values (sign-extended to 256).
inline Column decimal(const std::string& name, int precision, int scale, int bits,
                      const std::vector<std::optional<__int128>>& values) {
  std::string format = "d:" + std::to_string(precision) + "," + std::to_string(scale);
  if (bits != 128) format += "," + std::to_string(bits);
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<uint8_t> raw;
  for (const auto& v : values) {
    valid.push_back(v.has_value());
    const __int128 x = v.value_or(0);
    uint8_t bytes[32];
    std::memcpy(bytes, &x, 16);
    std::memset(bytes + 16, x < 0 ? 0xFF : 0, 16);
    raw.insert(raw.end(), bytes, bytes + bits / 8);
  }
  set_validity(*c.data, valid);
  c.data->buffers.push_back(make_buffer(*c.data, raw));
  return c;
}

inline Column null_column(const std::string& name, int64_t length) {
  Column c{make_field(name, "n"), std::make_shared<ArrayData>()};
  c.data->length = length;
  c.data->null_count = length;
  return c;
}

// list ("+l") / large list ("+L") / map ("+m") over `child`; lists[i] = {start, size} or null.
inline Column list(const std::string& name, const std::string& format, Column child,
                   const std::vector<std::optional<int64_t>>& sizes) {
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  std::vector<bool> valid;
  std::vector<int64_t> offsets{0};
  for (const auto& s : sizes) {
    valid.push_back(s.has_value());
    offsets.push_back(offsets.back() + s.value_or(0));
  }
  set_validity(*c.data, valid);
  if (format == "+L") {
    c.data->buffers.push_back(make_buffer(*c.data, offsets));
  } else {
    std::vector<int32_t> o32(offsets.begin(), offsets.end());
    c.data->buffers.push_back(make_buffer(*c.data, o32));
  }
  c.field.children.push_back(child.field);
  c.data->children.push_back(child.data);
  return c;
}

inline Column fixed_size_list(const std::string& name, int size, Column child, const std::vector<bool>& valid) {
  Column c{make_field(name, "+w:" + std::to_string(size)), std::make_shared<ArrayData>()};
  set_validity(*c.data, valid);
  c.field.children.push_back(child.field);
  c.data->children.push_back(child.data);
  return c;
}

inline Column struct_of(const std::string& name, std::vector<Column> children, const std::vector<bool>& valid) {
  Column c{make_field(name, "+s"), std::make_shared<ArrayData>()};
  set_validity(*c.data, valid);
  for (auto& ch : children) {
    c.field.children.push_back(ch.field);
    c.data->children.push_back(ch.data);
  }
  return c;
}

// Dictionary-encoded column: `index_format` ("c", "i", "C", ...) indices into `values`.
template <typename I>
Column dictionary(const std::string& name, const std::string& index_format, Column values,
                  const std::vector<std::optional<I>>& indices, bool ordered = false) {
  Column c = primitive<I>(name, index_format, indices);
  Field f = values.field;
  f.name = name;
  f.nullable = true;
  DictionaryEncoding d;
  auto idx = parse_format(index_format);
  d.index_bit_width = idx->bit_width;
  d.index_signed = idx->is_signed;
  d.ordered = ordered;
  f.dictionary = d;
  c.field = f;
  c.data->dictionary = values.data;
  return c;
}

// Unions: type ids per slot; dense offsets per slot (dense only).
inline Column union_of(const std::string& name, bool dense, std::vector<Column> children,
                       const std::vector<int32_t>& type_ids, const std::vector<int8_t>& ids,
                       const std::vector<int32_t>& offsets = {}) {
  std::string format = dense ? "+ud:" : "+us:";
  for (size_t i = 0; i < type_ids.size(); ++i) format += (i ? "," : "") + std::to_string(type_ids[i]);
  Column c{make_field(name, format), std::make_shared<ArrayData>()};
  c.data->length = static_cast<int64_t>(ids.size());
  c.data->null_count = 0;
  c.data->buffers.push_back(make_buffer(*c.data, ids));
  if (dense) c.data->buffers.push_back(make_buffer(*c.data, offsets));
  for (auto& ch : children) {
    c.field.children.push_back(ch.field);
    c.data->children.push_back(ch.data);
  }
  return c;
}

struct Batch {
  Schema schema;
  OwnedArrowSchema c_schema;
  OwnedArrowArray array;
};

inline Batch make_batch(std::vector<Column> columns) {
  Batch b;
  std::vector<std::shared_ptr<const ArrayData>> data;
  int64_t length = columns.empty() ? 0 : columns[0].data->length;
  int64_t next_id = 0;
  std::function<void(Field&)> assign_ids = [&](Field& f) {
    if (f.dictionary) f.dictionary->id = next_id++;
    for (auto& c : f.children) assign_ids(c);
  };
  for (auto& c : columns) {
    assign_ids(c.field);
    b.schema.fields.push_back(c.field);
    data.push_back(c.data);
  }
  (void)export_schema(b.schema, b.c_schema.get());
  export_batch(length, std::move(data), b.array.get());
  return b;
}

// Every supported type, `rows` rows, values derived from `seed` + row number,
// with nulls in every nullable column (row % 3 == 1) when rows > 1.
inline std::vector<Column> all_types_columns(int64_t rows, int seed = 0) {
  auto null_at = [](int64_t r) { return r % 3 == 1; };
  auto gen = [&](auto fn) {
    using T = decltype(fn(int64_t{0}));
    std::vector<std::optional<T>> v;
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) v.push_back(std::nullopt);
      else v.push_back(fn(r + seed));
    }
    return v;
  };
  const std::string words[] = {"", "a", "héllo wörld", "∑ unicode ✓ 🎉", "a string longer than twelve bytes", "x\ny\"z\\",
                               "twelve chars"};
  auto word = [&](int64_t r) { return words[static_cast<size_t>(r) % 7]; };
  auto bytes = [&](int64_t r) {
    std::string s;
    for (int64_t k = 0; k < r % 19; ++k) s += static_cast<char>((r * 31 + k * 7) & 0xFF);
    return s;
  };
  std::vector<Column> cols;
  cols.push_back(null_column("null", rows));
  cols.push_back(boolean("bool", gen([](int64_t r) { return r % 2 == 0; })));
  cols.push_back(primitive<int8_t>("int8", "c", gen([](int64_t r) { return static_cast<int8_t>(r % 5 == 0 ? -128 : r * 37 - 100); })));
  cols.push_back(primitive<int16_t>("int16", "s", gen([](int64_t r) { return static_cast<int16_t>(r % 5 == 0 ? -32768 : r * 1234 - 30000); })));
  cols.push_back(primitive<int32_t>("int32", "i", gen([](int64_t r) { return static_cast<int32_t>(r % 5 == 0 ? INT32_MIN : r * 123456789 - 2000000000); })));
  cols.push_back(primitive<int64_t>("int64", "l", gen([](int64_t r) { return r % 5 == 0 ? INT64_MIN : static_cast<int64_t>(static_cast<uint64_t>(r) * 1234567890123456789ull); })));
  cols.push_back(primitive<uint8_t>("uint8", "C", gen([](int64_t r) { return static_cast<uint8_t>(r % 5 == 0 ? 255 : r * 37); })));
  cols.push_back(primitive<uint16_t>("uint16", "S", gen([](int64_t r) { return static_cast<uint16_t>(r % 5 == 0 ? 65535 : r * 1234); })));
  cols.push_back(primitive<uint32_t>("uint32", "I", gen([](int64_t r) { return static_cast<uint32_t>(r % 5 == 0 ? UINT32_MAX : r * 123456789u); })));
  cols.push_back(primitive<uint64_t>("uint64", "L", gen([](int64_t r) { return r % 5 == 0 ? UINT64_MAX : static_cast<uint64_t>(r) * 12345678901234567ull; })));
  cols.push_back(primitive<uint16_t>("float16", "e", gen([](int64_t r) { return static_cast<uint16_t>(0x3c00 + r * 0x111); })));
  cols.push_back(primitive<float>("float32", "f", gen([](int64_t r) { return r % 5 == 2 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(r) * 1.5f - 3.25f; })));
  cols.push_back(primitive<double>("float64", "g", gen([](int64_t r) { return r % 5 == 3 ? -std::numeric_limits<double>::infinity() : static_cast<double>(r) * -2.0625e10 + 0.1; })));
  cols.push_back(var_binary("utf8", "u", gen(word)));
  cols.push_back(var_binary("large_utf8", "U", gen([&](int64_t r) { return word(r + 3); })));
  cols.push_back(var_binary("binary", "z", gen(bytes)));
  cols.push_back(var_binary("large_binary", "Z", gen([&](int64_t r) { return bytes(r + 5); })));
  cols.push_back(view("utf8_view", "vu", gen([&](int64_t r) { return word(r + 1); })));
  cols.push_back(view("binary_view", "vz", gen([&](int64_t r) { return bytes(r + 11); })));
  cols.push_back(fixed_binary("fixed_size_binary", 4, gen([&](int64_t r) { return bytes(r * 4 + 4).substr(0, 4); })));
  cols.push_back(primitive<int32_t>("date32", "tdD", gen([](int64_t r) { return static_cast<int32_t>(r * 4000 - 9000); })));
  cols.push_back(primitive<int64_t>("date64", "tdm", gen([](int64_t r) { return (r * 4000 - 9000) * int64_t{86400000}; })));
  cols.push_back(primitive<int32_t>("time32_s", "tts", gen([](int64_t r) { return static_cast<int32_t>(r * 3601 % 86400); })));
  cols.push_back(primitive<int32_t>("time32_ms", "ttm", gen([](int64_t r) { return static_cast<int32_t>(r * 3601001 % 86400000); })));
  cols.push_back(primitive<int64_t>("time64_us", "ttu", gen([](int64_t r) { return r * 3601000001LL % 86400000000LL; })));
  cols.push_back(primitive<int64_t>("time64_ns", "ttn", gen([](int64_t r) { return r * 3601000000001LL % 86400000000000LL; })));
  cols.push_back(primitive<int64_t>("timestamp_s", "tss:", gen([](int64_t r) { return r * 1000000007LL - 3000000000LL; })));
  cols.push_back(primitive<int64_t>("timestamp_ms", "tsm:", gen([](int64_t r) { return r * 1000000000007LL; })));
  cols.push_back(primitive<int64_t>("timestamp_us", "tsu:", gen([](int64_t r) { return r * 1700000000000001LL - 5; })));
  cols.push_back(primitive<int64_t>("timestamp_ns_tz", "tsn:Europe/Amsterdam", gen([](int64_t r) { return static_cast<int64_t>(static_cast<uint64_t>(r) * 1700000000000000001ull) / 7; })));
  cols.push_back(primitive<int64_t>("timestamp_us_utc", "tsu:UTC", gen([](int64_t r) { return r * 1700000000000001LL; })));
  cols.push_back(primitive<int64_t>("duration_ms", "tDm", gen([](int64_t r) { return r * 86400001LL - 7; })));
  cols.push_back(primitive<int32_t>("interval_ym", "tiM", gen([](int64_t r) { return static_cast<int32_t>(r * 13 - 20); })));
  {
    std::vector<std::optional<int64_t>> dt;  // (days, ms) packed as two int32
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) { dt.push_back(std::nullopt); continue; }
      const int32_t parts[2] = {static_cast<int32_t>(r * 3 - 4), static_cast<int32_t>(r * 1000 + 1)};
      int64_t v;
      std::memcpy(&v, parts, 8);
      dt.push_back(v);
    }
    cols.push_back(primitive<int64_t>("interval_dt", "tiD", dt));
  }
  {
    std::vector<std::optional<__int128>> mdn;  // months, days (int32), nanos (int64)
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) { mdn.push_back(std::nullopt); continue; }
      uint8_t raw[16];
      const int32_t m = static_cast<int32_t>(r - 2), d = static_cast<int32_t>(r * 10);
      const int64_t ns = r * 1000000000123LL - 1;
      std::memcpy(raw, &m, 4);
      std::memcpy(raw + 4, &d, 4);
      std::memcpy(raw + 8, &ns, 8);
      __int128 v;
      std::memcpy(&v, raw, 16);
      mdn.push_back(v);
    }
    cols.push_back(primitive<__int128>("interval_mdn", "tin", mdn));
  }
  auto i128 = [](int64_t hi, uint64_t lo) { return (static_cast<__int128>(hi) << 64) | lo; };
  cols.push_back(decimal("decimal_18_3", 18, 3, 128, gen([](int64_t r) { return static_cast<__int128>(r * 123456789012345LL - 999999999999999999LL); })));
  cols.push_back(decimal("decimal_38_10", 38, 10, 128, gen([&](int64_t r) { return r % 2 ? -i128(r * 12345, 987654321ull) : i128(r, 5); })));
  cols.push_back(decimal("decimal_76_20", 76, 20, 256, gen([&](int64_t r) { return i128(-r, 123); })));
  {  // list<int32>: sizes 0..3, child values with nulls
    std::vector<std::optional<int64_t>> sizes;
    int64_t total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) { sizes.push_back(std::nullopt); continue; }
      sizes.push_back((r + seed) % 4);
      total += (r + seed) % 4;
    }
    std::vector<std::optional<int32_t>> items;
    for (int64_t k = 0; k < total; ++k) items.push_back(k % 4 == 3 ? std::nullopt : std::optional<int32_t>(static_cast<int32_t>(k * 7 - 3)));
    cols.push_back(list("list_int32", "+l", primitive<int32_t>("item", "i", items), sizes));
  }
  {  // large_list<utf8>
    std::vector<std::optional<int64_t>> sizes;
    int64_t total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) { sizes.push_back(std::nullopt); continue; }
      sizes.push_back((r + seed) % 3);
      total += (r + seed) % 3;
    }
    std::vector<std::optional<std::string>> items;
    for (int64_t k = 0; k < total; ++k) items.push_back(k % 5 == 4 ? std::nullopt : std::optional<std::string>(word(k)));
    cols.push_back(list("large_list_utf8", "+L", var_binary("item", "u", items), sizes));
  }
  {  // fixed_size_list(2)<int16>
    std::vector<bool> valid;
    std::vector<std::optional<int16_t>> items;
    for (int64_t r = 0; r < rows; ++r) {
      valid.push_back(!null_at(r));
      items.push_back(static_cast<int16_t>(r * 3 + seed));
      items.push_back(r % 4 == 0 ? std::nullopt : std::optional<int16_t>(static_cast<int16_t>(-r)));
    }
    cols.push_back(fixed_size_list("fixed_size_list", 2, primitive<int16_t>("item", "s", items), valid));
  }
  {  // struct<a: int32, b: utf8 (not nullable), c: struct<d: float64>>
    std::vector<bool> valid;
    std::vector<std::optional<int32_t>> a;
    std::vector<std::optional<std::string>> bs;
    std::vector<std::optional<double>> d;
    std::vector<bool> inner;
    for (int64_t r = 0; r < rows; ++r) {
      valid.push_back(!null_at(r));
      a.push_back(r % 4 == 2 ? std::nullopt : std::optional<int32_t>(static_cast<int32_t>(r + seed)));
      bs.push_back(word(r + 2));
      d.push_back(static_cast<double>(r) / 8);
      inner.push_back(r % 5 != 4);
    }
    Column b = var_binary("b", "u", bs);
    b.field.nullable = false;
    cols.push_back(struct_of("struct", {primitive<int32_t>("a", "i", a), b,
                                         struct_of("c", {primitive<double>("d", "g", d)}, inner)},
                             valid));
  }
  {  // map<utf8, int64>
    std::vector<std::optional<int64_t>> sizes;
    int64_t total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (null_at(r)) { sizes.push_back(std::nullopt); continue; }
      sizes.push_back((r + seed) % 3);
      total += (r + seed) % 3;
    }
    std::vector<std::optional<std::string>> keys;
    std::vector<std::optional<int64_t>> values;
    for (int64_t k = 0; k < total; ++k) {
      keys.push_back("k" + std::to_string(k));
      values.push_back(k % 3 == 1 ? std::nullopt : std::optional<int64_t>(k * 1000000007LL));
    }
    Column key = var_binary("key", "u", keys);
    key.field.nullable = false;
    Column entries = struct_of("entries", {key, primitive<int64_t>("value", "l", values)}, std::vector<bool>(static_cast<size_t>(total), true));
    entries.field.nullable = false;
    cols.push_back(list("map", "+m", entries, sizes));
  }
  {  // dictionary<int32 -> utf8> and dictionary<uint8 -> utf8> (DuckDB's ENUM shape)
    Column values = var_binary("values", "u", {"red", "green", "blue", std::nullopt, "ultraviolet and beyond"});
    cols.push_back(dictionary<int32_t>("dict_int32", "i", values, gen([](int64_t r) { return static_cast<int32_t>(r % 5); })));
    Column values2 = var_binary("values", "u", {"small", "medium", "large"});
    cols.push_back(dictionary<uint8_t>("dict_uint8", "C", values2, gen([](int64_t r) { return static_cast<uint8_t>(r % 3); }), true));
  }
  {  // sparse union<i: int32, s: utf8> with type ids 5, 7
    std::vector<int8_t> ids;
    std::vector<std::optional<int32_t>> is;
    std::vector<std::optional<std::string>> ss;
    for (int64_t r = 0; r < rows; ++r) {
      ids.push_back(r % 2 ? 7 : 5);
      is.push_back(r % 4 == 0 ? std::nullopt : std::optional<int32_t>(static_cast<int32_t>(r * 11)));
      ss.push_back(word(r));
    }
    cols.push_back(union_of("sparse_union", false, {primitive<int32_t>("i", "i", is), var_binary("s", "u", ss)}, {5, 7}, ids));
  }
  {  // dense union<l: int64, b: bool>
    std::vector<int8_t> ids;
    std::vector<int32_t> offsets;
    std::vector<std::optional<int64_t>> ls;
    std::vector<std::optional<bool>> bs;
    for (int64_t r = 0; r < rows; ++r) {
      if (r % 3 == 2) {
        ids.push_back(1);
        offsets.push_back(static_cast<int32_t>(bs.size()));
        bs.push_back(r % 2 ? std::optional<bool>(true) : std::nullopt);
      } else {
        ids.push_back(0);
        offsets.push_back(static_cast<int32_t>(ls.size()));
        ls.push_back(r * -99);
      }
    }
    cols.push_back(union_of("dense_union", true, {primitive<int64_t>("l", "l", ls), boolean("b", bs)}, {0, 1}, ids, offsets));
  }
  return cols;
}

}  // namespace syndb::arrow::testing
