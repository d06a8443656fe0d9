#include "arrow/ipc_metadata.h"

#include <string>
#include <vector>

namespace syndb::arrow::ipc {

namespace {

Error bad(const std::string& what) { return Error(ErrorCode::kProtocol, "arrow ipc: " + what); }

fb::TimeUnit to_fb(TimeUnit u) { return static_cast<fb::TimeUnit>(static_cast<int>(u)); }

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::KeyValue>>> build_metadata(
    flatbuffers::FlatBufferBuilder& fbb, const KeyValues& kv) {
  if (kv.empty()) return 0;
  std::vector<flatbuffers::Offset<fb::KeyValue>> items;
  for (const auto& [k, v] : kv) {
    auto ko = fbb.CreateString(k);
    auto vo = fbb.CreateString(v);
    items.push_back(fb::CreateKeyValue(fbb, ko, vo));
  }
  return fbb.CreateVector(items);
}

std::pair<fb::Type, flatbuffers::Offset<void>> build_type(flatbuffers::FlatBufferBuilder& fbb, const DataType& t) {
  switch (t.id) {
    case TypeId::kNull: return {fb::Type_Null, fb::CreateNull(fbb).Union()};
    case TypeId::kBool: return {fb::Type_Bool, fb::CreateBool(fbb).Union()};
    case TypeId::kInt: return {fb::Type_Int, fb::CreateInt(fbb, t.bit_width, t.is_signed).Union()};
    case TypeId::kFloatingPoint:
      return {fb::Type_FloatingPoint,
              fb::CreateFloatingPoint(fbb, static_cast<fb::Precision>(static_cast<int>(t.precision))).Union()};
    case TypeId::kDecimal:
      return {fb::Type_Decimal, fb::CreateDecimal(fbb, t.decimal_precision, t.decimal_scale, t.bit_width).Union()};
    case TypeId::kDate:
      return {fb::Type_Date,
              fb::CreateDate(fbb, t.date_unit == DateUnit::kDay ? fb::DateUnit_DAY : fb::DateUnit_MILLISECOND).Union()};
    case TypeId::kTime: return {fb::Type_Time, fb::CreateTime(fbb, to_fb(t.time_unit), t.bit_width).Union()};
    case TypeId::kTimestamp: {
      flatbuffers::Offset<flatbuffers::String> tz = t.timezone.empty() ? 0 : fbb.CreateString(t.timezone);
      return {fb::Type_Timestamp, fb::CreateTimestamp(fbb, to_fb(t.time_unit), tz).Union()};
    }
    case TypeId::kDuration: return {fb::Type_Duration, fb::CreateDuration(fbb, to_fb(t.time_unit)).Union()};
    case TypeId::kInterval:
      return {fb::Type_Interval,
              fb::CreateInterval(fbb, static_cast<fb::IntervalUnit>(static_cast<int>(t.interval_unit))).Union()};
    case TypeId::kFixedSizeBinary:
      return {fb::Type_FixedSizeBinary, fb::CreateFixedSizeBinary(fbb, t.byte_width).Union()};
    case TypeId::kBinary: return {fb::Type_Binary, fb::CreateBinary(fbb).Union()};
    case TypeId::kLargeBinary: return {fb::Type_LargeBinary, fb::CreateLargeBinary(fbb).Union()};
    case TypeId::kUtf8: return {fb::Type_Utf8, fb::CreateUtf8(fbb).Union()};
    case TypeId::kLargeUtf8: return {fb::Type_LargeUtf8, fb::CreateLargeUtf8(fbb).Union()};
    case TypeId::kBinaryView: return {fb::Type_BinaryView, fb::CreateBinaryView(fbb).Union()};
    case TypeId::kUtf8View: return {fb::Type_Utf8View, fb::CreateUtf8View(fbb).Union()};
    case TypeId::kList: return {fb::Type_List, fb::CreateList(fbb).Union()};
    case TypeId::kLargeList: return {fb::Type_LargeList, fb::CreateLargeList(fbb).Union()};
    case TypeId::kFixedSizeList:
      return {fb::Type_FixedSizeList, fb::CreateFixedSizeList(fbb, t.list_size).Union()};
    case TypeId::kStruct: return {fb::Type_Struct_, fb::CreateStruct_(fbb).Union()};
    case TypeId::kMap: return {fb::Type_Map, fb::CreateMap(fbb, t.keys_sorted).Union()};
    case TypeId::kSparseUnion:
    case TypeId::kDenseUnion: {
      auto ids = fbb.CreateVector(t.type_ids);
      return {fb::Type_Union,
              fb::CreateUnion(fbb, t.id == TypeId::kSparseUnion ? fb::UnionMode_Sparse : fb::UnionMode_Dense, ids)
                  .Union()};
    }
  }
  return {fb::Type_NONE, 0};
}

flatbuffers::Offset<fb::Field> build_field(flatbuffers::FlatBufferBuilder& fbb, const Field& f) {
  std::vector<flatbuffers::Offset<fb::Field>> children;
  children.reserve(f.children.size());
  for (const auto& c : f.children) children.push_back(build_field(fbb, c));
  auto children_vec = fbb.CreateVector(children);
  auto name = fbb.CreateString(f.name);
  auto [type_type, type] = build_type(fbb, f.type);
  flatbuffers::Offset<fb::DictionaryEncoding> dict = 0;
  if (f.dictionary) {
    auto index = fb::CreateInt(fbb, f.dictionary->index_bit_width, f.dictionary->index_signed);
    dict = fb::CreateDictionaryEncoding(fbb, f.dictionary->id, index, f.dictionary->ordered, fb::DictionaryKind_DenseArray);
  }
  auto metadata = build_metadata(fbb, f.metadata);
  return fb::CreateField(fbb, name, f.nullable, type_type, type, dict, children_vec, metadata);
}

Result<TimeUnit> parse_unit(fb::TimeUnit u, const std::string& where) {
  if (u < fb::TimeUnit_MIN || u > fb::TimeUnit_MAX) return bad(where + ": bad time unit " + std::to_string(u));
  return static_cast<TimeUnit>(static_cast<int>(u));
}

KeyValues parse_metadata(const flatbuffers::Vector<flatbuffers::Offset<fb::KeyValue>>* kv) {
  KeyValues out;
  if (kv == nullptr) return out;
  for (const fb::KeyValue* item : *kv) {
    if (item == nullptr) continue;
    out.emplace_back(item->key() ? item->key()->str() : "", item->value() ? item->value()->str() : "");
  }
  return out;
}

Result<Field> parse_field(const fb::Field* f, int depth, const SchemaLimits& limits, int64_t* count) {
  if (f == nullptr) return bad("null field");
  Field out;
  out.name = f->name() ? f->name()->str() : "";
  const std::string where = "field '" + out.name + "'";
  if (depth > limits.max_depth) {
    return Error(ErrorCode::kLimitExceeded,
                 "arrow ipc: " + where + " nested deeper than " + std::to_string(limits.max_depth));
  }
  if (++*count > limits.max_fields) {
    return Error(ErrorCode::kLimitExceeded,
                 "arrow ipc: schema has more than " + std::to_string(limits.max_fields) + " fields");
  }
  out.nullable = f->nullable();
  DataType& t = out.type;
  auto missing = [&]() { return bad(where + ": type parameters missing"); };
  switch (f->type_type()) {
    case fb::Type_Null: t.id = TypeId::kNull; break;
    case fb::Type_Bool: t.id = TypeId::kBool; break;
    case fb::Type_Int: {
      const fb::Int* p = f->type_as_Int();
      if (!p) return missing();
      t.id = TypeId::kInt;
      t.bit_width = p->bitWidth();
      t.is_signed = p->is_signed();
      break;
    }
    case fb::Type_FloatingPoint: {
      const fb::FloatingPoint* p = f->type_as_FloatingPoint();
      if (!p) return missing();
      if (p->precision() < fb::Precision_MIN || p->precision() > fb::Precision_MAX) {
        return bad(where + ": bad floating point precision");
      }
      t.id = TypeId::kFloatingPoint;
      t.precision = static_cast<FloatPrecision>(static_cast<int>(p->precision()));
      break;
    }
    case fb::Type_Decimal: {
      const fb::Decimal* p = f->type_as_Decimal();
      if (!p) return missing();
      t.id = TypeId::kDecimal;
      t.decimal_precision = p->precision();
      t.decimal_scale = p->scale();
      t.bit_width = p->bitWidth();
      break;
    }
    case fb::Type_Date: {
      const fb::Date* p = f->type_as_Date();
      if (!p) return missing();
      if (p->unit() != fb::DateUnit_DAY && p->unit() != fb::DateUnit_MILLISECOND) return bad(where + ": bad date unit");
      t.id = TypeId::kDate;
      t.date_unit = p->unit() == fb::DateUnit_DAY ? DateUnit::kDay : DateUnit::kMilli;
      break;
    }
    case fb::Type_Time: {
      const fb::Time* p = f->type_as_Time();
      if (!p) return missing();
      t.id = TypeId::kTime;
      SYNDB_ASSIGN_OR_RETURN(t.time_unit, parse_unit(p->unit(), where));
      t.bit_width = p->bitWidth();
      break;
    }
    case fb::Type_Timestamp: {
      const fb::Timestamp* p = f->type_as_Timestamp();
      if (!p) return missing();
      t.id = TypeId::kTimestamp;
      SYNDB_ASSIGN_OR_RETURN(t.time_unit, parse_unit(p->unit(), where));
      t.timezone = p->timezone() ? p->timezone()->str() : "";
      break;
    }
    case fb::Type_Duration: {
      const fb::Duration* p = f->type_as_Duration();
      if (!p) return missing();
      t.id = TypeId::kDuration;
      SYNDB_ASSIGN_OR_RETURN(t.time_unit, parse_unit(p->unit(), where));
      break;
    }
    case fb::Type_Interval: {
      const fb::Interval* p = f->type_as_Interval();
      if (!p) return missing();
      if (p->unit() < fb::IntervalUnit_MIN || p->unit() > fb::IntervalUnit_MAX) return bad(where + ": bad interval unit");
      t.id = TypeId::kInterval;
      t.interval_unit = static_cast<IntervalUnit>(static_cast<int>(p->unit()));
      break;
    }
    case fb::Type_FixedSizeBinary: {
      const fb::FixedSizeBinary* p = f->type_as_FixedSizeBinary();
      if (!p) return missing();
      t.id = TypeId::kFixedSizeBinary;
      t.byte_width = p->byteWidth();
      break;
    }
    case fb::Type_Binary: t.id = TypeId::kBinary; break;
    case fb::Type_LargeBinary: t.id = TypeId::kLargeBinary; break;
    case fb::Type_Utf8: t.id = TypeId::kUtf8; break;
    case fb::Type_LargeUtf8: t.id = TypeId::kLargeUtf8; break;
    case fb::Type_BinaryView: t.id = TypeId::kBinaryView; break;
    case fb::Type_Utf8View: t.id = TypeId::kUtf8View; break;
    case fb::Type_List: t.id = TypeId::kList; break;
    case fb::Type_LargeList: t.id = TypeId::kLargeList; break;
    case fb::Type_FixedSizeList: {
      const fb::FixedSizeList* p = f->type_as_FixedSizeList();
      if (!p) return missing();
      t.id = TypeId::kFixedSizeList;
      t.list_size = p->listSize();
      break;
    }
    case fb::Type_Struct_: t.id = TypeId::kStruct; break;
    case fb::Type_Map: {
      const fb::Map* p = f->type_as_Map();
      t.id = TypeId::kMap;
      t.keys_sorted = p != nullptr && p->keysSorted();
      break;
    }
    case fb::Type_Union: {
      const fb::Union* p = f->type_as_Union();
      if (!p) return missing();
      if (p->mode() != fb::UnionMode_Sparse && p->mode() != fb::UnionMode_Dense) return bad(where + ": bad union mode");
      t.id = p->mode() == fb::UnionMode_Sparse ? TypeId::kSparseUnion : TypeId::kDenseUnion;
      const size_t n = f->children() ? f->children()->size() : 0;
      if (p->typeIds()) {
        for (int32_t id : *p->typeIds()) t.type_ids.push_back(id);
      } else {
        for (size_t i = 0; i < n; ++i) t.type_ids.push_back(static_cast<int32_t>(i));
      }
      break;
    }
    case fb::Type_RunEndEncoded:
      return Error(ErrorCode::kUnsupported, "arrow ipc: " + where + ": run-end encoded arrays are not supported");
    case fb::Type_ListView:
    case fb::Type_LargeListView:
      return Error(ErrorCode::kUnsupported, "arrow ipc: " + where + ": list views are not supported");
    default:
      return bad(where + ": unknown or missing type (code " + std::to_string(static_cast<int>(f->type_type())) + ")");
  }
  if (const fb::DictionaryEncoding* d = f->dictionary()) {
    DictionaryEncoding enc;
    enc.id = d->id();
    if (const fb::Int* idx = d->indexType()) {
      enc.index_bit_width = idx->bitWidth();
      enc.index_signed = idx->is_signed();
    }
    enc.ordered = d->isOrdered();
    if (d->dictionaryKind() != fb::DictionaryKind_DenseArray) return bad(where + ": unknown dictionary kind");
    out.dictionary = enc;
  }
  if (const auto* children = f->children()) {
    for (const fb::Field* c : *children) {
      SYNDB_ASSIGN_OR_RETURN(Field child, parse_field(c, depth + 1, limits, count));
      out.children.push_back(std::move(child));
    }
  }
  out.metadata = parse_metadata(f->custom_metadata());
  return out;
}

}  // namespace

flatbuffers::Offset<fb::Schema> build_schema(flatbuffers::FlatBufferBuilder& fbb, const Schema& schema) {
  std::vector<flatbuffers::Offset<fb::Field>> fields;
  fields.reserve(schema.fields.size());
  for (const auto& f : schema.fields) fields.push_back(build_field(fbb, f));
  auto fields_vec = fbb.CreateVector(fields);
  auto metadata = build_metadata(fbb, schema.metadata);
  return fb::CreateSchema(fbb, fb::Endianness_Little, fields_vec, metadata);
}

Result<Schema> parse_schema(const fb::Schema* s, const SchemaLimits& limits) {
  if (s == nullptr) return bad("missing schema");
  if (s->endianness() != fb::Endianness_Little) {
    return Error(ErrorCode::kUnsupported, "arrow ipc: big-endian streams are not supported");
  }
  Schema out;
  int64_t count = 0;
  if (const auto* fields = s->fields()) {
    for (const fb::Field* f : *fields) {
      SYNDB_ASSIGN_OR_RETURN(Field field, parse_field(f, 0, limits, &count));
      out.fields.push_back(std::move(field));
    }
  }
  out.metadata = parse_metadata(s->custom_metadata());
  Status valid = validate_schema(out, limits);
  if (!valid.ok()) return Error(valid.error().code() == ErrorCode::kInvalidArgument ? ErrorCode::kProtocol
                                                                                    : valid.error().code(),
                                valid.error().message());
  return out;
}

}  // namespace syndb::arrow::ipc
