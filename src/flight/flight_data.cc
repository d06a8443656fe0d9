#include "flight/flight_data.h"

#include "arrow/ipc_reader.h"

namespace syndb::flight {

void to_flight_data(const arrow::EncodedMessage& message, fpb::FlightData* out) {
  out->set_data_header(message.metadata.data(), message.metadata.size());
  std::string* body = out->mutable_data_body();
  body->clear();
  body->reserve(static_cast<size_t>(message.body_length));
  for (ByteSpan piece : message.body) body->append(reinterpret_cast<const char*>(piece.data()), piece.size());
}

Result<std::string> schema_bytes(const ArrowSchema& schema) {
  arrow::IpcEncoder encoder;
  SYNDB_RETURN_IF_ERROR(encoder.set_schema(schema));
  std::string out;
  SYNDB_RETURN_IF_ERROR(arrow::write_framed(encoder.schema_message(), [&out](ByteSpan b) {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    return ok_status();
  }));
  return out;
}

Result<OwnedArrowSchema> parse_schema_bytes(std::string_view bytes) {
  arrow::IpcStreamReader reader;
  SYNDB_RETURN_IF_ERROR(reader.feed(as_bytes(bytes)));
  if (!reader.has_schema()) return Error(ErrorCode::kProtocol, "schema bytes hold no complete Schema message");
  OwnedArrowSchema out;
  SYNDB_RETURN_IF_ERROR(reader.export_schema(out.get()));
  return out;
}

}  // namespace syndb::flight
