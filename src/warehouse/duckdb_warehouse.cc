// Warehouse on embedded DuckDB through its C API (duckdb.h, the stable ABI).
// Every DuckDB error is converted to an Error here and nowhere else.
#include <duckdb.h>
// After duckdb.h: routes every duckdb_* call through the dlopen'ed library.
#include "warehouse/duckdb_loader.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string_view>

#include "warehouse/schema.h"
#include "warehouse/sql.h"
#include "warehouse/warehouse.h"

namespace syndb::warehouse {

namespace {

Error duck_error(const std::string& what, const char* detail) {
  return Error(ErrorCode::kInvalidArgument, what + ": " + (detail ? detail : "unknown DuckDB error"));
}

// Trailing ';' and whitespace would break wrapping the statement in a subquery.
std::string strip_statement(const std::string& sql) {
  size_t end = sql.size();
  while (end > 0 && (sql[end - 1] == ';' || std::isspace(static_cast<unsigned char>(sql[end - 1])))) --end;
  return sql.substr(0, end);
}

class DuckResult {
 public:
  DuckResult() = default;
  ~DuckResult() { duckdb_destroy_result(&r_); }
  DuckResult(const DuckResult&) = delete;
  DuckResult& operator=(const DuckResult&) = delete;
  duckdb_result* get() { return &r_; }

 private:
  duckdb_result r_{};
};

class DuckPrepared {
 public:
  ~DuckPrepared() { duckdb_destroy_prepare(&p_); }
  duckdb_prepared_statement* out() { return &p_; }
  duckdb_prepared_statement get() { return p_; }

 private:
  duckdb_prepared_statement p_ = nullptr;
};

// A selection vector of `n` rows: first, first + 1, …
duckdb_selection_vector sequence_selection(idx_t first, idx_t n) {
  duckdb_selection_vector sel = duckdb_create_selection_vector(n);
  sel_t* idx = duckdb_selection_vector_get_data_ptr(sel);
  for (idx_t i = 0; i < n; ++i) idx[i] = static_cast<sel_t>(first + i);
  return sel;
}

class DuckArrowStream : public ArrowStream {
 public:
  DuckArrowStream() = default;
  ~DuckArrowStream() override {
    if (pending_) duckdb_destroy_data_chunk(&pending_);
    if (identity_) duckdb_destroy_selection_vector(identity_);
    for (auto& t : types_) duckdb_destroy_logical_type(&t);
    if (options_) duckdb_destroy_arrow_options(&options_);
    duckdb_destroy_result(&result_);
  }
  Status init(duckdb_prepared_statement prepared) {
    if (duckdb_execute_prepared_streaming(prepared, &result_) != DuckDBSuccess) {
      return duck_error("query failed", duckdb_result_error(&result_));
    }
    options_ = duckdb_result_get_arrow_options(&result_);
    idx_t n = duckdb_column_count(&result_);
    std::vector<const char*> names(n);
    for (idx_t i = 0; i < n; ++i) {
      types_.push_back(duckdb_column_logical_type(&result_, i));
      names[i] = duckdb_column_name(&result_, i);
    }
    duckdb_error_data err = duckdb_to_arrow_schema(options_, types_.data(), names.data(), n, schema_.get());
    if (err) {
      Error e = duck_error("arrow schema", duckdb_error_data_message(err));
      duckdb_destroy_error_data(&err);
      return e;
    }
    return ok_status();
  }
  const ArrowSchema& schema() const override { return *schema_.get(); }
  Result<bool> next(OwnedArrowArray* out) override {
    duckdb_data_chunk chunk = take();
    if (!chunk) {
      const char* e = duckdb_result_error(&result_);
      if (e && *e) return duck_error("query failed", e);
      return false;
    }
    // A streaming result hands out the pipeline's chunks as they come: after
    // a selective filter, thousands of chunks of a row or two. Pack them into
    // full vectors, so every Arrow batch (and Flight message) carries rows.
    const idx_t capacity = duckdb_vector_size();
    if (duckdb_data_chunk_get_size(chunk) < capacity / 2) {
      duckdb_data_chunk packed = duckdb_create_data_chunk(types_.data(), types_.size());
      idx_t filled = 0;
      while (chunk) {
        const idx_t n = duckdb_data_chunk_get_size(chunk);
        if (filled + n > capacity) {
          pending_ = chunk;
          break;
        }
        append(chunk, packed, filled);
        filled += n;
        duckdb_destroy_data_chunk(&chunk);
        chunk = filled < capacity ? take() : nullptr;
      }
      duckdb_data_chunk_set_size(packed, filled);
      chunk = packed;
    }
    out->reset();
    duckdb_error_data err = duckdb_data_chunk_to_arrow(options_, chunk, out->get());
    duckdb_destroy_data_chunk(&chunk);
    if (err) {
      Error e = duck_error("arrow conversion", duckdb_error_data_message(err));
      duckdb_destroy_error_data(&err);
      return e;
    }
    return true;
  }

