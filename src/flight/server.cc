#include "flight/server.h"

#include <chrono>
#include <deque>
#include <optional>

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

namespace {

// FlightData messages handed from the producer (DuckDB + IPC encoding) to
// the gRPC writer: both run at once, so a batch is computed while the
// previous one is on the wire. Bounded: the producer waits when the client
// is slow, so nothing is materialised.
class MessageQueue {
 public:
  explicit MessageQueue(size_t capacity) : capacity_(capacity) {}
  // False when the consumer has gone away.
  bool push(fpb::FlightData m) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < capacity_ || abandoned_; });
    if (abandoned_) return false;
    q_.push_back(std::move(m));
    cv_.notify_all();
    return true;
  }
  // nullopt at the end (final_status() then holds the producer's outcome).
  std::optional<fpb::FlightData> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || done_; });
    if (q_.empty()) return std::nullopt;
    fpb::FlightData m = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return m;
  }
  void finish(grpc::Status status) {
    std::lock_guard lock(mu_);
    final_ = std::move(status);
    done_ = true;
    cv_.notify_all();
  }
  void abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    cv_.notify_all();
  }
  grpc::Status final_status() {
    std::lock_guard lock(mu_);
    return final_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<fpb::FlightData> q_;
  size_t capacity_;
  bool done_ = false, abandoned_ = false;
  grpc::Status final_;
};

}  // namespace

grpc::Status write_stream(warehouse::ArrowStream& stream, grpc::ServerContext* ctx,
                          grpc::ServerWriter<fpb::FlightData>* writer, const QueryDeadline* deadline,
                          StreamStats* stats, const std::function<std::string()>& trailing_app_metadata) {
  auto failed = [deadline](const Error& e) {
    if (deadline && deadline->expired()) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "query timed out: " + e.message());
    }
    return to_grpc(e);
  };
  MessageQueue queue(8);
  StreamStats produced;
  std::thread producer([&] {
    arrow::IpcEncoder encoder;
    Status st = encoder.set_schema(stream.schema());
    if (!st.ok()) return queue.finish(failed(st.error()));
    // With trailing metadata, each message waits for the next one, so the
    // last can carry it (a metadata-only FlightData trips some clients).
    const bool hold = static_cast<bool>(trailing_app_metadata);
    std::optional<fpb::FlightData> held;
    auto send = [&](fpb::FlightData data) {
      if (!hold) return queue.push(std::move(data));
      bool ok = !held || queue.push(std::move(*held));
      held = std::move(data);
      return ok;
    };
    fpb::FlightData schema;
    to_flight_data(encoder.schema_message(), &schema);
    if (!send(std::move(schema))) return queue.finish(grpc::Status::CANCELLED);
    for (;;) {
      OwnedArrowArray batch;
      auto more = stream.next(&batch);
      if (!more.ok()) return queue.finish(failed(more.error()));
      if (!*more) break;
      auto messages = encoder.encode_batch(*batch.get());
      if (!messages.ok()) return queue.finish(failed(messages.error()));
      for (const auto& m : *messages) {
        fpb::FlightData data;
        to_flight_data(m, &data);
        produced.body_bytes += m.body_length;
        if (!send(std::move(data))) return queue.finish(grpc::Status::CANCELLED);
      }
      ++produced.batches;
      produced.rows += batch->length;
    }
    if (held) {
      held->set_app_metadata(trailing_app_metadata());
      if (!queue.push(std::move(*held))) return queue.finish(grpc::Status::CANCELLED);
    }
    queue.finish(grpc::Status::OK);
  });
  bool gone = false;
  // The schema goes out at once: a client sees it before the first batch is computed.
  while (auto m = queue.pop()) {
    if (ctx->IsCancelled() || !writer->Write(*m)) {
      gone = true;
      queue.abandon();
      break;
    }
  }
  producer.join();
  if (stats) *stats = produced;
  if (gone) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  return queue.final_status();
}

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(const std::string& address,
                                                      const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  int port = 0;
  // gRPC sets SO_REUSEPORT by default: a second node on the same port would
  // then "bind" too and silently receive half the calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
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
