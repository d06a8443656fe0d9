// Arrow logical types and schemas as plain C++ values, and their conversion
// to and from the Arrow C Data Interface (ArrowSchema, format strings as in
// apache/arrow docs/source/format/CDataInterface.rst).
//
// This model is what the IPC writer and reader work on: the writer imports
// the producer's ArrowSchema (DuckDB's result schema) into it and encodes it
// as a Schema flatbuffer; the reader decodes a Schema flatbuffer into it and
// exports it as an owned ArrowSchema. Dictionary-encoded fields carry the
// VALUE type in `type` / `children` and the index type in `dictionary`, as
// the IPC format does (the C interface does it the other way round).
//
// Supported types (C format string -> TypeId): n b c C s S i I l L e f g
// z Z u U vz vu w:N d:P,S[,32|64|128|256] tdD tdm tts ttm ttu ttn tss:TZ ..
// tsn:TZ tDs..tDn tiM tiD tin +l +L +w:N +s +m +us:ids +ud:ids, and
// dictionary encoding with any integer index type. Not supported (errors
// with kUnsupported): list views (+vl, +vL), run-end encoded (+r),
// dictionaries nested inside dictionary values.
//
// Thread-safety: plain values; the functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arrow_c_data.h"
#include "common/result.h"

namespace syndb::arrow {

enum class TypeId : uint8_t {
  kNull,
  kBool,
  kInt,
  kFloatingPoint,
  kDecimal,
  kDate,
  kTime,
  kTimestamp,
  kDuration,
  kInterval,
  kFixedSizeBinary,
  kBinary,
  kLargeBinary,
  kUtf8,
  kLargeUtf8,
  kBinaryView,
  kUtf8View,
  kList,
  kLargeList,
  kFixedSizeList,
  kStruct,
  kMap,
  kSparseUnion,
  kDenseUnion,
};

enum class TimeUnit : uint8_t { kSecond, kMilli, kMicro, kNano };
enum class DateUnit : uint8_t { kDay, kMilli };
enum class IntervalUnit : uint8_t { kYearMonth, kDayTime, kMonthDayNano };
enum class FloatPrecision : uint8_t { kHalf, kSingle, kDouble };

// A type with its parameters; only the members that belong to `id` are meaningful.
struct DataType {
  TypeId id = TypeId::kNull;
  int bit_width = 0;        // kInt: 8/16/32/64; kDecimal: 32/64/128/256; kTime: 32/64
  bool is_signed = false;   // kInt
  FloatPrecision precision = FloatPrecision::kDouble;
  int32_t decimal_precision = 0;
  int32_t decimal_scale = 0;
  DateUnit date_unit = DateUnit::kDay;
  TimeUnit time_unit = TimeUnit::kSecond;  // kTime, kTimestamp, kDuration
  IntervalUnit interval_unit = IntervalUnit::kMonthDayNano;
  std::string timezone;      // kTimestamp; empty = naive
  int32_t byte_width = 0;    // kFixedSizeBinary
  int32_t list_size = 0;     // kFixedSizeList
  bool keys_sorted = false;  // kMap
  std::vector<int32_t> type_ids;  // unions: the type id of each child

  bool operator==(const DataType&) const = default;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct DictionaryEncoding {
  int64_t id = 0;
  int index_bit_width = 32;
  bool index_signed = true;
  bool ordered = false;
  bool operator==(const DictionaryEncoding&) const = default;
};

struct Field {
  std::string name;
  bool nullable = true;
  DataType type;                 // the value type when dictionary-encoded
  std::vector<Field> children;   // children of `type`
  KeyValues metadata;
  std::optional<DictionaryEncoding> dictionary;
  bool operator==(const Field&) const = default;
};

struct Schema {
  std::vector<Field> fields;
  KeyValues metadata;
  bool operator==(const Schema&) const = default;
};

// How an array of a type is laid out in memory (buffers and children).
enum class Layout : uint8_t {
  kNull,           // no buffers
  kBool,           // validity, bits
  kFixed,          // validity, values (fixed_width_bytes each)
  kBinary32,       // validity, int32 offsets, data
  kBinary64,       // validity, int64 offsets, data
  kView,           // validity, 16-byte views, variadic data buffers (+ C sizes buffer)
  kList32,         // validity, int32 offsets; one child (also Map)
  kList64,         // validity, int64 offsets; one child
  kFixedSizeList,  // validity; one child
  kStruct,         // validity; children
  kSparseUnion,    // int8 type ids; children
  kDenseUnion,     // int8 type ids, int32 offsets; children
};

Layout layout_of(const DataType& type);
// Bytes per value for Layout::kFixed types (and dictionary indices); 0 otherwise.
int64_t fixed_width_bytes(const DataType& type);
// The layout of the array as stored: the index layout when dictionary-encoded.
Layout storage_layout(const Field& field);
int64_t storage_width(const Field& field);
// Number of buffers the C Data Interface uses for a non-view layout
// (views: 2 + variadic count + 1).
int c_buffer_count(Layout layout);

// The integer type of dictionary indices.
DataType index_type(const DictionaryEncoding& dict);

// C Data Interface format string of a type ("i", "tsu:UTC", "+l", ...).
std::string format_string(const DataType& type);
// Parses a C format string; kUnsupported for unknown or unsupported formats.
Result<DataType> parse_format(std::string_view format);

// A short human-readable type name, used in error messages and canonical JSON
// ("int32", "timestamp[us, UTC]", "decimal128(18,3)", "list", ...).
std::string type_name(const DataType& type);

// Structural checks shared by every importer (child counts, parameters, depth).
struct SchemaLimits {
  int max_depth = 64;          // nesting levels below a top-level field
  int64_t max_fields = 100000; // fields in the whole schema, nested ones included
};
Status validate_field(const Field& field, int depth, const SchemaLimits& limits, int64_t* field_count);
Status validate_schema(const Schema& schema, const SchemaLimits& limits = {});

// Imports a C schema whose root is a struct ("+s"), as DuckDB's result
// schemas are: its children become the schema's fields, its metadata the
// schema's metadata. Dictionary ids are assigned in pre-order from 0.
Result<Schema> import_schema(const ArrowSchema& root, const SchemaLimits& limits = {});
Result<Field> import_field(const ArrowSchema& schema, const SchemaLimits& limits = {});

// Exports as a new owned C schema (root "+s"); *out must be released by the caller.
Status export_schema(const Schema& schema, ArrowSchema* out);
Status export_field(const Field& field, ArrowSchema* out);

// C Data Interface metadata encoding (int32 count, then length-prefixed
// key/value pairs, native endian). Empty -> empty string (exported as NULL).
std::string encode_c_metadata(const KeyValues& kv);
KeyValues decode_c_metadata(const char* metadata);

}  // namespace syndb::arrow