 private:
  duckdb_data_chunk take() {
    duckdb_data_chunk c = pending_ ? pending_ : duckdb_fetch_chunk(result_);
    pending_ = nullptr;
    return c;
  }
  // Copies every row of `src` into `dst` from row `at`.
  void append(duckdb_data_chunk src, duckdb_data_chunk dst, idx_t at) {
    const idx_t n = duckdb_data_chunk_get_size(src);
    if (!identity_) identity_ = sequence_selection(0, duckdb_vector_size());
    for (idx_t c = 0; c < types_.size(); ++c) {
      duckdb_vector_copy_sel(duckdb_data_chunk_get_vector(src, c), duckdb_data_chunk_get_vector(dst, c), identity_, n,
                             0, at);
    }
  }

  duckdb_result result_{};
  duckdb_arrow_options options_ = nullptr;
  std::vector<duckdb_logical_type> types_;
  duckdb_data_chunk pending_ = nullptr;  // fetched, not yet handed out
  duckdb_selection_vector identity_ = nullptr;  // 0, 1, 2, … for append()
  OwnedArrowSchema schema_;
};

class DuckAppender : public Appender {
 public:
  // `live` is the warehouse's set of open appenders (so rollback can flush them first).
  DuckAppender(duckdb_appender app, std::string table, std::set<DuckAppender*>* live)
      : app_(app), table_(std::move(table)), live_(live) {
    live_->insert(this);
  }
  ~DuckAppender() override {
    live_->erase(this);
    duckdb_appender_destroy(&app_);
  }
  Status append_row(const std::vector<Value>& row) override {
    if (closed_) return Error(ErrorCode::kInvalidArgument, "append to " + table_ + " after close");
    ++row_;
    for (const auto& v : row) {
      duckdb_state st = DuckDBSuccess;
      if (std::holds_alternative<std::monostate>(v)) {
        st = duckdb_append_null(app_);
      } else if (auto* b = std::get_if<bool>(&v)) {
        st = duckdb_append_bool(app_, *b);
      } else if (auto* i = std::get_if<int64_t>(&v)) {
        st = duckdb_append_int64(app_, *i);
      } else if (auto* d = std::get_if<double>(&v)) {
        st = duckdb_append_double(app_, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        st = duckdb_append_varchar_length(app_, s.data(), s.size());
      }
      if (st != DuckDBSuccess) return fail();
    }
    if (duckdb_appender_end_row(app_) != DuckDBSuccess) return fail();
    return ok_status();
  }
  Status close() override {
    if (closed_) return ok_status();
    closed_ = true;
    if (duckdb_appender_close(app_) != DuckDBSuccess) return fail();
    return ok_status();
  }

 private:
  Error fail() {
    return duck_error("append to " + table_ + " (row " + std::to_string(row_) + ")", duckdb_appender_error(app_));
  }
  duckdb_appender app_;
  std::string table_;
  int64_t row_ = 0;
  bool closed_ = false;
  std::set<DuckAppender*>* live_;
};

// The database; shared by every connection made from it, closed with the last.
struct ArrowSource;
struct ArrowColumns;
struct DuckDatabase {
  ~DuckDatabase() { duckdb_close(&db); }
  duckdb_database db = nullptr;
  std::string path;
  // Streams registered by register_arrow_view, by view name.
  std::mutex arrow_mu;
  std::map<std::string, ArrowSource*> arrow_sources;
  std::map<std::string, std::shared_ptr<const ArrowColumns>> arrow_columns;  // by schema signature
  bool arrow_function = false;  // syndb_arrow_stream() and its replacement scan are registered
};

Result<std::shared_ptr<DuckDatabase>> open_database(const std::string& path, const OpenOptions& o) {
  duckdb_config config;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Error(ErrorCode::kInternal, "duckdb config");
  auto set = [&](const char* k, const std::string& v) { duckdb_set_config(config, k, v.c_str()); };
  if (o.read_only) set("access_mode", "READ_ONLY");
  if (!o.memory_limit.empty()) set("memory_limit", o.memory_limit);
  if (o.threads > 0) set("threads", std::to_string(o.threads));
  if (o.sandbox) {
    set("enable_external_access", "false");
    set("autoload_known_extensions", "false");
    set("autoinstall_known_extensions", "false");
    set("allow_community_extensions", "false");
  }
  auto db = std::make_shared<DuckDatabase>();
  db->path = path;
  char* err = nullptr;
  duckdb_state st = duckdb_open_ext(path.c_str(), &db->db, config, &err);
  duckdb_destroy_config(&config);
  if (st != DuckDBSuccess) {
    Error e(ErrorCode::kIo, "cannot open warehouse " + path + ": " + (err ? err : "unknown error"));
    duckdb_free(err);
    return e;
  }
  return db;
}

// ---- Arrow streams as tables (register_arrow_view) ----
//
// DuckDB's own arrow_scan hands projections and filters to the stream's
// producer (the Python-style factory protocol); a plain C stream cannot
// apply them, so DuckDB would misread its batches. Our table function
// `syndb_arrow_stream(name)` reads every column of every batch instead and
// lets DuckDB filter and project. A replacement scan turns a query's
// reference to `name` into that call, so registering a stream touches no
// catalog (creating and dropping views cost milliseconds per query).

// Column names and DuckDB types of one Arrow schema, as DuckDB converts it.
struct ArrowColumns {
  ~ArrowColumns() {
    for (auto& t : types) duckdb_destroy_logical_type(&t);
  }
  std::vector<std::string> names;
  std::vector<duckdb_logical_type> types;
};

// One registered stream.
struct ArrowSource {
  ~ArrowSource() {
    if (batch) duckdb_destroy_data_chunk(&batch);
    if (converted) duckdb_destroy_arrow_converted_schema(&converted);
    duckdb_disconnect(&con);
  }
  std::string name;
  ArrowArrayStream* stream = nullptr;
  duckdb_connection con = nullptr;  // its own: conversion settings and the type probe
  duckdb_arrow_converted_schema converted = nullptr;
  std::shared_ptr<const ArrowColumns> columns;
  bool started = false;             // the stream is read once
  duckdb_data_chunk batch = nullptr;  // the current batch, handed out in vectors of duckdb_vector_size() rows
  idx_t offset = 0;
};

void arrow_source_bind(duckdb_bind_info info) {
  auto* db = static_cast<DuckDatabase*>(duckdb_bind_get_extra_info(info));
  duckdb_value v = duckdb_bind_get_parameter(info, 0);
  char* text = duckdb_get_varchar(v);
  std::string name = text ? text : "";
  duckdb_free(text);
  duckdb_destroy_value(&v);
  ArrowSource* src = nullptr;
  {
    std::lock_guard lock(db->arrow_mu);
    auto it = db->arrow_sources.find(name);
    if (it != db->arrow_sources.end()) src = it->second;
  }
  if (!src) return duckdb_bind_set_error(info, ("no Arrow stream is registered as " + name).c_str());
  const ArrowColumns& cols = *src->columns;
  for (size_t i = 0; i < cols.types.size(); ++i) duckdb_bind_add_result_column(info, cols.names[i].c_str(), cols.types[i]);
  duckdb_bind_set_bind_data(info, src, nullptr);
}

void arrow_source_init(duckdb_init_info info) {
  auto* src = static_cast<ArrowSource*>(duckdb_init_get_bind_data(info));
  duckdb_init_set_max_threads(info, 1);
  if (src->started) {
    return duckdb_init_set_error(info, ("the Arrow stream " + src->name +
                                        " was already read (a stream can be scanned once; copy it into a table first)")
                                           .c_str());
  }
  src->started = true;
}

void arrow_source_scan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* src = static_cast<ArrowSource*>(duckdb_function_get_bind_data(info));
  while (!src->batch || src->offset == duckdb_data_chunk_get_size(src->batch)) {
    if (src->batch) duckdb_destroy_data_chunk(&src->batch);
    ArrowArray array{};
    if (src->stream->get_next(src->stream, &array) != 0) {
      const char* e = src->stream->get_last_error(src->stream);
      return duckdb_function_set_error(info, e && *e ? e : "the Arrow stream failed");
    }
    if (!array.release) return duckdb_data_chunk_set_size(output, 0);  // end of stream
    if (array.length == 0) {
      array.release(&array);
      continue;
    }
    duckdb_error_data err = duckdb_data_chunk_from_arrow(src->con, &array, src->converted, &src->batch);
    if (array.release) array.release(&array);  // not moved into the chunk (no columns, or an error)
    if (err) {
      std::string msg = std::string("Arrow batch: ") + duckdb_error_data_message(err);
      duckdb_destroy_error_data(&err);
      src->batch = nullptr;
      return duckdb_function_set_error(info, msg.c_str());
    }
    src->offset = 0;
  }
  // A batch can be longer than a DuckDB vector: hand it out as slices.
  const idx_t size = duckdb_data_chunk_get_size(src->batch);
  const idx_t n = std::min<idx_t>(duckdb_vector_size(), size - src->offset);
  duckdb_selection_vector sel = n != size ? sequence_selection(src->offset, n) : nullptr;
  for (size_t c = 0; c < src->columns->types.size(); ++c) {
    duckdb_vector out = duckdb_data_chunk_get_vector(output, c);
    duckdb_vector_reference_vector(out, duckdb_data_chunk_get_vector(src->batch, c));
    if (sel) duckdb_slice_vector(out, sel, n);
  }
  if (sel) duckdb_destroy_selection_vector(sel);
  duckdb_data_chunk_set_size(output, n);
  src->offset += n;
}

// A query names a registered stream: read it with syndb_arrow_stream.
void arrow_source_replacement(duckdb_replacement_scan_info info, const char* table_name, void* data) {
  auto* db = static_cast<DuckDatabase*>(data);
  {
    std::lock_guard lock(db->arrow_mu);
    if (!db->arrow_sources.count(table_name)) return;
  }
  duckdb_replacement_scan_set_function_name(info, "syndb_arrow_stream");
  duckdb_value name = duckdb_create_varchar(table_name);
  duckdb_replacement_scan_add_parameter(info, name);
  duckdb_destroy_value(&name);
}

Status register_arrow_function(DuckDatabase& db, duckdb_connection con) {
  // Under db.arrow_mu.
  if (db.arrow_function) return ok_status();
  duckdb_table_function f = duckdb_create_table_function();
  duckdb_table_function_set_name(f, "syndb_arrow_stream");
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_table_function_add_parameter(f, varchar);
  duckdb_destroy_logical_type(&varchar);
  duckdb_table_function_set_extra_info(f, &db, nullptr);
  duckdb_table_function_set_bind(f, &arrow_source_bind);
  duckdb_table_function_set_init(f, &arrow_source_init);
  duckdb_table_function_set_function(f, &arrow_source_scan);
  duckdb_table_function_supports_projection_pushdown(f, false);
  duckdb_state st = duckdb_register_table_function(con, f);
  duckdb_destroy_table_function(&f);
  if (st != DuckDBSuccess) return Error(ErrorCode::kInternal, "cannot register the Arrow stream table function");
  duckdb_add_replacement_scan(db.db, &arrow_source_replacement, &db, nullptr);
  db.arrow_function = true;
  return ok_status();
}

// Runs `sql` on `con`, discarding the result.
Status run_on(duckdb_connection con, const std::string& sql) {
  DuckResult r;
  if (duckdb_query(con, sql.c_str(), r.get()) != DuckDBSuccess) {
    return duck_error("statement failed", duckdb_result_error(r.get()));
  }
  return ok_status();
}

// What identifies a schema's conversion: names, formats, flags, nesting.
void schema_signature(const ArrowSchema& s, std::string* out) {
  *out += s.name ? s.name : "";
  *out += '\x1f';
  *out += s.format ? s.format : "";
  *out += '\x1f' + std::to_string(s.flags) + '(';
  for (int64_t i = 0; i < s.n_children; ++i) schema_signature(*s.children[i], out);
  if (s.dictionary) {
    *out += "dict:";
    schema_signature(*s.dictionary, out);
  }
  *out += ')';
}

// The column names and DuckDB types of `schema`, exactly as DuckDB's Arrow
// conversion produces them: bind DuckDB's arrow_scan over a stream that has
// no batches. arrow_scan never releases the schemas it gets (the producer
// owns them), so the probe lends out `schema` with a no-op release.
Result<std::shared_ptr<const ArrowColumns>> probe_arrow_types(duckdb_connection con, const std::string& name,
                                                              ArrowSchema& schema) {
  ArrowArrayStream probe{};
  probe.private_data = &schema;
  probe.get_schema = [](ArrowArrayStream* p, ArrowSchema* out) {
    *out = *static_cast<ArrowSchema*>(p->private_data);
    out->release = [](ArrowSchema* s) { s->release = nullptr; };
    return 0;
  };
  probe.get_next = [](ArrowArrayStream*, ArrowArray* out) {
    out->release = nullptr;
    return 0;
  };
  probe.get_last_error = [](ArrowArrayStream*) -> const char* { return ""; };
  probe.release = [](ArrowArrayStream* p) { p->release = nullptr; };
  const std::string view = name + "_probe";
  if (duckdb_arrow_scan(con, view.c_str(), reinterpret_cast<duckdb_arrow_stream>(&probe)) != DuckDBSuccess) {
    return Error(ErrorCode::kInvalidArgument, "DuckDB cannot read the Arrow schema of " + name);
  }
  auto cols = std::make_shared<ArrowColumns>();
  Status status = ok_status();
  {
    DuckPrepared p;
    if (duckdb_prepare(con, ("SELECT * FROM " + sql_ident(view)).c_str(), p.out()) != DuckDBSuccess) {
      status = duck_error("Arrow schema of " + name, duckdb_prepare_error(p.get()));
    } else {
      for (idx_t i = 0; i < duckdb_prepared_statement_column_count(p.get()); ++i) {
        const char* n = duckdb_prepared_statement_column_name(p.get(), i);
        cols->names.push_back(n ? n : "");
        duckdb_free(const_cast<char*>(n));
        cols->types.push_back(duckdb_prepared_statement_column_logical_type(p.get(), i));
      }
    }
  }
  Status dropped = run_on(con, "DROP VIEW IF EXISTS " + sql_ident(view));
  if (!status.ok()) return status.error();
  if (!dropped.ok()) return dropped.error();
  return std::shared_ptr<const ArrowColumns>(std::move(cols));
}

class DuckArrowView : public ArrowView {
 public:
  DuckArrowView(std::shared_ptr<DuckDatabase> db, std::unique_ptr<ArrowSource> src)
      : db_(std::move(db)), src_(std::move(src)) {}
  ~DuckArrowView() override {
    std::lock_guard lock(db_->arrow_mu);
    db_->arrow_sources.erase(src_->name);
  }

