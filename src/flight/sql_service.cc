#include "flight/sql_service.h"

#include <google/protobuf/any.pb.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "arrow/builder.h"
#include "common/bytes.h"
#include "flight/flight_data.h"
#include "flight/flight_sql.pb.h"
#include "warehouse/sql.h"

namespace syndb::flight {

namespace fsql = ::arrow::flight::protocol::sql;
using arrow::ColumnPtr;
using arrow::Field;
using arrow::Schema;

namespace {
enum class PlanKind { kStatement, kSqlInfo, kCatalogs, kDbSchemas, kTables, kTableTypes };
}  // namespace

struct FlightSqlService::Plan {
  using Kind = PlanKind;
  Kind kind = Kind::kStatement;
  std::string sql;     // kStatement
  std::string ticket;  // what the FlightInfo endpoint's ticket carries
  fsql::CommandGetSqlInfo sql_info;
  fsql::CommandGetDbSchemas db_schemas;
  fsql::CommandGetTables tables;
};

namespace {

grpc::Status invalid(const std::string& why) { return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why); }

template <typename M>
std::string pack(const M& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any.SerializeAsString();
}

// One batch already in memory, as an ArrowStream.
class TableStream final : public warehouse::ArrowStream {
 public:
  TableStream(OwnedArrowSchema schema, OwnedArrowArray batch) : schema_(std::move(schema)), batch_(std::move(batch)) {}
  const ArrowSchema& schema() const override { return *schema_.get(); }
  Result<bool> next(OwnedArrowArray* out) override {
    if (done_) return false;
    done_ = true;
    *out = std::move(batch_);
    return true;
  }

