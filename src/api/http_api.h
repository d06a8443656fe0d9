// HttpApi: the hub's HTTP/1.1 JSON API (Boost.Beast; ARCHITECTURE.md, api;
// issue 4, hub). Serves the cluster registry's snapshots, the metastore's
// health events and dataset search, schema sync and Prometheus metrics:
//   GET  /healthz                        {"status":"ok"}
//   GET  /v1/federation/clusters         {"version":N,"clusters":[…]}
//   GET  /v1/federation/health/events    ?limit=N&peer_id=P → {"events":[…]}
//   POST /v1/federation/schema/sync      hooks.schema_sync()'s JSON
//   GET  /v1/datasets                    ?q=TEXT&limit=N → {"datasets":[…]}
//   POST /v1/query                       federated SQL (api/query_api.h)
//   GET  /metrics                        Prometheus text format 0.0.4
// Errors are JSON {"error":"…"}: 400 bad query parameter, 404 unknown path,
// 405 wrong method (with Allow), 409 a schema sync already running, 413 body
// over 1 MiB, 500 a failing handler. Keep-alive is supported; a request that
// does not parse gets a 400 and closes only its own connection; idle
// connections close after 30 s.
//
// Threads: network I/O runs on one thread with its own io_context (one
// coroutine per connection). Request handlers (registry reads, SQLite, the
// hooks) run on a small worker pool so a slow schema sync never stalls other
// connections; the hooks must therefore be thread-safe. The registry and the
// metastore must outlive the HttpApi. start() and stop() are called from one
// controlling thread; handle() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "federation/metastore.h"
#include "federation/registry.h"

namespace syndb::api {

struct HubApiHooks {
  // POST /v1/federation/schema/sync: pushes pending migrations, returns a JSON report.
  std::function<nlohmann::json()> schema_sync;
  // Extra Prometheus text appended to /metrics (complete lines, HELP/TYPE included).
  std::function<std::string()> extra_metrics;
  // POST /v1/query: body and Accept header → response (api/query_api.h).
  std::function<struct ApiResponse(const std::string& body, const std::string& accept)> query;
  // The hub's own peer id (reported by /healthz).
  std::string hub_peer_id;
};

// A response before it is put on the wire.
struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Allow
};

class HttpApi {
 public:
  static constexpr size_t kMaxBodyBytes = 1 << 20;
  static constexpr size_t kMaxHeaderBytes = 16 << 10;
  static constexpr size_t kMaxConnections = 1024;

  HttpApi(const federation::Registry& registry, federation::Metastore& metastore, HubApiHooks hooks);
  ~HttpApi();  // stop()
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds bind_address:port (port 0 = any free port), starts the I/O thread
  // and returns the bound port. kInvalidArgument for a bad address or when
  // already running (it may be started again after stop()); kIo when the
  // address cannot be bound.
  Result<uint16_t> start(const std::string& bind_address, uint16_t port);
  // Stops accepting, closes every connection, waits for running handlers and
  // joins the I/O thread. Idempotent.
  void stop();

  // Routes one request (method, target = path?query, body) to its handler;
  // what the server does for each request, callable without a socket.
  ApiResponse handle(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& accept = "") const;

 private:
  struct Impl;
  const federation::Registry& registry_;
  federation::Metastore& metastore_;
  HubApiHooks hooks_;
  mutable std::mutex sync_mu_;  // one schema sync at a time
  std::unique_ptr<Impl> impl_;
};

// Helpers shared with the CLI and tests.
// Decodes %XX escapes (and '+' as a space when form is true);
// kInvalidArgument for a truncated or non-hex escape.
Result<std::string> url_decode(std::string_view s, bool form = true);
// Escapes a Prometheus label value: backslash, double quote and newline.
std::string prometheus_escape_label(std::string_view s);

}  // namespace syndb::api