 private:
  std::shared_ptr<DuckDatabase> db_;
  std::unique_ptr<ArrowSource> src_;
};

Result<std::unique_ptr<ArrowView>> make_arrow_view(const std::shared_ptr<DuckDatabase>& db, duckdb_connection con,
                                                   const std::string& name, ArrowArrayStream* stream) {
  constexpr size_t kMaxCachedSchemas = 256;
  auto src = std::make_unique<ArrowSource>();
  src->name = name;
  src->stream = stream;
  if (duckdb_connect(db->db, &src->con) != DuckDBSuccess) return Error(ErrorCode::kIo, "cannot connect to " + db->path);
  OwnedArrowSchema schema;
  if (stream->get_schema(stream, schema.get()) != 0) {
    const char* e = stream->get_last_error(stream);
    return Error(ErrorCode::kInvalidArgument, "Arrow stream " + name + ": " + (e && *e ? e : "no schema"));
  }
  std::string signature;
  schema_signature(*schema.get(), &signature);
  {
    std::lock_guard lock(db->arrow_mu);
    SYNDB_RETURN_IF_ERROR(register_arrow_function(*db, con));
    auto it = db->arrow_columns.find(signature);
    if (it != db->arrow_columns.end()) src->columns = it->second;
  }
  if (!src->columns) {
    SYNDB_ASSIGN_OR_RETURN(src->columns, probe_arrow_types(src->con, name, *schema.get()));
    std::lock_guard lock(db->arrow_mu);
    if (db->arrow_columns.size() < kMaxCachedSchemas) db->arrow_columns.emplace(signature, src->columns);
  }
  duckdb_error_data err = duckdb_schema_from_arrow(src->con, schema.get(), &src->converted);
  if (err) {
    Error e = duck_error("Arrow schema of " + name, duckdb_error_data_message(err));
    duckdb_destroy_error_data(&err);
    return e;
  }
  std::lock_guard lock(db->arrow_mu);
  if (db->arrow_sources.count(name)) return Error(ErrorCode::kInvalidArgument, "Arrow view " + name + " exists");
  db->arrow_sources[name] = src.get();
  return std::unique_ptr<ArrowView>(new DuckArrowView(db, std::move(src)));
}

Error untrusted_refused(const char* what) {
  return Error(ErrorCode::kPermissionDenied, std::string(what) + " is not allowed on a read-only query connection");
}

class DuckWarehouse : public Warehouse {
 public:
  DuckWarehouse(std::shared_ptr<DuckDatabase> db, bool untrusted) : db_(std::move(db)), untrusted_(untrusted) {}
  ~DuckWarehouse() override { duckdb_disconnect(&con_); }

