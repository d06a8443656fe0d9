// `syndb node` and `syndb hub`: a libp2p host, plus (with a data dir) the
// warehouse and the federation control plane; a hub adds the coordinator
// services and the HTTP API.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <toml++/toml.h>

#include "api/http_api.h"
#include "api/query_api.h"
#include "cli/commands.h"
#include "federation/hub_service.h"
#include "federation/membership.h"
#include "federation/metastore.h"
#include "federation/node_service.h"
#include "flight/fragment_service.h"
#include "flight/sql_service.h"
#include "p2p/identify/identify.h"
#include "p2p/mdns/mdns.h"
#include "p2p/perf/perf.h"
#include "p2p/ping/ping.h"
#include "warehouse/schema.h"

namespace syndb::cli {

using namespace syndb::p2p;

namespace {
// Worker pool for blocking warehouse/metastore calls: threads, and jobs that
// may wait for one (beyond that a request is refused as busy).
constexpr size_t kWorkerThreads = 4;
constexpr size_t kWorkerQueue = 1024;
}  // namespace


Status load_node_config(const std::string& path, NodeOptions& o, const std::set<std::string>& given) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error(ErrorCode::kInvalidArgument, path + ": " + std::string(e.description()) + " (line " +
                                                  std::to_string(e.source().begin.line) + ")");
  }
  std::vector<std::string> unknown;
  auto str = [&](const char* key, std::string& out) {
    if (given.count(key)) return;
    if (auto v = t[key].value<std::string>()) out = *v;
  };
  auto list = [&](const char* key, std::vector<std::string>& out) {
    if (given.count(key)) return;
    if (auto* arr = t[key].as_array()) {
      out.clear();
      for (auto& e : *arr) {
        if (auto v = e.value<std::string>()) out.push_back(*v);
      }
    }
  };
  auto num = [&](const toml::node_view<toml::node>& node, const char* flag, auto& out) {
    if (given.count(flag)) return;
    if (auto v = node.value<int64_t>()) out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
  };
  str("key", o.key);
  list("listen", o.listen);
  str("data-dir", o.data_dir);
  if (auto v = t["data_dir"].value<std::string>(); v && !given.count("data-dir")) o.data_dir = *v;
  str("name", o.name);
  list("bootstrap", o.bootstrap);
  if (auto v = t["federation_file"].value<std::string>(); v && !given.count("federation-file")) o.federation_file = *v;
  if (auto v = t["federation_admin"].value<std::string>(); v && !given.count("federation-admin")) o.federation_admin = *v;
  if (auto v = t["mdns"].value<bool>(); v && !given.count("mdns")) o.mdns = *v;
  num(t["handshake_timeout_ms"], "handshake-timeout-ms", o.handshake_timeout_ms);
  num(t["request_timeout_ms"], "request-timeout-ms", o.request_timeout_ms);
  num(t["max_streams"], "max-streams", o.max_streams);
  if (auto v = t["flight_listen"].value<std::string>(); v && !given.count("flight-listen")) o.flight_listen = *v;
  if (auto v = t["memory_limit"].value<std::string>(); v && !given.count("memory-limit")) o.memory_limit = *v;
  num(t["fragment_timeout_ms"], "fragment-timeout-ms", o.fragment_timeout_ms);
  if (auto v = t["hub"]["flight_sql_listen"].value<std::string>(); v && !given.count("flight-sql-listen")) {
    o.flight_sql_listen = *v;
  }
  num(t["hub"]["statement_timeout_ms"], "statement-timeout-ms", o.statement_timeout_ms);
  if (auto v = t["hub"]["http_listen"].value<std::string>(); v && !given.count("http-listen")) o.http_listen = *v;
  num(t["health"]["interval_ms"], "health-interval-ms", o.health_interval_ms);
  num(t["health"]["timeout_ms"], "health-timeout-ms", o.health_timeout_ms);
  num(t["health"]["degraded_rtt_ms"], "degraded-rtt-ms", o.degraded_rtt_ms);
  num(t["health"]["unreachable_after"], "unreachable-after", o.unreachable_after);
  num(t["health"]["probe_backoff_ms"], "probe-backoff-ms", o.probe_backoff_ms);
  num(t["health"]["probe_backoff_max_ms"], "probe-backoff-max-ms", o.probe_backoff_max_ms);
  for (auto& [k, v] : t) {
    static const std::set<std::string> known = {
        "key", "listen", "data-dir", "data_dir", "name", "bootstrap", "federation_file", "federation_admin", "mdns",
        "handshake_timeout_ms", "request_timeout_ms", "max_streams", "hub", "health", "flight_listen",
        "memory_limit", "fragment_timeout_ms"};
    if (!known.count(std::string(k.str()))) unknown.push_back(std::string(k.str()));
  }
  if (!unknown.empty()) {
    std::string list_text;
    for (auto& u : unknown) list_text += (list_text.empty() ? "" : ", ") + u;
    return Error(ErrorCode::kInvalidArgument, path + ": unknown key(s): " + list_text);
  }
  return ok_status();
}

