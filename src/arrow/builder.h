// Small Arrow columns built from C++ vectors, for metadata replies (Flight
// SQL catalogs, SqlInfo) and tests — not for bulk data, which comes from
// DuckDB or the IPC reader already in Arrow form.
//
// Each function returns an immutable ArrayData (arrow/array.h) to pass to
// export_batch(); null entries set the validity bitmap.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arrow/array.h"
#include "arrow/schema.h"

namespace syndb::arrow {

using ColumnPtr = std::shared_ptr<const ArrayData>;

// utf8 ("u") or binary ("z") — the same layout, the field says which: int32 offsets + data.
ColumnPtr string_column(const std::vector<std::optional<std::string>>& values);
// Fixed-width little-endian values of T (int8…int64, uint8…uint64, float, double), no nulls.
template <typename T>
ColumnPtr fixed_column(const std::vector<T>& values) {
  auto a = std::make_shared<ArrayData>();
  a->length = static_cast<int64_t>(values.size());
  a->buffers = {nullptr, values.empty() ? zero_buffer() : make_buffer(*a, values)};
  return a;
}
// Booleans (bit-packed), no nulls.
ColumnPtr bool_column(const std::vector<bool>& values);
// An empty array of `field`'s type (any nesting), for union members and lists that are never used.
ColumnPtr empty_column(const Field& field);

// Field helpers.
Field utf8_field(std::string name, bool nullable = true);
Field binary_field(std::string name, bool nullable = true);
Field int_field(std::string name, int bit_width, bool is_signed, bool nullable = true);

// Exports `schema` and a single batch of `rows` rows made of `columns`.
// Errors: kInvalidArgument when the schema cannot be exported.
Status export_table(const Schema& schema, int64_t rows, std::vector<ColumnPtr> columns, OwnedArrowSchema* schema_out,
                    OwnedArrowArray* batch_out);

}  // namespace syndb::arrow