  Status connect() {
    if (duckdb_connect(db_->db, &con_) != DuckDBSuccess) return Error(ErrorCode::kIo, "cannot connect to " + db_->path);
    return ok_status();
  }

  Status open(const OpenOptions& o) {
    SYNDB_RETURN_IF_ERROR(connect());
    if (o.sandbox) SYNDB_RETURN_IF_ERROR(execute("SET lock_configuration = true"));
    auto version = schema_version();
    if (!version.ok()) return version.error();
    if (*version > latest_schema_version()) {
      return Error(ErrorCode::kUnsupported, "warehouse " + db_->path + " has schema version " +
                                                std::to_string(*version) + ", newer than this syndb knows (" +
                                                std::to_string(latest_schema_version()) + "); upgrade syndb");
    }
    return ok_status();
  }

  Result<std::unique_ptr<Warehouse>> connect(bool untrusted) override {
    auto w = std::make_unique<DuckWarehouse>(db_, untrusted || untrusted_);
    SYNDB_RETURN_IF_ERROR(w->connect());
    return std::unique_ptr<Warehouse>(std::move(w));
  }

  void interrupt() override { duckdb_interrupt(con_); }

  Result<std::unique_ptr<ArrowView>> register_arrow_view(const std::string& name, ArrowArrayStream* stream) override {
    if (untrusted_) return untrusted_refused("register_arrow_view");
    return make_arrow_view(db_, con_, name, stream);
  }

