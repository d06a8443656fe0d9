#include "arrow/builder.h"

namespace syndb::arrow {

ColumnPtr string_column(const std::vector<std::optional<std::string>>& values) {
  auto a = std::make_shared<ArrayData>();
  a->length = static_cast<int64_t>(values.size());
  std::vector<int32_t> offsets{0};
  std::string data;
  std::vector<uint8_t> validity((values.size() + 7) / 8, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i]) {
      data += *values[i];
      validity[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    } else {
      ++a->null_count;
    }
    offsets.push_back(static_cast<int32_t>(data.size()));
  }
  a->buffers.push_back(a->null_count > 0 ? make_buffer(*a, validity) : nullptr);
  a->buffers.push_back(make_buffer(*a, offsets));
  a->buffers.push_back(data.empty() ? zero_buffer()
                                    : make_buffer(*a, std::span<const uint8_t>(
                                                          reinterpret_cast<const uint8_t*>(data.data()), data.size())));
  return a;
}

ColumnPtr bool_column(const std::vector<bool>& values) {
  auto a = std::make_shared<ArrayData>();
  a->length = static_cast<int64_t>(values.size());
  std::vector<uint8_t> bits((values.size() + 7) / 8, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i]) bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  a->buffers = {nullptr, bits.empty() ? zero_buffer() : make_buffer(*a, bits)};
  return a;
}

ColumnPtr empty_column(const Field& field) {
  auto a = std::make_shared<ArrayData>();
  Layout layout = storage_layout(field);
  int n = c_buffer_count(layout);
  // Validity (where there is one) may be null; every other buffer reads as zeros.
  bool has_validity = layout != Layout::kNull && layout != Layout::kSparseUnion && layout != Layout::kDenseUnion;
  for (int i = 0; i < n; ++i) a->buffers.push_back(i == 0 && has_validity ? nullptr : zero_buffer());
  for (const auto& child : field.children) a->children.push_back(empty_column(child));
  return a;
}

Field utf8_field(std::string name, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.nullable = nullable;
  f.type.id = TypeId::kUtf8;
  return f;
}

Field binary_field(std::string name, bool nullable) {
  Field f = utf8_field(std::move(name), nullable);
  f.type.id = TypeId::kBinary;
  return f;
}

Field int_field(std::string name, int bit_width, bool is_signed, bool nullable) {
  Field f;
  f.name = std::move(name);
  f.nullable = nullable;
  f.type.id = TypeId::kInt;
  f.type.bit_width = bit_width;
  f.type.is_signed = is_signed;
  return f;
}

Status export_table(const Schema& schema, int64_t rows, std::vector<ColumnPtr> columns, OwnedArrowSchema* schema_out,
                    OwnedArrowArray* batch_out) {
  if (columns.size() != schema.fields.size()) {
    return Error(ErrorCode::kInvalidArgument, "export_table: " + std::to_string(columns.size()) + " columns for " +
                                                  std::to_string(schema.fields.size()) + " fields");
  }
  schema_out->reset();
  SYNDB_RETURN_IF_ERROR(export_schema(schema, schema_out->get()));
  batch_out->reset();
  export_batch(rows, std::move(columns), batch_out->get());
  return ok_status();
}

}  // namespace syndb::arrow
