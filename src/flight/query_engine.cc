#include "flight/query_engine.h"

namespace syndb::flight {

namespace {

// A result stream that keeps its connection open until it is destroyed.
class ConnectionStream final : public warehouse::ArrowStream {
 public:
  ConnectionStream(std::unique_ptr<warehouse::Warehouse> connection, std::unique_ptr<warehouse::ArrowStream> stream)
      : connection_(std::move(connection)), stream_(std::move(stream)) {}
  ~ConnectionStream() override { stream_.reset(); }
  const ArrowSchema& schema() const override { return stream_->schema(); }
  Result<bool> next(OwnedArrowArray* out) override { return stream_->next(out); }

 private:
  std::unique_ptr<warehouse::Warehouse> connection_;
  std::unique_ptr<warehouse::ArrowStream> stream_;
};

}  // namespace

Result<OwnedArrowSchema> LocalQueryEngine::schema(const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto connection, warehouse_.connect(true));
  return connection->query_schema(sql);
}

Result<std::unique_ptr<warehouse::ArrowStream>> LocalQueryEngine::execute(const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto connection, warehouse_.connect(true));
  SYNDB_ASSIGN_OR_RETURN(auto stream, connection->query_arrow(sql));
  return std::unique_ptr<warehouse::ArrowStream>(
      std::make_unique<ConnectionStream>(std::move(connection), std::move(stream)));
}

}  // namespace syndb::flight