  Result<int> schema_version() override {
    auto r = query_text(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' "
        "AND table_schema = 'main'");
    if (!r.ok()) return r.error();
    if (r->rows.empty() || r->rows[0][0] == "0") return 0;
    auto v = query_text("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!v.ok()) return v.error();
    return std::stoi(*v->rows[0][0]);
  }

  Result<int> migrate(int target) override {
    if (untrusted_) return untrusted_refused("migrate");
    SYNDB_ASSIGN_OR_RETURN(int current, schema_version());
    if (current > latest_schema_version()) {
      return Error(ErrorCode::kUnsupported, "warehouse schema version " + std::to_string(current) +
                                                " is newer than this syndb knows");
    }
    for (const auto& m : migrations()) {
      if (m.version <= current || m.version > target) continue;
      SYNDB_RETURN_IF_ERROR(apply_migration(m.version, m.description, m.sql));
      current = m.version;
    }
    return current;
  }

  Status apply_migration(int version, const std::string& description, const std::string& sql) override {
    if (untrusted_) return untrusted_refused("migrate");
    SYNDB_ASSIGN_OR_RETURN(int current, schema_version());
    if (version != current + 1) {
      return Error(ErrorCode::kInvalidArgument, "migration " + std::to_string(version) + " does not follow version " +
                                                    std::to_string(current));
    }
    if (current == 0) {
      SYNDB_RETURN_IF_ERROR(execute(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR, "
          "applied_at TIMESTAMP DEFAULT current_timestamp)"));
    }
    SYNDB_RETURN_IF_ERROR(begin());
    Status st = execute(sql);
    if (st.ok()) {
      st = execute("INSERT INTO schema_migrations (version, description) VALUES (" + std::to_string(version) +
                   ", " + sql_quote(description) + ")");
    }
    if (!st.ok()) {
      (void)rollback();
      return st.error().wrap("migration " + std::to_string(version));
    }
    return commit();
  }

  Status execute(const std::string& sql) override {
    if (untrusted_) return untrusted_refused("execute");
    DuckResult r;
    if (duckdb_query(con_, sql.c_str(), r.get()) != DuckDBSuccess) {
      return duck_error("statement failed", duckdb_result_error(r.get()));
    }
    return ok_status();
  }

  Result<std::unique_ptr<ArrowStream>> query_arrow(const std::string& sql) override {
    DuckPrepared p;
    SYNDB_RETURN_IF_ERROR(prepare(sql, &p));
    auto stream = std::make_unique<DuckArrowStream>();
    SYNDB_RETURN_IF_ERROR(stream->init(p.get()));
    return std::unique_ptr<ArrowStream>(std::move(stream));
  }

  Result<OwnedArrowSchema> query_schema(const std::string& sql) override {
    DuckPrepared p;
    SYNDB_RETURN_IF_ERROR(prepare(sql, &p));
    idx_t n = duckdb_prepared_statement_column_count(p.get());
    std::vector<duckdb_logical_type> types(n);
    std::vector<const char*> names(n);
    for (idx_t i = 0; i < n; ++i) {
      types[i] = duckdb_prepared_statement_column_logical_type(p.get(), i);
      names[i] = duckdb_prepared_statement_column_name(p.get(), i);
    }
    duckdb_arrow_options options = nullptr;
    duckdb_connection_get_arrow_options(con_, &options);
    OwnedArrowSchema schema;
    duckdb_error_data err = duckdb_to_arrow_schema(options, types.data(), names.data(), n, schema.get());
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    for (auto* name : names) duckdb_free(const_cast<char*>(name));
    duckdb_destroy_arrow_options(&options);
    if (err) {
      Error e = duck_error("arrow schema", duckdb_error_data_message(err));
      duckdb_destroy_error_data(&err);
      return e;
    }
    return schema;
  }

  Result<TextResult> query_text(const std::string& sql) override {
    if (untrusted_) {
      DuckPrepared check;
      SYNDB_RETURN_IF_ERROR(prepare(sql, &check));
    }
    // DuckDB casts every column to VARCHAR itself: COLUMNS(*)::VARCHAR keeps the names.
    std::string wrapped = "SELECT COLUMNS(*)::VARCHAR FROM (" + strip_statement(sql) + ")";
    DuckPrepared p;
    if (duckdb_prepare(con_, wrapped.c_str(), p.out()) != DuckDBSuccess) {
      // Not wrappable (e.g. PRAGMA, a syntax error): report the error of the statement itself.
      DuckResult direct;
      if (duckdb_query(con_, sql.c_str(), direct.get()) != DuckDBSuccess) {
        return duck_error("query failed", duckdb_result_error(direct.get()));
      }
      return duck_error("query failed", duckdb_prepare_error(p.get()));
    }
    // A runtime error is the query's own: not run a second time.
    DuckResult r;
    if (duckdb_execute_prepared(p.get(), r.get()) != DuckDBSuccess) {
      return duck_error("query failed", duckdb_result_error(r.get()));
    }
    TextResult out;
    idx_t ncols = duckdb_column_count(r.get());
    for (idx_t c = 0; c < ncols; ++c) out.columns.emplace_back(duckdb_column_name(r.get(), c));
    for (;;) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(*r.get());
      if (!chunk) break;
      idx_t n = duckdb_data_chunk_get_size(chunk);
      size_t base = out.rows.size();
      out.rows.resize(base + n, std::vector<std::optional<std::string>>(ncols));
      for (idx_t c = 0; c < ncols; ++c) {
        duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
        auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec));
        uint64_t* validity = duckdb_vector_get_validity(vec);
        for (idx_t i = 0; i < n; ++i) {
          if (validity && !duckdb_validity_row_is_valid(validity, i)) continue;
          out.rows[base + i][c] = std::string(duckdb_string_t_data(&data[i]), duckdb_string_t_length(data[i]));
        }
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    return out;
  }

