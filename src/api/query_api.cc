#include "api/query_api.h"

#include <nlohmann/json.hpp>

#include "api/http_client.h"
#include "arrow/ipc_writer.h"
#include "arrow/schema.h"

namespace syndb::api {

using nlohmann::json;

namespace {

ApiResponse error_json(unsigned status, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = json{{"error", message}}.dump();
  return r;
}

unsigned status_of(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnsupported:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kIo:
    case ErrorCode::kClosed:
    case ErrorCode::kReset:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    default:
      return 500;
  }
}

// The strings of a utf8 ("u") or large utf8 ("U") column `child` of a batch.
void append_strings(const ArrowSchema& field, const ArrowArray& a, std::vector<std::string>* out) {
  const bool large = field.format[0] == 'U';
  const char* data = static_cast<const char*>(a.buffers[2]);
  for (int64_t i = 0; i < a.length; ++i) {
    int64_t j = a.offset + i;
    int64_t begin = large ? static_cast<const int64_t*>(a.buffers[1])[j] : static_cast<const int32_t*>(a.buffers[1])[j];
    int64_t end = large ? static_cast<const int64_t*>(a.buffers[1])[j + 1]
                        : static_cast<const int32_t*>(a.buffers[1])[j + 1];
    out->emplace_back(data + begin, static_cast<size_t>(end - begin));
  }
}

std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Rows stop here; the rest of kMaxResponseBody is room for columns and provenance.
constexpr size_t kBodyLimit = kMaxResponseBody - (1u << 20);

ApiResponse too_large() {
  return error_json(413, "the result is larger than " + std::to_string(kMaxResponseBody >> 20) +
                             " MiB, the most the HTTP API returns; add a LIMIT or a filter, or read it over "
                             "Flight SQL (the hub's flight_sql address), which streams");
}

}  // namespace

ApiResponse run_query(query::FederatedEngine& engine, const std::string& body, const std::string& accept) {
  json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return error_json(400, "the body must be a JSON object {\"sql\": …}");
  if (!req.contains("sql") || !req["sql"].is_string() || req["sql"].get<std::string>().empty()) {
    return error_json(400, "missing \"sql\" (a string)");
  }
  if (req.contains("allow_partial") && !req["allow_partial"].is_boolean()) {
    return error_json(400, "\"allow_partial\" must be true or false");
  }
  const std::string sql = req["sql"];
  query::QueryOptions options;
  options.allow_partial = req.value("allow_partial", false);
  const bool arrow_out = accept.find("application/vnd.apache.arrow.stream") != std::string::npos;
  const bool csv = !arrow_out && accept.find("text/csv") != std::string::npos;
  options.json_rows = !arrow_out;

  auto result = engine.run(sql, options);
  if (!result.ok()) return error_json(status_of(result.error()), result.error().message());
  query::FederatedResult& rs = **result;

  ApiResponse r;
  if (arrow_out) {
    r.content_type = "application/vnd.apache.arrow.stream";
    arrow::IpcStreamWriter writer([&r](ByteSpan b) {
      r.body.append(reinterpret_cast<const char*>(b.data()), b.size());
      return ok_status();
    });
    Status st = writer.write_schema(rs.schema());
    for (;;) {
      if (!st.ok()) return error_json(status_of(st.error()), st.error().message());
      OwnedArrowArray batch;
      auto more = rs.next(&batch);
      if (!more.ok()) return error_json(status_of(more.error()), more.error().message());
      if (!*more) break;
      st = writer.write_batch(*batch.get());
      if (r.body.size() > kBodyLimit) return too_large();
    }
    st = writer.finish();
    if (!st.ok()) return error_json(500, st.error().message());
  } else {
    std::vector<std::string> rows;
    size_t bytes = 0;
    for (;;) {
      OwnedArrowArray batch;
      auto more = rs.next(&batch);
      if (!more.ok()) return error_json(status_of(more.error()), more.error().message());
      if (!*more) break;
      const size_t before = rows.size();
      append_strings(*rs.schema().children[0], *batch->children[0], &rows);
      for (size_t i = before; i < rows.size(); ++i) bytes += rows[i].size() + 1;
      if (bytes > kBodyLimit) return too_large();
    }
    json columns = json::array();
    std::vector<std::string> names;
    for (int64_t i = 0; i < rs.columns().n_children; ++i) {
      const ArrowSchema& f = *rs.columns().children[i];
      auto type = arrow::parse_format(f.format);
      names.push_back(f.name ? f.name : "");
      columns.push_back({{"name", names.back()}, {"type", type.ok() ? arrow::type_name(*type) : f.format}});
    }
    if (csv) {
      r.content_type = "text/csv; charset=utf-8";
      for (size_t i = 0; i < names.size(); ++i) r.body += (i ? "," : "") + csv_field(names[i]);
      r.body += "\r\n";
      for (const auto& row : rows) {
        json values = json::parse(row, nullptr, false);
        for (size_t i = 0; i < values.size(); ++i) r.body += (i ? "," : "") + csv_field(values[i]);
        r.body += "\r\n";
      }
    } else {
      r.body = "{\"columns\":" + columns.dump() + ",\"rows\":[";
      for (size_t i = 0; i < rows.size(); ++i) r.body += (i ? "," : "") + rows[i];
      r.body += "],\"row_count\":" + std::to_string(rows.size()) +
                ",\"provenance\":" + rs.provenance().to_json().dump() + "}";
      return r;
    }
  }
  const auto prov = rs.provenance();
  r.headers.emplace_back("X-SynDB-Complete", prov.complete ? "true" : "false");
  r.headers.emplace_back("X-SynDB-Provenance", prov.to_json().dump());
  return r;
}

}  // namespace syndb::api
