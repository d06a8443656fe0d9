#include "flight/client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "arrow/ipc_reader.h"
#include "flight/ticket.h"

namespace syndb::flight {

std::vector<std::pair<std::string, std::string>> fragment_headers(const std::string& ticket,
                                                                  const p2p::Ed25519PrivateKey& key) {
  return {{kPeerIdHeader, p2p::PeerId::from_public_key(key.public_key()).to_string()},
          {kProofHeader, ticket_proof(ticket, key)}};
}

std::pair<std::string, std::string> bearer_header(const std::string& token) {
  return {"authorization", "Bearer " + token};
}

Error from_grpc(const char* rpc, int code, const std::string& message) {
  ErrorCode c = ErrorCode::kInternal;
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED: c = ErrorCode::kPermissionDenied; break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: c = ErrorCode::kTimeout; break;
    case grpc::StatusCode::UNAVAILABLE: c = ErrorCode::kIo; break;
    case grpc::StatusCode::NOT_FOUND: c = ErrorCode::kNotFound; break;
    case grpc::StatusCode::INVALID_ARGUMENT: c = ErrorCode::kInvalidArgument; break;
    case grpc::StatusCode::UNIMPLEMENTED: c = ErrorCode::kUnsupported; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: c = ErrorCode::kLimitExceeded; break;
    case grpc::StatusCode::CANCELLED: c = ErrorCode::kClosed; break;
    default: break;
  }
  return Error(c, std::string(rpc) + ": " + message);
}

namespace {

void prepare(grpc::ClientContext& ctx, const CallOptions& options) {
  for (const auto& [k, v] : options.headers) ctx.AddMetadata(k, v);
  if (options.timeout_ms > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options.timeout_ms));
  }
}

}  // namespace

Result<std::unique_ptr<FlightClient>> FlightClient::connect(const std::string& uri) {
  std::string target = uri;
  for (const char* scheme : {"grpc+tcp://", "grpc://"}) {
    if (target.rfind(scheme, 0) == 0) {
      target = target.substr(std::char_traits<char>::length(scheme));
      break;
    }
  }
  if (target.find("://") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "unsupported Flight location '" + uri + "' (want grpc://host:port)");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto client = std::unique_ptr<FlightClient>(new FlightClient());
  client->stub_ = fpb::FlightService::NewStub(channel);
  return client;
}

Status FlightClient::do_get(const std::string& ticket, const CallOptions& options, const SchemaCallback& on_schema,
                            const BatchCallback& on_batch, Stats* stats) {
  grpc::ClientContext ctx;
  prepare(ctx, options);
  fpb::Ticket request;
  request.set_ticket(ticket);
  auto reader = stub_->DoGet(&ctx, request);
  arrow::IpcStreamReader decoder;
  bool schema_seen = false;
  Status failure = ok_status();
  fpb::FlightData data;
  while (failure.ok() && reader->Read(&data)) {
    if (stats) {
      ++stats->messages;
      stats->bytes += static_cast<int64_t>(data.data_header().size() + data.data_body().size());
    }
    if (data.data_header().empty()) continue;  // app_metadata-only messages
    failure = decoder.decode_message(as_bytes(data.data_header()), as_bytes(data.data_body()));
    while (failure.ok()) {
      auto m = decoder.next();
      if (!m) break;
      if (m->kind == arrow::MessageKind::kSchema) {
        OwnedArrowSchema schema;
        failure = decoder.export_schema(schema.get());
        if (failure.ok()) failure = on_schema(*schema.get());
        schema_seen = true;
      } else if (m->kind == arrow::MessageKind::kRecordBatch) {
        failure = on_batch(std::move(m->batch));
      }
    }
  }
  if (!failure.ok()) {
    ctx.TryCancel();
    (void)reader->Finish();
    return failure;
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc("DoGet", st.error_code(), st.error_message());
  if (!schema_seen) return Error(ErrorCode::kProtocol, "DoGet: the stream ended without a schema");
  return ok_status();
}

Result<fpb::FlightInfo> FlightClient::get_flight_info(const fpb::FlightDescriptor& descriptor,
                                                      const CallOptions& options) {
  grpc::ClientContext ctx;
  prepare(ctx, options);
  fpb::FlightInfo info;
  grpc::Status st = stub_->GetFlightInfo(&ctx, descriptor, &info);
  if (!st.ok()) return from_grpc("GetFlightInfo", st.error_code(), st.error_message());
  return info;
}

}  // namespace syndb::flight