  Status begin() override { return execute("BEGIN TRANSACTION"); }
  Status commit() override { return execute("COMMIT"); }
  Status rollback() override {
    // Buffered appender rows must land inside the transaction being rolled
    // back; flushed later (on destruction) they would be committed on their own.
    for (auto* app : std::set<DuckAppender*>(appenders_)) (void)app->close();
    return execute("ROLLBACK");
  }

  Result<std::unique_ptr<Appender>> appender(const std::string& table) override {
    if (untrusted_) return untrusted_refused("append");
    duckdb_appender app = nullptr;
    if (duckdb_appender_create(con_, nullptr, table.c_str(), &app) != DuckDBSuccess) {
      Error e = duck_error("appender for " + table, duckdb_appender_error(app));
      duckdb_appender_destroy(&app);
      return e;
    }
    return std::unique_ptr<Appender>(std::make_unique<DuckAppender>(app, table, &appenders_));
  }

  Result<std::vector<TableInfo>> describe() override {
    SYNDB_ASSIGN_OR_RETURN(auto cols, query_text(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name <> 'schema_migrations' "
        "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE') "
        "ORDER BY table_name, ordinal_position"));
    std::vector<TableInfo> out;
    for (const auto& row : cols.rows) {
      if (out.empty() || out.back().name != *row[0]) out.push_back(TableInfo{*row[0], {}, 0});
      out.back().columns.push_back(ColumnInfo{*row[1], *row[2], row[3] == "YES"});
    }
    for (auto& t : out) {
      SYNDB_ASSIGN_OR_RETURN(auto n, query_text("SELECT count(*) FROM " + sql_ident(t.name)));
      t.rows = std::stoll(*n.rows[0][0]);
    }
    return out;
  }

