#include "api/http_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <set>

namespace syndb::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using json = nlohmann::json;
using federation::HealthState;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr std::array<HealthState, 4> kStates = {HealthState::kUnknown, HealthState::kHealthy, HealthState::kDegraded,
                                                HealthState::kUnreachable};

// JSON text; invalid UTF-8 from peers is replaced rather than thrown on.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiResponse json_response(unsigned status, const json& j) {
  ApiResponse r;
  r.status = status;
  r.body = dump(j);
  return r;
}

ApiResponse error_response(unsigned status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

// Parsed query string (Boost.URL; '+' is a space): the last value of each key wins.
Result<std::map<std::string, std::string>> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  if (q.empty()) return out;
  // (Explicit (pointer, size): Boost 1.81's string_view converts a std::string_view through strlen.)
  auto params = boost::urls::parse_query(boost::urls::string_view(q.data(), q.size()));
  if (!params) return Error(ErrorCode::kInvalidArgument, fmt::format("bad query string \"{}\"", q));
  boost::urls::encoding_opts opt;
  opt.space_as_plus = true;
  for (auto p : *params) {
    if (p.key.empty() && !p.has_value) continue;
    out[p.key.decode(opt)] = p.has_value ? p.value.decode(opt) : std::string();
  }
  return out;
}

// An integer query parameter in [min, max]; absent: fallback.
Result<int> int_param(const std::map<std::string, std::string>& params, const std::string& key, int fallback, int min,
                      int max) {
  auto it = params.find(key);
  if (it == params.end() || it->second.empty()) return fallback;
  int v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("query parameter {} must be an integer in [{}, {}], got \"{}\"", key, min, max, s));
  }
  return v;
}

json dataset_json(const federation::DatasetEntry& d) {
  return json{{"id", d.id},
              {"title", d.title},
              {"institution", d.institution},
              {"species", d.species},
              {"stage", d.stage},
              {"age_hours", d.age_hours},
              {"method", d.method},
              {"doi", d.doi},
              {"license", d.license},
              {"citation", d.citation},
              {"policy", d.policy},
              {"policy_k", d.policy_k},
              {"synapses", d.synapses},
              {"gap_junctions", d.gap_junctions},
              {"cells", d.cells}};
}

json cluster_json(const federation::ClusterInfo& c) {
  json datasets = json::array();
  for (const auto& d : c.datasets) datasets.push_back(dataset_json(d));
  return json{{"peer_id", c.peer_id},
              {"name", c.name},
              {"addrs", c.addrs},
              {"state", federation::health_state_name(c.state)},
              {"last_rtt_us", c.last_rtt_us ? json(*c.last_rtt_us) : json(nullptr)},
              {"schema_version", c.schema_version},
              {"datasets", std::move(datasets)},
              {"flight_endpoint", c.flight_endpoint},
              {"registered_unix_ms", c.registered_unix_ms},
              {"last_seen_unix_ms", c.last_seen_unix_ms},
              {"consecutive_failures", c.consecutive_failures},
              {"local", c.local}};
}

bool is_up(HealthState s) { return s == HealthState::kHealthy || s == HealthState::kDegraded; }

