// Arrow IPC messages as Arrow Flight FlightData (apache/arrow
// docs/source/format/Flight.rst, "Protocol Buffer Definitions"): one IPC
// message per FlightData, data_header = the Message flatbuffer without
// framing, data_body = its body. A DoGet stream is the Schema message, then
// DictionaryBatch/RecordBatch messages; no end-of-stream marker.
//
// Schema bytes (FlightInfo.schema, SchemaResult.schema, prepared statement
// dataset_schema, GetTables table_schema) are the full encapsulated IPC
// Schema message: FFFFFFFF, int32 length, flatbuffer, padding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "arrow/ipc_writer.h"
#include "common/arrow_c_data.h"
#include "common/result.h"
#include "flight/flight.pb.h"

namespace syndb::flight {

namespace fpb = ::arrow::flight::protocol;

// Copies one encoded IPC message into a FlightData (one copy of the body).
void to_flight_data(const arrow::EncodedMessage& message, fpb::FlightData* out);

// The encapsulated Schema message for `schema` (a struct of the columns).
// Errors: kUnsupported for a type the IPC writer does not support.
Result<std::string> schema_bytes(const ArrowSchema& schema);

// Parses encapsulated Schema message bytes (with or without the continuation
// marker) into an owned ArrowSchema. Errors: kProtocol for malformed bytes.
Result<OwnedArrowSchema> parse_schema_bytes(std::string_view bytes);

}  // namespace syndb::flight
