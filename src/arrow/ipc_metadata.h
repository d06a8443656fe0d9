// Internal: the Schema model <-> Schema flatbuffer (format/Schema.fbs),
// shared by the IPC writer and reader. Includes the flatc-generated headers.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include "Message_generated.h"
#include "Schema_generated.h"
#include "arrow/schema.h"
#include "common/result.h"

namespace syndb::arrow::ipc {

namespace fb = org::apache::arrow::flatbuf;

inline constexpr uint32_t kContinuation = 0xFFFFFFFFu;

flatbuffers::Offset<fb::Schema> build_schema(flatbuffers::FlatBufferBuilder& fbb, const Schema& schema);

// Converts a verified Schema flatbuffer; every structural rule of
// validate_schema() is enforced, and big-endian schemas are refused.
Result<Schema> parse_schema(const fb::Schema* schema, const SchemaLimits& limits);

}  // namespace syndb::arrow::ipc