std::string metrics_text(const federation::RegistrySnapshot& snap) {
  std::string out;
  auto out_it = std::back_inserter(out);
  std::map<HealthState, int> counts;
  for (const auto& c : snap.clusters) ++counts[c.state];
  fmt::format_to(out_it, "# HELP syndb_federation_clusters Clusters known to the hub, by health state.\n");
  fmt::format_to(out_it, "# TYPE syndb_federation_clusters gauge\n");
  for (HealthState s : kStates) {
    fmt::format_to(out_it, "syndb_federation_clusters{{state=\"{}\"}} {}\n", federation::health_state_name(s),
                   counts[s]);
  }
  auto labels = [](const federation::ClusterInfo& c) {
    return fmt::format("peer_id=\"{}\",name=\"{}\"", prometheus_escape_label(c.peer_id),
                       prometheus_escape_label(c.name));
  };
  fmt::format_to(out_it,
                 "# HELP syndb_cluster_up 1 when the cluster is Healthy or Degraded (queries may use it), else 0.\n");
  fmt::format_to(out_it, "# TYPE syndb_cluster_up gauge\n");
  for (const auto& c : snap.clusters)
    fmt::format_to(out_it, "syndb_cluster_up{{{}}} {}\n", labels(c), is_up(c.state) ? 1 : 0);
  fmt::format_to(out_it, "# HELP syndb_cluster_rtt_seconds Round-trip time of the last answered health ping.\n");
  fmt::format_to(out_it, "# TYPE syndb_cluster_rtt_seconds gauge\n");
  for (const auto& c : snap.clusters) {
    if (c.last_rtt_us) {
      fmt::format_to(out_it, "syndb_cluster_rtt_seconds{{{}}} {}\n", labels(c),
                     static_cast<double>(*c.last_rtt_us) / 1e6);
    }
  }
  fmt::format_to(out_it, "# HELP syndb_cluster_schema_version Warehouse schema version the cluster reports.\n");
  fmt::format_to(out_it, "# TYPE syndb_cluster_schema_version gauge\n");
  for (const auto& c : snap.clusters)
    fmt::format_to(out_it, "syndb_cluster_schema_version{{{}}} {}\n", labels(c), c.schema_version);
  fmt::format_to(out_it, "# HELP syndb_cluster_datasets Datasets in the cluster's catalogue.\n");
  fmt::format_to(out_it, "# TYPE syndb_cluster_datasets gauge\n");
  for (const auto& c : snap.clusters)
    fmt::format_to(out_it, "syndb_cluster_datasets{{{}}} {}\n", labels(c), c.datasets.size());
  fmt::format_to(
      out_it, "# HELP syndb_registry_version Version of the hub's cluster registry (increases with every change).\n");
  fmt::format_to(out_it, "# TYPE syndb_registry_version gauge\n");
  fmt::format_to(out_it, "syndb_registry_version {}\n", snap.version);
  return out;
}

// Routes: path → allowed method.
const std::map<std::string, std::string, std::less<>>& routes() {
  static const std::map<std::string, std::string, std::less<>> r = {
      {"/healthz", "GET"},
      {"/metrics", "GET"},
      {"/v1/federation/clusters", "GET"},
      {"/v1/federation/health/events", "GET"},
      {"/v1/federation/schema/sync", "POST"},
      {"/v1/datasets", "GET"},
      {"/v1/query", "POST"},
  };
  return r;
}

}  // namespace

Result<std::string> url_decode(std::string_view s, bool form) {
  if (s.empty()) return std::string();
  auto pct = boost::urls::make_pct_string_view(boost::urls::string_view(s.data(), s.size()));
  if (!pct) return Error(ErrorCode::kInvalidArgument, fmt::format("bad percent-escape in \"{}\"", s));
  boost::urls::encoding_opts opt;
  opt.space_as_plus = form;
  return pct->decode(opt);
}

