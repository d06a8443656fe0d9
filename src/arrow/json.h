// Canonical JSON rendering of Arrow data, for tests, debugging and
// comparing our IPC output with other Arrow implementations
// (tests/interop/arrow_roundtrip.mjs renders an Arrow JS table the same way).
//
// Document: {"fields": [field...], "batches": [rows per batch...],
// "columns": [[values of column 0 across all batches], ...]} where a field is
// {"name", "type" (type_name()), "nullable", "children"?: [field...],
// "dictionary"?: {"index": "int32", "ordered": false}} (for a dictionary
// field "type" is the value type). Values: null; bool; integers up to 32
// bits as numbers, 64-bit ones as decimal strings; floats as the hex string
// of their IEEE bits ("0x3ff0000000000000"), so comparisons are exact;
// decimals as strings with the scale applied ("-12.340"); date32 and time32
// as numbers, date64/time64/timestamp/duration as strings of the raw
// integer; intervals as months, [days, ms] or [months, days, "nanos"];
// binary types as lowercase hex; utf8 types as strings; lists as arrays;
// structs as arrays of child values; maps as arrays of [key, value]; unions
// as [type_id, value]; dictionary-encoded values decoded.
//
// Honors array offsets (slices) at every level. The arrays must be valid
// (e.g. produced by DuckDB or by IpcStreamReader): this is not a validator.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "common/arrow_c_data.h"
#include "common/result.h"

namespace syndb::arrow {

Result<nlohmann::json> to_canonical_json(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches);

}  // namespace syndb::arrow
