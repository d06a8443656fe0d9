#include "flight/server.h"

#include <chrono>

#include "arrow/ipc_writer.h"
#include "flight/flight_data.h"

namespace syndb::flight {

grpc::Status to_grpc(const Error& e) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kProtocol: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ErrorCode::kPermissionDenied: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case ErrorCode::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case ErrorCode::kTimeout: code = grpc::StatusCode::DEADLINE_EXCEEDED; break;
    case ErrorCode::kUnsupported: code = grpc::StatusCode::UNIMPLEMENTED; break;
    case ErrorCode::kLimitExceeded: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    case ErrorCode::kClosed:
    case ErrorCode::kReset:
    case ErrorCode::kIo: code = grpc::StatusCode::UNAVAILABLE; break;
    case ErrorCode::kInternal: code = grpc::StatusCode::INTERNAL; break;
  }
  return grpc::Status(code, e.message());
}

std::string client_header(const grpc::ServerContext& ctx, const std::string& key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

QueryDeadline::QueryDeadline(warehouse::Warehouse& connection, uint32_t timeout_ms) {
  thread_ = std::thread([this, &connection, timeout_ms] {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return done_; })) {
      expired_ = true;
      connection.interrupt();
    }
  });
}

QueryDeadline::~QueryDeadline() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

grpc::Status write_stream(warehouse::ArrowStream& stream, grpc::ServerContext* ctx,
                          grpc::ServerWriter<fpb::FlightData>* writer, const QueryDeadline* deadline,
                          StreamStats* stats) {
  auto failed = [&](const Error& e) {
    if (deadline && deadline->expired()) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "query timed out: " + e.message());
    }
    return to_grpc(e);
  };
  arrow::IpcEncoder encoder;
  Status st = encoder.set_schema(stream.schema());
  if (!st.ok()) return failed(st.error());
  fpb::FlightData data;
  to_flight_data(encoder.schema_message(), &data);
  // The schema goes out at once: a client sees it before the first batch is computed.
  if (!writer->Write(data)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  for (;;) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled");
    OwnedArrowArray batch;
    auto more = stream.next(&batch);
    if (!more.ok()) return failed(more.error());
    if (!*more) break;
    auto messages = encoder.encode_batch(*batch.get());
    if (!messages.ok()) return failed(messages.error());
    for (const auto& m : *messages) {
      to_flight_data(m, &data);
      if (stats) stats->body_bytes += m.body_length;
      if (!writer->Write(data)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    if (stats) {
      ++stats->batches;
      stats->rows += batch->length;
    }
  }
  return grpc::Status::OK;
}

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(const std::string& address,
                                                      const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  for (auto* s : services) builder.RegisterService(s);
  builder.SetMaxReceiveMessageSize(64 << 20);
  auto out = std::unique_ptr<GrpcServer>(new GrpcServer());
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || port == 0) return Error(ErrorCode::kIo, "cannot listen for gRPC on " + address);
  out->port_ = static_cast<uint16_t>(port);
  return out;
}

GrpcServer::~GrpcServer() { stop(0); }

void GrpcServer::stop(uint32_t grace_ms) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  server_->Wait();
  server_.reset();
}

}  // namespace syndb::flight