std::string prometheus_escape_label(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Routing (runs on the worker pool, or on any caller's thread).

ApiResponse HttpApi::handle(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& accept) const {
  try {
    std::string_view t(target);
    size_t qpos = t.find('?');
    std::string_view path = t.substr(0, qpos);
    std::string_view query = qpos == std::string_view::npos ? std::string_view() : t.substr(qpos + 1);

    auto route = routes().find(path);
    if (route == routes().end()) return error_response(404, fmt::format("no such endpoint: {}", path));
    if (method != route->second) {
      ApiResponse r =
          error_response(405, fmt::format("method {} not allowed on {} (use {})", method, path, route->second));
      r.headers.emplace_back("Allow", route->second);
      return r;
    }
    auto params = parse_query(query);
    if (!params.ok()) return error_response(400, params.error().message());

    if (path == "/healthz") {
      json j{{"status", "ok"}};
      if (!hooks_.hub_peer_id.empty()) j["peer_id"] = hooks_.hub_peer_id;
      return json_response(200, j);
    }
    if (path == "/v1/federation/clusters") {
      auto snap = registry_.snapshot();
      json clusters = json::array();
      for (const auto& c : snap->clusters) clusters.push_back(cluster_json(c));
      return json_response(200, json{{"version", snap->version}, {"clusters", std::move(clusters)}});
    }
    if (path == "/v1/federation/health/events") {
      auto limit = int_param(*params, "limit", 100, 1, 10000);
      if (!limit.ok()) return error_response(400, limit.error().message());
      auto it = params->find("peer_id");
      auto events = metastore_.health_events(*limit, it == params->end() ? "" : it->second);
      if (!events.ok()) return error_response(500, events.error().to_string());
      json arr = json::array();
      for (const auto& e : *events) {
        arr.push_back(json{{"id", e.id},
                           {"unix_ms", e.unix_ms},
                           {"peer_id", e.peer_id},
                           {"name", e.name},
                           {"from", e.from},
                           {"to", e.to},
                           {"reason", e.reason}});
      }
      return json_response(200, json{{"events", std::move(arr)}});
    }
    if (path == "/v1/query") {
      if (!hooks_.query) return error_response(500, "queries are not configured on this hub");
      return hooks_.query(body, accept);
    }
    if (path == "/v1/federation/schema/sync") {
      if (!hooks_.schema_sync) return error_response(500, "schema sync is not configured on this hub");
      std::unique_lock<std::mutex> lock(sync_mu_, std::try_to_lock);
      if (!lock.owns_lock()) return error_response(409, "a schema sync is already running");
      return json_response(200, hooks_.schema_sync());
    }
    if (path == "/v1/datasets") {
      auto limit = int_param(*params, "limit", 50, 1, 1000);
      if (!limit.ok()) return error_response(400, limit.error().message());
      auto it = params->find("q");
      auto hits = metastore_.search_datasets(it == params->end() ? "" : it->second, *limit);
      if (!hits.ok()) return error_response(500, hits.error().to_string());
      json arr = json::array();
      for (const auto& h : *hits) {
        arr.push_back(json{{"peer_id", h.peer_id},
                           {"id", h.id},
                           {"title", h.title},
                           {"stage", h.stage},
                           {"policy", h.policy},
                           {"snippet", h.snippet},
                           {"rank", h.rank}});
      }
      return json_response(200, json{{"datasets", std::move(arr)}});
    }
    if (path == "/metrics") {
      ApiResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics_text(*registry_.snapshot());
      if (hooks_.extra_metrics) {
        std::string extra = hooks_.extra_metrics();
        if (!extra.empty()) {
          r.body += extra;
          if (r.body.back() != '\n') r.body += '\n';
        }
      }
      return r;
    }
    return error_response(404, fmt::format("no such endpoint: {}", path));
  } catch (const std::exception& e) {
    return error_response(500, fmt::format("internal error: {}", e.what()));
  } catch (...) {
    return error_response(500, "internal error");
  }
}

// ---------------------------------------------------------------------------
// Server.

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response to_beast(ApiResponse&& r, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "syndb");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::warn("http api: connection failed: {}", ex.what());
  } catch (...) {
    spdlog::warn("http api: connection failed");
  }
}

// A plain coroutine, not a capturing lambda (GCC 12 mis-destroys the
// captures of a lambda handed to co_spawn).
asio::awaitable<ApiResponse> run_handler(const HttpApi* api, std::string method, std::string target, std::string body,
                                         std::string accept) {
  co_return api->handle(method, target, body, accept);
}

}  // namespace

struct HttpApi::Impl {
  explicit Impl(const HttpApi* a) : api(a) {}
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);

  const HttpApi* api;
  // Declared first so it outlives the io_context and the pool, whose
  // destruction destroys suspended sessions (which erase themselves here).
  std::set<beast::tcp_stream*> connections;  // I/O thread only
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::thread_pool workers{2};
  std::thread thread;
  bool stopping = false;  // I/O thread only
};

