#include "flight/query_engine.h"

#include "flight/server.h"

namespace syndb::flight {

namespace {

Error timed_out(uint32_t timeout_ms) {
  return Error(ErrorCode::kTimeout, "statement cancelled after " + std::to_string(timeout_ms) + " ms");
}

// A result stream that keeps its connection (and its deadline) until it is destroyed.
class ConnectionStream final : public warehouse::ArrowStream {
 public:
  ConnectionStream(std::unique_ptr<warehouse::Warehouse> connection, std::unique_ptr<QueryDeadline> deadline,
                   std::unique_ptr<warehouse::ArrowStream> stream, uint32_t timeout_ms)
      : connection_(std::move(connection)), deadline_(std::move(deadline)), stream_(std::move(stream)),
        timeout_ms_(timeout_ms) {}
  const ArrowSchema& schema() const override { return stream_->schema(); }
  Result<bool> next(OwnedArrowArray* out) override {
    auto r = stream_->next(out);
    if (!r.ok() && deadline_->expired()) return timed_out(timeout_ms_);
    return r;
  }

 private:
  // Destroyed bottom-up: the stream before the deadline, both before the connection.
  std::unique_ptr<warehouse::Warehouse> connection_;
  std::unique_ptr<QueryDeadline> deadline_;
  std::unique_ptr<warehouse::ArrowStream> stream_;
  uint32_t timeout_ms_;
};

}  // namespace

Result<OwnedArrowSchema> LocalQueryEngine::schema(const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto connection, warehouse_.connect(true));
  return connection->query_schema(sql);
}

Result<std::unique_ptr<warehouse::ArrowStream>> LocalQueryEngine::execute(const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto connection, warehouse_.connect(true));
  // Before query_arrow: a blocking aggregate already runs while the stream opens.
  auto deadline = std::make_unique<QueryDeadline>(*connection, timeout_ms_);
  auto stream = connection->query_arrow(sql);
  if (!stream.ok()) return deadline->expired() ? timed_out(timeout_ms_) : stream.error();
  return std::unique_ptr<warehouse::ArrowStream>(std::make_unique<ConnectionStream>(
      std::move(connection), std::move(deadline), std::move(stream).value(), timeout_ms_));
}

}  // namespace syndb::flight