 private:
  OwnedArrowSchema schema_;
  OwnedArrowArray batch_;
  bool done_ = false;
};

std::string like_clause(const std::string& column, const std::string* pattern) {
  return pattern ? " AND " + column + " LIKE " + warehouse::sql_quote(*pattern) : "";
}

// SqlInfo values we report (FlightSql.proto enum SqlInfo).
struct InfoValue {
  uint32_t id;
  int8_t type;  // union member: 0 string, 1 bool, 2 bigint, 3 int32 bitmask
  std::string s;
  bool b = false;
  int64_t i = 0;
};

std::vector<InfoValue> sql_info_values(const FlightSqlConfig& c) {
  return {
      {0, 0, c.server_name},     // FLIGHT_SQL_SERVER_NAME
      {1, 0, c.server_version},  // FLIGHT_SQL_SERVER_VERSION
      {2, 0, "21.0.0"},          // FLIGHT_SQL_SERVER_ARROW_VERSION (the format version we implement)
      {3, 1, "", true},          // FLIGHT_SQL_SERVER_READ_ONLY
      {4, 1, "", true},          // FLIGHT_SQL_SERVER_SQL
      {5, 1, "", false},         // FLIGHT_SQL_SERVER_SUBSTRAIT
      {8, 3, "", false, 0},      // FLIGHT_SQL_SERVER_TRANSACTION: NONE
      {9, 1, "", false},         // FLIGHT_SQL_SERVER_CANCEL
      {500, 1, "", false},       // SQL_DDL_CATALOG
      {504, 0, "\""},            // SQL_IDENTIFIER_QUOTE_CHAR
  };
}

// CommandGetSqlInfo's schema: info_name uint32 not null, value dense_union<
// string_value utf8, bool_value bool, bigint_value int64, int32_bitmask int32,
// string_list list<utf8>, int32_to_int32_list_map map<int32, list<int32>>>.
Schema sql_info_schema() {
  Field item_str = arrow::utf8_field("item");
  Field string_list;
  string_list.name = "string_list";
  string_list.type.id = arrow::TypeId::kList;
  string_list.children = {item_str};
  Field key = arrow::int_field("key", 32, true, false);
  Field value_list;
  value_list.name = "value";
  value_list.type.id = arrow::TypeId::kList;
  value_list.children = {arrow::int_field("item", 32, true)};
  Field entries;
  entries.name = "entries";
  entries.nullable = false;
  entries.type.id = arrow::TypeId::kStruct;
  entries.children = {key, value_list};
  Field map;
  map.name = "int32_to_int32_list_map";
  map.type.id = arrow::TypeId::kMap;
  map.children = {entries};
  Field bool_value;
  bool_value.name = "bool_value";
  bool_value.type.id = arrow::TypeId::kBool;
  Field value;
  value.name = "value";
  value.type.id = arrow::TypeId::kDenseUnion;
  value.type.type_ids = {0, 1, 2, 3, 4, 5};
  value.children = {arrow::utf8_field("string_value"), bool_value, arrow::int_field("bigint_value", 64, true),
                    arrow::int_field("int32_bitmask", 32, true), string_list, map};
  Schema s;
  s.fields = {arrow::int_field("info_name", 32, false, false), value};
  return s;
}

Status sql_info_table(const FlightSqlConfig& config, const fsql::CommandGetSqlInfo& cmd, OwnedArrowSchema* schema,
                      OwnedArrowArray* batch) {
  Schema s = sql_info_schema();
  std::vector<InfoValue> rows;
  for (const auto& v : sql_info_values(config)) {
    bool wanted = cmd.info_size() == 0;
    for (uint32_t id : cmd.info()) wanted = wanted || id == v.id;
    if (wanted) rows.push_back(v);
  }
  std::vector<uint32_t> names;
  std::vector<int8_t> type_ids;
  std::vector<int32_t> offsets;
  std::vector<std::optional<std::string>> strings;
  std::vector<bool> bools;
  std::vector<int64_t> bigints;
  std::vector<int32_t> bitmasks;
  for (const auto& r : rows) {
    names.push_back(r.id);
    type_ids.push_back(r.type);
    switch (r.type) {
      case 0: offsets.push_back(static_cast<int32_t>(strings.size())); strings.emplace_back(r.s); break;
      case 1: offsets.push_back(static_cast<int32_t>(bools.size())); bools.push_back(r.b); break;
      case 2: offsets.push_back(static_cast<int32_t>(bigints.size())); bigints.push_back(r.i); break;
      default: offsets.push_back(static_cast<int32_t>(bitmasks.size())); bitmasks.push_back(static_cast<int32_t>(r.i));
    }
  }
  const Field& u = s.fields[1];
  auto value = std::make_shared<arrow::ArrayData>();
  value->length = static_cast<int64_t>(rows.size());
  value->buffers = {type_ids.empty() ? arrow::zero_buffer() : arrow::make_buffer(*value, type_ids),
                    offsets.empty() ? arrow::zero_buffer() : arrow::make_buffer(*value, offsets)};
  value->children = {arrow::string_column(strings), arrow::bool_column(bools),
                     arrow::fixed_column(bigints), arrow::fixed_column(bitmasks), arrow::empty_column(u.children[4]),
                     arrow::empty_column(u.children[5])};
  return arrow::export_table(s, static_cast<int64_t>(rows.size()), {arrow::fixed_column(names), value}, schema, batch);
}

// The first `n` columns of text rows, as utf8 columns.
std::vector<ColumnPtr> text_columns(const warehouse::TextResult& rows, size_t n) {
  std::vector<ColumnPtr> columns;
  for (size_t c = 0; c < n; ++c) {
    std::vector<std::optional<std::string>> values;
    for (const auto& row : rows.rows) values.push_back(row[c]);
    columns.push_back(arrow::string_column(values));
  }
  return columns;
}

// Rows of text from the catalog connection, as utf8 columns of `schema`.
Status text_table(const Schema& schema, const warehouse::TextResult& rows, OwnedArrowSchema* out_schema,
                  OwnedArrowArray* batch) {
  return arrow::export_table(schema, static_cast<int64_t>(rows.rows.size()), text_columns(rows, schema.fields.size()),
                             out_schema, batch);
}

constexpr const char* kUserCatalogs = "NOT IN ('system', 'temp')";

}  // namespace

FlightSqlService::FlightSqlService(QueryEngine& engine, warehouse::Warehouse& catalog, FlightSqlConfig config)
    : engine_(engine), catalog_(catalog), config_(std::move(config)) {}

grpc::Status FlightSqlService::authorize(const grpc::ServerContext& ctx) const {
  std::string auth = client_header(ctx, "authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.rfind(kBearer, 0) != 0) return unauthenticated("missing 'authorization: Bearer <token>' header");
  if (!config_.check_token || !config_.check_token(auth.substr(kBearer.size()))) {
    return unauthenticated("invalid token");
  }
  return grpc::Status::OK;
}

grpc::Status FlightSqlService::Handshake(
    grpc::ServerContext* ctx, grpc::ServerReaderWriter<fpb::HandshakeResponse, fpb::HandshakeRequest>* stream) {
  std::string auth = client_header(*ctx, "authorization");
  std::string token;
  if (auth.rfind("Bearer ", 0) == 0) {
    token = auth.substr(7);
  } else if (auth.rfind("Basic ", 0) == 0) {
    const std::string b64 = auth.substr(6);
    std::string decoded(b64.size(), '\0');
    size_t n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), b64.data(), b64.size(),
                          nullptr, &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
      return unauthenticated("malformed Basic credentials");
    }
    decoded.resize(n);
    auto colon = decoded.find(':');
    token = colon == std::string::npos ? decoded : decoded.substr(colon + 1);
  }
  if (token.empty() || !config_.check_token || !config_.check_token(token)) {
    return unauthenticated("invalid token (send 'authorization: Bearer <token>', or Basic with the token as password)");
  }
  ctx->AddInitialMetadata("authorization", "Bearer " + token);
  fpb::HandshakeRequest request;
  while (stream->Read(&request)) {
  }
  fpb::HandshakeResponse response;
  response.set_payload(token);
  stream->Write(response);
  return grpc::Status::OK;
}