 private:
  // Prepares `sql`; on an untrusted connection only a single SELECT.
  Status prepare(const std::string& sql, DuckPrepared* p) {
    if (untrusted_) {
      duckdb_extracted_statements extracted = nullptr;
      idx_t n = duckdb_extract_statements(con_, sql.c_str(), &extracted);
      Status st = ok_status();
      if (n == 0) {
        const char* e = duckdb_extract_statements_error(extracted);
        st = duck_error("query failed", e);
      } else if (n > 1) {
        st = Error(ErrorCode::kPermissionDenied, "only a single SELECT statement is allowed, got " +
                                                     std::to_string(n) + " statements");
      } else if (duckdb_prepare_extracted_statement(con_, extracted, 0, p->out()) != DuckDBSuccess) {
        st = duck_error("query failed", duckdb_prepare_error(p->get()));
      } else if (duckdb_prepared_statement_type(p->get()) != DUCKDB_STATEMENT_TYPE_SELECT) {
        st = Error(ErrorCode::kPermissionDenied, "only SELECT statements are allowed on a read-only query connection");
      }
      duckdb_destroy_extracted(&extracted);
      return st;
    }
    if (duckdb_prepare(con_, sql.c_str(), p->out()) != DuckDBSuccess) {
      return duck_error("query failed", duckdb_prepare_error(p->get()));
    }
    return ok_status();
  }