asio::awaitable<void> HttpApi::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or a transient error: back off briefly, keep serving.
      spdlog::warn("http api: accept: {}", ec.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (connections.size() >= kMaxConnections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(io, session(std::move(socket)), log_exception);
  }
}

// One connection: read requests until close, an error or the idle timeout.
asio::awaitable<void> HttpApi::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  connections.insert(&stream);
  struct Forget {
    std::set<beast::tcp_stream*>& set;
    beast::tcp_stream* s;
    ~Forget() { set.erase(s); }
  } forget{connections, &stream};
  const auto http_category = &http::make_error_code(http::error::bad_method).category();
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(static_cast<uint32_t>(kMaxHeaderBytes));
    stream.expires_after(kIdleTimeout);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      // Answer what we can explain; then close only this connection.
      std::optional<ApiResponse> reply;
      if (rec == http::error::body_limit) {
        reply = error_response(413, fmt::format("request body over {} bytes", kMaxBodyBytes));
      } else if (rec == http::error::header_limit) {
        reply = error_response(431, "request header too large");
      } else if (&rec.category() == http_category && rec != http::error::end_of_stream &&
                 rec != http::error::partial_message) {
        reply = error_response(400, "malformed request: " + rec.message());
      }
      if (reply && !stopping) {
        Response res = to_beast(std::move(*reply), 11, false);
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    Request req = parser.release();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    std::string method(req.method_string());
    std::string target(req.target());
    std::string body = std::move(req.body());
    std::string accept(req[http::field::accept]);
    // The handler runs on the worker pool; its result comes back to this thread.
    ApiResponse reply = co_await asio::co_spawn(
        workers, run_handler(api, std::move(method), std::move(target), std::move(body), std::move(accept)),
        asio::use_awaitable);
    if (stopping) break;
    Response res = to_beast(std::move(reply), version, keep_alive);
    stream.expires_after(kWriteTimeout);
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep_alive || stopping) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

HttpApi::HttpApi(const federation::Registry& registry, federation::Metastore& metastore, HubApiHooks hooks)
    : registry_(registry), metastore_(metastore), hooks_(std::move(hooks)) {}

HttpApi::~HttpApi() { stop(); }

Result<uint16_t> HttpApi::start(const std::string& bind_address, uint16_t port) {
  if (impl_) return Error(ErrorCode::kInvalidArgument, "http api: already started");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(bind_address, ec);
  if (ec) return Error(ErrorCode::kInvalidArgument, "http api: bad bind address \"" + bind_address + "\"");
  auto impl = std::make_unique<Impl>(this);
  tcp::endpoint ep(addr, port);
  std::string where = fmt::format("{}:{}", bind_address, port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(ErrorCode::kIo, "http api: listen on " + where + ": " + ec.message());
  uint16_t bound = impl->acceptor.local_endpoint(ec).port();
  if (ec) return Error(ErrorCode::kIo, "http api: " + ec.message());

  Impl* im = impl.get();
  asio::co_spawn(im->io, im->accept_loop(), log_exception);

  impl_ = std::move(impl);
  impl_->thread = std::thread([im] {
    for (;;) {
      try {
        im->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http api: {}", e.what());
      }
    }
  });
  spdlog::info("http api listening on {}:{}", bind_address, bound);
  return bound;
}

void HttpApi::stop() {
  if (!impl_) return;
  Impl* im = impl_.get();
  // Close the acceptor and every connection on the I/O thread; sessions then
  // end on their own (their pending reads fail).
  asio::post(im->io, [im] {
    im->stopping = true;
    boost::system::error_code ignored;
    im->acceptor.close(ignored);
    for (auto* s : im->connections) s->socket().close(ignored);
  });
  // Handlers already running finish; their results are dropped.
  im->workers.join();
  im->io.stop();
  if (im->thread.joinable()) im->thread.join();
  // Destroying the io_context destroys any coroutine still suspended.
  impl_.reset();
}

}  // namespace syndb::api
