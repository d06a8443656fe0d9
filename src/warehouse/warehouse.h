// Warehouse: a node's local store of SynDB tables behind one small interface.
// DuckDB (embedded, duckdb_warehouse.cc) is the first implementation; a
// ClickHouse backend must fit the same interface.
//
// Thread-safety: one Warehouse per thread of use (a DuckDB connection is not
// shared across threads without care); results are consumed on the thread
// that made them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/arrow_c_data.h"
#include "common/result.h"

namespace syndb::warehouse {

// A row value for appends: NULL, BOOLEAN, BIGINT/INTEGER, DOUBLE or VARCHAR.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;

struct ColumnInfo {
  std::string name;
  std::string type;  // SQL type name as the engine reports it, e.g. "BIGINT"
  bool nullable = true;
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  int64_t rows = 0;
};

// A query's result as a stream of Arrow record batches (C Data Interface).
class ArrowStream {
 public:
  virtual ~ArrowStream() = default;
  // The result schema (a struct whose children are the columns).
  virtual const ArrowSchema& schema() const = 0;
  // Moves the next batch into *out; false when the result is exhausted.
  // Batches are produced as the engine runs; the result is never materialised whole.
  virtual Result<bool> next(OwnedArrowArray* out) = 0;
};

// Rows as text, for printing: every value cast to VARCHAR, NULL as nullopt.
struct TextResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// Appends rows to one table; rows become visible when the enclosing
// transaction commits, and are discarded by its rollback. Must not outlive
// its Warehouse. Errors name the table and the offending row.
class Appender {
 public:
  virtual ~Appender() = default;
  virtual Status append_row(const std::vector<Value>& row) = 0;
  virtual Status close() = 0;  // flushes; further appends fail
};

// An Arrow stream registered as a table name (Warehouse::register_arrow_view);
// destroying it unregisters the name.
class ArrowView {
 public:
  virtual ~ArrowView() = default;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  // The schema version recorded in schema_migrations (0 for an empty database).
  virtual Result<int> schema_version() = 0;
  // Applies pending migrations in order, each in its own transaction. Returns
  // the new version. kUnsupported when the database is newer than this build.
  virtual Result<int> migrate(int target_version) = 0;
  // Applies one migration (from this build or sent by a hub with SchemaSync)
  // in its own transaction and records it. kInvalidArgument when `version` is
  // not exactly the next one.
  virtual Status apply_migration(int version, const std::string& description, const std::string& sql) = 0;

  // Runs statements that return nothing interesting (DDL, INSERT …).
  virtual Status execute(const std::string& sql) = 0;
  // Runs a query and streams its result as Arrow batches of at most
  // duckdb_vector_size() (2048) rows; DuckDB's sparse chunks (a row or two
  // after a selective filter) are packed together up to that size. Errors:
  // kInvalidArgument with DuckDB's message.
  virtual Result<std::unique_ptr<ArrowStream>> query_arrow(const std::string& sql) = 0;
  // Runs a query and returns its rows as text (for the CLI and tests; small results).
  virtual Result<TextResult> query_text(const std::string& sql) = 0;

  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;

  virtual Result<std::unique_ptr<Appender>> appender(const std::string& table) = 0;
  // Every user table with its columns and row count (schema_migrations excluded).
  virtual Result<std::vector<TableInfo>> describe() = 0;

  // The schema a query's result will have (a struct "+s" whose children are
  // the columns), from preparing it without running it; the same schema
  // query_arrow() streams. Errors as query_arrow().
  virtual Result<OwnedArrowSchema> query_schema(const std::string& sql) = 0;

  // A new connection to the same database, for use on another thread (DuckDB
  // runs one query per connection). With `untrusted`, the connection is for
  // remote SQL: query_arrow(), query_schema() and query_text() accept exactly
  // one SELECT statement (anything else: kPermissionDenied), and execute(),
  // appender(), begin(), migrate() and apply_migration() are refused with
  // kPermissionDenied. File and network access depend on how the database
  // was opened (OpenOptions::sandbox), not on the connection.
  virtual Result<std::unique_ptr<Warehouse>> connect(bool untrusted) = 0;

  // Makes `name` readable as a table by every connection's queries while
  // the returned handle lives (no catalog entry: DuckDB resolves the unknown
  // name with a replacement scan). `stream` must outlive the handle. DuckDB
  // reads the stream through a table function, single-threaded, every
  // column of every batch (no projection or filter pushdown into the
  // stream), in vectors of at most duckdb_vector_size() rows. The stream is
  // read once: a second scan fails the query ("already read"); copy it into
  // a table to read it twice. A stream error (get_next != 0) fails the query
  // with get_last_error()'s text. Errors: kPermissionDenied on an untrusted
  // connection, kInvalidArgument when DuckDB cannot convert the schema or
  // the name is registered already.
  virtual Result<std::unique_ptr<ArrowView>> register_arrow_view(const std::string& name, ArrowArrayStream* stream) = 0;

  // Cancels the query running on this connection (its stream's next() then
  // fails). Safe to call from any thread, also when nothing runs.
  virtual void interrupt() = 0;
};

struct OpenOptions {
  bool read_only = false;
  // Sandbox for untrusted SQL (remote query fragments, Flight SQL): no file
  // or network access, no extension loading, configuration locked after
  // open. DuckDB applies these to the whole database, so a node opens its
  // warehouse this way and imports run in a separate process.
  bool sandbox = false;
  std::string memory_limit;  // e.g. "1GB", for all connections together; empty = engine default
  int threads = 0;           // 0 = engine default
};

// Opens (creating when absent and not read-only) the DuckDB warehouse in
// data_dir/warehouse.duckdb; data_dir ":memory:" opens an in-memory one. Errors: kIo (cannot create or open), kUnsupported
// (the file is newer than this build's schema; nothing is changed).
Result<std::unique_ptr<Warehouse>> open_duckdb(const std::string& data_dir, const OpenOptions& options = {});

}  // namespace syndb::warehouse