  std::shared_ptr<DuckDatabase> db_;
  bool untrusted_ = false;
  duckdb_connection con_ = nullptr;
  std::set<DuckAppender*> appenders_;
};

}  // namespace

Result<std::unique_ptr<Warehouse>> open_duckdb(const std::string& data_dir, const OpenOptions& options) {
  SYNDB_RETURN_IF_ERROR(load_duckdb());
  if (data_dir == ":memory:") {
    SYNDB_ASSIGN_OR_RETURN(auto db, open_database(":memory:", options));
    auto w = std::make_unique<DuckWarehouse>(std::move(db), false);
    SYNDB_RETURN_IF_ERROR(w->open(options));
    return std::unique_ptr<Warehouse>(std::move(w));
  }
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create data dir " + data_dir + ": " + ec.message());
  std::string path = (std::filesystem::path(data_dir) / "warehouse.duckdb").string();
  if (options.read_only && !std::filesystem::exists(path)) {
    return Error(ErrorCode::kNotFound, "no warehouse in " + data_dir + " (import data first)");
  }
  SYNDB_ASSIGN_OR_RETURN(auto db, open_database(path, options));
  auto w = std::make_unique<DuckWarehouse>(std::move(db), false);
  SYNDB_RETURN_IF_ERROR(w->open(options));
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace syndb::warehouse