int run_node(NodeOptions o) {
  if (o.key.empty()) return fail("--key is required (or `key` in --config)", 2);
  std::vector<Multiaddr> listen;
  for (const auto& s : o.listen.empty() ? std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001"} : o.listen) {
    auto ma = Multiaddr::from_string(s);
    if (!ma.ok()) return fail("bad listen multiaddr '" + s + "': " + ma.error().message(), 2);
    listen.push_back(*ma);
  }
  std::vector<Multiaddr> bootstrap;
  for (const auto& s : o.bootstrap) {
    auto ma = Multiaddr::from_string(s);
    if (!ma.ok()) return fail("bad bootstrap multiaddr '" + s + "': " + ma.error().message(), 2);
    bootstrap.push_back(*ma);
  }
  if (o.hub && o.data_dir.empty()) return fail("a hub needs --data-dir", 2);
  auto key = load_key_file(o.key);
  if (!key.ok()) return fail(key.error().message());

  federation::Membership membership = federation::Membership::open_federation();
  if (!o.federation_file.empty()) {
    std::optional<PeerId> admin;
    if (!o.federation_admin.empty()) {
      auto id = PeerId::from_string(o.federation_admin);
      if (!id.ok()) return fail("bad --federation-admin: " + id.error().message(), 2);
      admin = *id;
    }
    auto m = federation::Membership::load(o.federation_file, admin);
    if (!m.ok()) return fail(m.error().message());
    membership = std::move(m).value();
  }

  std::unique_ptr<warehouse::Warehouse> wh;
  if (!o.data_dir.empty()) {
    // Sandboxed: the same database serves remote SQL (fragments, Flight SQL).
    warehouse::OpenOptions wo;
    wo.sandbox = true;
    wo.memory_limit = o.memory_limit;
    auto w = warehouse::open_duckdb(o.data_dir, wo);
    if (!w.ok()) return fail(w.error().message());
    int target = o.max_schema_version > 0 ? o.max_schema_version : warehouse::latest_schema_version();
    auto v = (*w)->migrate(target);
    if (!v.ok()) return fail(v.error().message());
    wh = std::move(w).value();
  }

  asio::io_context io(1);
  HostConfig cfg;
  cfg.handshake_timeout_ms = o.handshake_timeout_ms;
  cfg.yamux.max_streams = o.max_streams;
  Host host(io, std::move(key).value(), cfg);
  // Members (the federation file's PeerIds) get connection and memory budgets
  // of their own; everyone else shares the smaller strangers' budgets.
  host.set_peer_classifier([&membership](const PeerId& peer) { return membership.admits(peer); });
  IdentifyService identify(host);
  register_ping(host);
  register_perf(host);
  register_echo(host);
  for (const auto& ma : listen) {
    auto bound = host.listen(ma);
    if (!bound.ok()) return fail(bound.error().message());
  }

  // Data plane first: the node advertises its Flight endpoint when it registers.
  std::unique_ptr<flight::FragmentService> fragments;
  std::unique_ptr<flight::GrpcServer> flight_server;
  std::string flight_uri;
  if (wh && !o.flight_listen.empty()) {
    flight::FragmentServiceConfig fc;
    fc.timeout_ms = o.fragment_timeout_ms;
    fragments = std::make_unique<flight::FragmentService>(*wh, host.peer_id(), fc);
    auto server = flight::GrpcServer::start(o.flight_listen, {fragments.get()});
    if (!server.ok()) return fail("--flight-listen: " + server.error().message());
    flight_server = std::move(server).value();
    flight_uri = "grpc://" + o.flight_listen.substr(0, o.flight_listen.rfind(':')) + ":" +
                 std::to_string(flight_server->port());
  }

  // Warehouse and metastore calls from the network thread run here (issue 12).
  WorkerPool pool(kWorkerThreads, kWorkerQueue, "warehouse worker pool");
  std::unique_ptr<federation::NodeService> node;
  federation::Registry registry;
  std::unique_ptr<federation::Metastore> metastore;
  std::unique_ptr<federation::HubService> hub;
  std::unique_ptr<api::HttpApi> http;
  std::unique_ptr<query::FederatedEngine> engine;
  std::unique_ptr<flight::FlightSqlService> sql_service;
  std::unique_ptr<flight::GrpcServer> sql_server;
  std::unique_ptr<MdnsService> mdns;
  std::string name = o.name.empty() ? host.peer_id().to_string().substr(0, 16) : o.name;
  if (wh) {
    federation::NodeConfig nc;
    nc.name = name;
    nc.bootstrap = bootstrap;
    nc.request_timeout_ms = o.request_timeout_ms;
    nc.flight_endpoint = flight_uri;
    node = std::make_unique<federation::NodeService>(host, identify, *wh, membership, pool, nc);
    if (o.hub) {
      auto ms = federation::Metastore::open(o.data_dir + "/hub.sqlite");
      if (!ms.ok()) return fail(ms.error().message());
      metastore = std::move(ms).value();
      federation::HubConfig hc;
      hc.name = name;
      hc.request_timeout_ms = o.request_timeout_ms;
      hc.health = {o.health_interval_ms, o.health_timeout_ms, o.degraded_rtt_ms,
                   o.unreachable_after, o.probe_backoff_ms, o.probe_backoff_max_ms};
      hub = std::make_unique<federation::HubService>(host, *node, registry, metastore.get(), *wh, pool, hc);
    }
    node->start();
    if (hub) hub->start();
    if (o.mdns) {
      mdns = std::make_unique<MdnsService>(io, host.peer_id(), [&host] { return host.listen_addrs(); });
      mdns->on_peer([&node](const PeerId& peer, std::vector<Multiaddr> addrs) {
        spdlog::debug("mdns: discovered {} ({} addresses)", peer.to_string(), addrs.size());
        node->add_peer(peer, std::move(addrs));
      });
      Status st = mdns->start();
      if (!st.ok()) return fail("mdns: " + st.error().message());
    }
  } else if (!bootstrap.empty()) {
    return fail("--bootstrap needs --data-dir (the federation runs on top of the warehouse)", 2);
  }
  if (hub) {
    auto colon = o.http_listen.rfind(':');
    if (colon == std::string::npos) return fail("--http-listen wants host:port, got '" + o.http_listen + "'", 2);
    int port = 0;
    try {
      port = std::stoi(o.http_listen.substr(colon + 1));
    } catch (...) {
      return fail("--http-listen wants host:port, got '" + o.http_listen + "'", 2);
    }
    query::EngineConfig ec;
    ec.statement_timeout_ms = o.statement_timeout_ms;
    ec.ticket_timeout_ms = o.request_timeout_ms;
    ec.memory_limit = o.memory_limit;
    auto eng = query::FederatedEngine::create(
        registry, *wh,
        [&hub](const std::string& peer, const pb::GetFlightEndpoint& req, uint32_t timeout_ms) {
          return hub->flight_endpoint_blocking(peer, req, timeout_ms);
        },
        host.identity(), ec);
    if (!eng.ok()) return fail("query engine: " + eng.error().message());
    engine = std::move(eng).value();
    api::HubApiHooks hooks;
    hooks.hub_peer_id = host.peer_id().to_string();
    hooks.query = [&engine](const std::string& body, const std::string& accept) {
      return api::run_query(*engine, body, accept);
    };
    hooks.schema_sync = [&hub] { return hub->schema_sync_blocking(); };
    hooks.extra_metrics = [&host, &io, &pool] {
      // The resource manager lives on the network thread: read it there.
      auto promise = std::make_shared<std::promise<std::string>>();
      auto text = promise->get_future();
      asio::post(io, [promise, &host] { promise->set_value(host.resource_manager().metrics_text()); });
      std::string out = text.wait_for(std::chrono::seconds(1)) == std::future_status::ready ? text.get() : "";
      out += "# HELP syndb_worker_pool_jobs Warehouse/metastore jobs waiting for or running on the worker pool.\n"
             "# TYPE syndb_worker_pool_jobs gauge\n";
      out += "syndb_worker_pool_jobs{state=\"queued\"} " + std::to_string(pool.queued()) + "\n";
      out += "syndb_worker_pool_jobs{state=\"running\"} " + std::to_string(pool.running()) + "\n";
      return out;
    };
    http = std::make_unique<api::HttpApi>(registry, *metastore, hooks);
    auto bound = http->start(o.http_listen.substr(0, colon), static_cast<uint16_t>(port));
    if (!bound.ok()) return fail(bound.error().message());
    for (const auto& a : host.listen_addrs()) {
      std::printf("listening %s/p2p/%s\n", a.to_string().c_str(), host.peer_id().to_string().c_str());
    }
    std::printf("http http://%s:%u\n", o.http_listen.substr(0, colon).c_str(), *bound);
    if (!o.flight_sql_listen.empty()) {
      flight::FlightSqlConfig sc;
      sc.check_token = [ms = metastore.get()](const std::string& token) { return ms->check_token(token); };
      sc.server_version = "0.1.0";
      sql_service = std::make_unique<flight::FlightSqlService>(*engine, *wh, sc);
      auto server = flight::GrpcServer::start(o.flight_sql_listen, {sql_service.get()});
      if (!server.ok()) return fail("--flight-sql-listen: " + server.error().message());
      sql_server = std::move(server).value();
      std::printf("flight_sql grpc://%s:%u\n", o.flight_sql_listen.substr(0, o.flight_sql_listen.rfind(':')).c_str(),
                  sql_server->port());
    }
  } else {
    for (const auto& a : host.listen_addrs()) {
      std::printf("listening %s/p2p/%s\n", a.to_string().c_str(), host.peer_id().to_string().c_str());
    }
  }
  if (!flight_uri.empty()) std::printf("flight %s\n", flight_uri.c_str());
  std::fflush(stdout);
  spdlog::info("{} {} ready", o.hub ? "hub" : "node", host.peer_id().to_string());

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    if (mdns) mdns->stop();
    host.close();
    io.stop();
  });
  io.run();
  pool.stop();  // before the services its jobs use are destroyed
  if (http) http->stop();
  if (sql_server) sql_server->stop();
  if (flight_server) flight_server->stop();
  return 0;
}

}  // namespace syndb::cli