grpc::Status FlightSqlService::resolve(const std::string& any_bytes, Plan* plan) {
  google::protobuf::Any any;
  if (!any.ParseFromString(any_bytes)) return invalid("command is not a google.protobuf.Any");
  plan->ticket = any_bytes;
  if (fsql::CommandStatementQuery q; any.UnpackTo(&q)) {
    plan->sql = q.query();
    fsql::TicketStatementQuery t;
    t.set_statement_handle(q.query());
    plan->ticket = pack(t);
  } else if (fsql::TicketStatementQuery t; any.UnpackTo(&t)) {
    plan->sql = t.statement_handle();
  } else if (fsql::CommandPreparedStatementQuery p; any.UnpackTo(&p)) {
    std::lock_guard lock(mu_);
    auto it = prepared_.find(p.prepared_statement_handle());
    if (it == prepared_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown prepared statement handle");
    plan->sql = it->second;
  } else if (any.UnpackTo(&plan->sql_info)) {
    plan->kind = Plan::Kind::kSqlInfo;
  } else if (fsql::CommandGetCatalogs c; any.UnpackTo(&c)) {
    plan->kind = Plan::Kind::kCatalogs;
  } else if (any.UnpackTo(&plan->db_schemas)) {
    plan->kind = Plan::Kind::kDbSchemas;
  } else if (any.UnpackTo(&plan->tables)) {
    plan->kind = Plan::Kind::kTables;
  } else if (fsql::CommandGetTableTypes c; any.UnpackTo(&c)) {
    plan->kind = Plan::Kind::kTableTypes;
  } else {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unsupported Flight SQL command " + any.type_url());
  }
  if (plan->kind == Plan::Kind::kStatement && plan->sql.empty()) return invalid("empty SQL statement");
  return grpc::Status::OK;
}

namespace {

// A metadata command's result, as one in-memory batch.
Status metadata_table(const FlightSqlConfig& config, warehouse::Warehouse& catalog,
                      const fsql::CommandGetSqlInfo& sql_info, const fsql::CommandGetDbSchemas& db_schemas,
                      const fsql::CommandGetTables& tables, PlanKind kind, OwnedArrowSchema* schema,
                      OwnedArrowArray* batch) {
  if (kind == PlanKind::kSqlInfo) return sql_info_table(config, sql_info, schema, batch);
  SYNDB_ASSIGN_OR_RETURN(auto conn, catalog.connect(true));
  if (kind == PlanKind::kCatalogs) {
    SYNDB_ASSIGN_OR_RETURN(auto rows, conn->query_text(std::string("SELECT DISTINCT catalog_name FROM "
                                                                   "information_schema.schemata WHERE catalog_name ") +
                                                       kUserCatalogs + " ORDER BY 1"));
    Schema s;
    s.fields = {arrow::utf8_field("catalog_name", false)};
    return text_table(s, rows, schema, batch);
  }
  if (kind == PlanKind::kDbSchemas) {
    std::string sql = std::string("SELECT catalog_name, schema_name FROM information_schema.schemata WHERE "
                                  "catalog_name ") + kUserCatalogs;
    if (db_schemas.has_catalog()) sql += " AND catalog_name = " + warehouse::sql_quote(db_schemas.catalog());
    sql += like_clause("schema_name", db_schemas.has_db_schema_filter_pattern()
                                          ? &db_schemas.db_schema_filter_pattern() : nullptr);
    SYNDB_ASSIGN_OR_RETURN(auto rows, conn->query_text(sql + " ORDER BY 1, 2"));
    Schema s;
    s.fields = {arrow::utf8_field("catalog_name"), arrow::utf8_field("db_schema_name", false)};
    return text_table(s, rows, schema, batch);
  }
  if (kind == PlanKind::kTables) {
    std::string type_expr = "CASE table_type WHEN 'BASE TABLE' THEN 'TABLE' WHEN 'LOCAL TEMPORARY' THEN "
                            "'TEMPORARY TABLE' ELSE table_type END";
    std::string sql = "SELECT table_catalog, table_schema, table_name, " + type_expr +
                      " FROM information_schema.tables WHERE table_catalog " + kUserCatalogs +
                      " AND table_name <> 'schema_migrations'";
    if (tables.has_catalog()) sql += " AND table_catalog = " + warehouse::sql_quote(tables.catalog());
    sql += like_clause("table_schema",
                       tables.has_db_schema_filter_pattern() ? &tables.db_schema_filter_pattern() : nullptr);
    sql += like_clause("table_name",
                       tables.has_table_name_filter_pattern() ? &tables.table_name_filter_pattern() : nullptr);
    if (tables.table_types_size() > 0) {
      std::string list;
      for (const auto& t : tables.table_types()) list += (list.empty() ? "" : ", ") + warehouse::sql_quote(t);
      sql += " AND " + type_expr + " IN (" + list + ")";
    }
    SYNDB_ASSIGN_OR_RETURN(auto rows, conn->query_text(sql + " ORDER BY 1, 2, 3, 4"));
    Schema s;
    s.fields = {arrow::utf8_field("catalog_name"), arrow::utf8_field("db_schema_name"),
                arrow::utf8_field("table_name", false), arrow::utf8_field("table_type", false)};
    if (!tables.include_schema()) return text_table(s, rows, schema, batch);
    std::vector<ColumnPtr> columns = text_columns(rows, 4);
    std::vector<std::optional<std::string>> schemas;
    for (const auto& row : rows.rows) {
      std::string name = warehouse::sql_ident(*row[0]) + "." + warehouse::sql_ident(*row[1]) + "." +
                         warehouse::sql_ident(*row[2]);
      SYNDB_ASSIGN_OR_RETURN(auto table_schema, conn->query_schema("SELECT * FROM " + name));
      SYNDB_ASSIGN_OR_RETURN(auto bytes, schema_bytes(*table_schema.get()));
      schemas.emplace_back(std::move(bytes));
    }
    columns.push_back(arrow::string_column(schemas));
    s.fields.push_back(arrow::binary_field("table_schema", false));
    return arrow::export_table(s, static_cast<int64_t>(rows.rows.size()), std::move(columns), schema, batch);
  }
  // PlanKind::kTableTypes
  warehouse::TextResult rows;
  rows.rows = {{std::string("TABLE")}, {std::string("VIEW")}};
  Schema s;
  s.fields = {arrow::utf8_field("table_type", false)};
  return text_table(s, rows, schema, batch);
}

}  // namespace

grpc::Status FlightSqlService::plan_schema(const Plan& plan, std::string* out) {
  OwnedArrowSchema schema;
  if (plan.kind == Plan::Kind::kStatement) {
    auto s = engine_.schema(plan.sql);
    if (!s.ok()) return to_grpc(s.error());
    schema = std::move(s).value();
  } else {
    OwnedArrowArray unused;
    Status st = metadata_table(config_, catalog_, plan.sql_info, plan.db_schemas, plan.tables,
                               plan.kind, &schema, &unused);
    if (!st.ok()) return to_grpc(st.error());
  }
  auto bytes = schema_bytes(*schema.get());
  if (!bytes.ok()) return to_grpc(bytes.error());
  *out = std::move(bytes).value();
  return grpc::Status::OK;
}

grpc::Status FlightSqlService::run(grpc::ServerContext* ctx, const Plan& plan,
                                   grpc::ServerWriter<fpb::FlightData>* writer) {
  std::unique_ptr<warehouse::ArrowStream> stream;
  if (plan.kind == Plan::Kind::kStatement) {
    auto s = engine_.execute(plan.sql);
    if (!s.ok()) return to_grpc(s.error());
    stream = std::move(s).value();
    ++statements_;
  } else {
    OwnedArrowSchema schema;
    OwnedArrowArray batch;
    Status st = metadata_table(config_, catalog_, plan.sql_info, plan.db_schemas, plan.tables,
                               plan.kind, &schema, &batch);
    if (!st.ok()) return to_grpc(st.error());
    stream = std::make_unique<TableStream>(std::move(schema), std::move(batch));
  }
  if (plan.kind != Plan::Kind::kStatement) return write_stream(*stream, ctx, writer, nullptr);
  return write_stream(*stream, ctx, writer, nullptr, nullptr,
                      [&] { return engine_.trailing_app_metadata(*stream); });
}

grpc::Status FlightSqlService::describe(const grpc::ServerContext& ctx, const fpb::FlightDescriptor& descriptor,
                                        Plan* plan, std::string* schema) {
  if (auto st = authorize(ctx); !st.ok()) return st;
  if (descriptor.type() != fpb::FlightDescriptor::CMD) return invalid("expected a CMD descriptor (Flight SQL command)");
  if (auto st = resolve(descriptor.cmd(), plan); !st.ok()) return st;
  return plan_schema(*plan, schema);
}

grpc::Status FlightSqlService::GetFlightInfo(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                                             fpb::FlightInfo* response) {
  Plan plan;
  if (auto st = describe(*ctx, *request, &plan, response->mutable_schema()); !st.ok()) return st;
  *response->mutable_flight_descriptor() = *request;
  response->add_endpoint()->mutable_ticket()->set_ticket(plan.ticket);
  response->set_total_records(-1);
  response->set_total_bytes(-1);
  return grpc::Status::OK;
}

grpc::Status FlightSqlService::GetSchema(grpc::ServerContext* ctx, const fpb::FlightDescriptor* request,
                                         fpb::SchemaResult* response) {
  Plan plan;
  return describe(*ctx, *request, &plan, response->mutable_schema());
}

grpc::Status FlightSqlService::DoGet(grpc::ServerContext* ctx, const fpb::Ticket* request,
                                     grpc::ServerWriter<fpb::FlightData>* writer) {
  if (auto st = authorize(*ctx); !st.ok()) return st;
  Plan plan;
  if (auto st = resolve(request->ticket(), &plan); !st.ok()) return st;
  return run(ctx, plan, writer);
}

grpc::Status FlightSqlService::DoAction(grpc::ServerContext* ctx, const fpb::Action* request,
                                        grpc::ServerWriter<fpb::Result>* writer) {
  if (auto st = authorize(*ctx); !st.ok()) return st;
  google::protobuf::Any any;
  if (!any.ParseFromString(request->body())) return invalid("action body is not a google.protobuf.Any");
  if (request->type() == "CreatePreparedStatement") {
    fsql::ActionCreatePreparedStatementRequest req;
    if (!any.UnpackTo(&req)) return invalid("CreatePreparedStatement wants ActionCreatePreparedStatementRequest");
    Plan plan;
    plan.sql = req.query();
    fsql::ActionCreatePreparedStatementResult result;
    if (auto st = plan_schema(plan, result.mutable_dataset_schema()); !st.ok()) return st;
    uint8_t raw[16];
    randombytes_buf(raw, sizeof raw);
    std::string handle = to_hex(ByteSpan(raw, sizeof raw));
    {
      std::lock_guard lock(mu_);
      if (prepared_.size() >= config_.max_prepared_statements) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many open prepared statements");
      }
      prepared_[handle] = req.query();
    }
    result.set_prepared_statement_handle(handle);
    fpb::Result out;
    out.set_body(pack(result));
    writer->Write(out);
    return grpc::Status::OK;
  }
  if (request->type() == "ClosePreparedStatement") {
    fsql::ActionClosePreparedStatementRequest req;
    if (!any.UnpackTo(&req)) return invalid("ClosePreparedStatement wants ActionClosePreparedStatementRequest");
    std::lock_guard lock(mu_);
    prepared_.erase(req.prepared_statement_handle());
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unsupported action '" + request->type() + "'");
}

grpc::Status FlightSqlService::ListActions(grpc::ServerContext* ctx, const fpb::Empty*,
                                           grpc::ServerWriter<fpb::ActionType>* writer) {
  if (auto st = authorize(*ctx); !st.ok()) return st;
  for (const auto& [type, description] :
       {std::pair<const char*, const char*>{"CreatePreparedStatement", "Prepare a query (no parameters)"},
        {"ClosePreparedStatement", "Release a prepared statement"}}) {
    fpb::ActionType a;
    a.set_type(type);
    a.set_description(description);
    writer->Write(a);
  }
  return grpc::Status::OK;
}

grpc::Status FlightSqlService::DoPut(grpc::ServerContext* ctx,
                                     grpc::ServerReaderWriter<fpb::PutResult, fpb::FlightData>*) {
  if (auto st = authorize(*ctx); !st.ok()) return st;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "the federation is read-only through Flight SQL (updates and ingestion are refused)");
}

}  // namespace syndb::flight
