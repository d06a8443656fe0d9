#include "runtime/node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>

#include "api/http_api.h"
#include "api/query_api.h"
#include "common/worker_pool.h"
#include "federation/hub_service.h"
#include "federation/metastore.h"
#include "federation/node_service.h"
#include "federation/registry.h"
#include "flight/fragment_service.h"
#include "flight/server.h"
#include "flight/sql_service.h"
#include "p2p/echo/echo.h"
#include "p2p/host/host.h"
#include "p2p/identify/identify.h"
#include "p2p/mdns/mdns.h"
#include "p2p/perf/perf.h"
#include "p2p/ping/ping.h"
#include "query/federated_engine.h"
#include "warehouse/schema.h"
#include "warehouse/warehouse.h"

namespace syndb::runtime {

namespace asio = boost::asio;
using p2p::Multiaddr;
using p2p::PeerId;

// Members in construction order; run() stops the pool and servers, and
// destruction runs in reverse, so every service outlives what it serves.
struct Node::Impl {
  explicit Impl(NodeSettings s) : settings(std::move(s)) {}
  NodeSettings settings;
  std::unique_ptr<warehouse::Warehouse> wh;
  asio::io_context io{1};
  std::unique_ptr<p2p::Host> host;
  std::unique_ptr<p2p::IdentifyService> identify;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<flight::FragmentService> fragments;
  std::unique_ptr<flight::GrpcServer> flight_server;
  std::string flight_uri;
  std::unique_ptr<federation::NodeService> node;
  federation::Registry registry;
  std::unique_ptr<federation::Metastore> metastore;
  std::unique_ptr<federation::HubService> hub;
  std::unique_ptr<query::FederatedEngine> engine;
  std::unique_ptr<api::HttpApi> http;
  uint16_t http_port = 0;
  std::unique_ptr<flight::FlightSqlService> sql_service;
  std::unique_ptr<flight::GrpcServer> sql_server;
  std::unique_ptr<p2p::MdnsService> mdns;
  bool stopped = false;

  Status open_warehouse();
  Status start_host();
  Status start_data_plane();
  Status start_federation();
  Status start_hub();
  std::string metrics_text();
  void shutdown();
};

Status Node::Impl::open_warehouse() {
  if (settings.data_dir.empty()) return ok_status();
  // Sandboxed: the same database serves remote SQL (fragments, Flight SQL).
  warehouse::OpenOptions wo;
  wo.sandbox = true;
  wo.memory_limit = settings.memory_limit;
  SYNDB_ASSIGN_OR_RETURN(wh, warehouse::open_duckdb(settings.data_dir, wo));
  const int target = settings.max_schema_version > 0 ? settings.max_schema_version : warehouse::latest_schema_version();
  SYNDB_RETURN_IF_ERROR(wh->migrate(target));
  return ok_status();
}

Status Node::Impl::start_host() {
  p2p::HostConfig cfg;
  cfg.handshake_timeout_ms = settings.handshake_timeout_ms;
  cfg.yamux.max_streams = settings.max_streams;
  host = std::make_unique<p2p::Host>(io, settings.key, cfg);
  // Members (the federation file's PeerIds) get connection and memory budgets
  // of their own; everyone else shares the smaller strangers' budgets.
  host->set_peer_classifier([this](const PeerId& peer) { return settings.membership.admits(peer); });
  identify = std::make_unique<p2p::IdentifyService>(*host);
  p2p::register_ping(*host);
  p2p::register_perf(*host);
  p2p::register_echo(*host);
  for (const auto& ma : settings.listen) SYNDB_RETURN_IF_ERROR(host->listen(ma));
  pool = std::make_unique<WorkerPool>(settings.worker_threads, settings.worker_queue, "warehouse worker pool");
  return ok_status();
}

Status Node::Impl::start_data_plane() {
  // Before the federation: the node advertises its Flight endpoint when it registers.
  if (!wh || settings.flight_listen.empty()) return ok_status();
  flight::FragmentServiceConfig fc;
  fc.timeout_ms = settings.fragment_timeout_ms;
  fragments = std::make_unique<flight::FragmentService>(*wh, host->peer_id(), fc);
  auto server = flight::GrpcServer::start(settings.flight_listen, {fragments.get()});
  if (!server.ok()) return server.error().wrap("--flight-listen");
  flight_server = std::move(server).value();
  const auto& l = settings.flight_listen;
  flight_uri = "grpc://" + l.substr(0, l.rfind(':')) + ":" + std::to_string(flight_server->port());
  return ok_status();
}

Status Node::Impl::start_federation() {
  if (!wh) {
    if (!settings.bootstrap.empty()) {
      return Error(ErrorCode::kInvalidArgument, "--bootstrap needs --data-dir (the federation runs on the warehouse)");
    }
    return ok_status();
  }
  const std::string name = settings.name.empty() ? host->peer_id().to_string().substr(0, 16) : settings.name;
  federation::NodeConfig nc;
  nc.name = name;
  nc.bootstrap = settings.bootstrap;
  nc.request_timeout_ms = settings.request_timeout_ms;
  nc.flight_endpoint = flight_uri;
  node = std::make_unique<federation::NodeService>(*host, *identify, *wh, settings.membership, *pool, nc);
  if (settings.hub) {
    SYNDB_ASSIGN_OR_RETURN(metastore, federation::Metastore::open(settings.data_dir + "/hub.sqlite"));
    federation::HubConfig hc;
    hc.name = name;
    hc.request_timeout_ms = settings.request_timeout_ms;
    hc.health = settings.hub->health;
    hub = std::make_unique<federation::HubService>(*host, *node, registry, metastore.get(), *wh, *pool, hc);
  }
  node->start();
  if (hub) hub->start();
  if (settings.mdns) {
    mdns = std::make_unique<p2p::MdnsService>(io, host->peer_id(), [this] { return host->listen_addrs(); });
    mdns->on_peer([this](const PeerId& peer, std::vector<Multiaddr> addrs) {
      spdlog::debug("mdns: discovered {} ({} addresses)", peer.to_string(), addrs.size());
      node->add_peer(peer, std::move(addrs));
    });
    Status st = mdns->start();
    if (!st.ok()) return st.error().wrap("mdns");
  }
  return ok_status();
}

std::string Node::Impl::metrics_text() {
  // The resource manager lives on the network thread: read it there.
  auto promise = std::make_shared<std::promise<std::string>>();
  auto text = promise->get_future();
  p2p::Host* h = host.get();
  asio::post(io, [promise, h] { promise->set_value(h->resource_manager().metrics_text()); });
  std::string out = text.wait_for(std::chrono::seconds(1)) == std::future_status::ready ? text.get() : "";
  out +=
      "# HELP syndb_worker_pool_jobs Warehouse/metastore jobs waiting for or running on the worker pool.\n"
      "# TYPE syndb_worker_pool_jobs gauge\n";
  out += "syndb_worker_pool_jobs{state=\"queued\"} " + std::to_string(pool->queued()) + "\n";
  out += "syndb_worker_pool_jobs{state=\"running\"} " + std::to_string(pool->running()) + "\n";
  return out;
}

Status Node::Impl::start_hub() {
  if (!hub) return ok_status();
  const HubSettings& hs = *settings.hub;
  query::EngineConfig ec;
  ec.statement_timeout_ms = hs.statement_timeout_ms;
  ec.ticket_timeout_ms = settings.request_timeout_ms;
  ec.memory_limit = settings.memory_limit;
  federation::HubService* hub_service = hub.get();
  auto eng = query::FederatedEngine::create(
      registry, *wh,
      [hub_service](const std::vector<query::FederatedEngine::TicketRequest>& requests, uint32_t timeout_ms) {
        return hub_service->flight_endpoints_blocking(requests, timeout_ms);
      },
      host->identity(), ec);
  if (!eng.ok()) return eng.error().wrap("query engine");
  engine = std::move(eng).value();
  api::HubApiHooks hooks;
  hooks.hub_peer_id = host->peer_id().to_string();
  query::FederatedEngine* e = engine.get();
  hooks.query = [e](const std::string& body, const std::string& accept) { return api::run_query(*e, body, accept); };
  hooks.schema_sync = [hub_service] { return hub_service->schema_sync_blocking(); };
  hooks.extra_metrics = [this] { return metrics_text(); };
  http = std::make_unique<api::HttpApi>(registry, *metastore, hooks);
  SYNDB_ASSIGN_OR_RETURN(http_port, http->start(hs.http_host, hs.http_port));
  if (!hs.flight_sql_listen.empty()) {
    flight::FlightSqlConfig sc;
    sc.check_token = [ms = metastore.get()](const std::string& token) { return ms->check_token(token); };
    sc.server_version = "0.1.0";
    sql_service = std::make_unique<flight::FlightSqlService>(*engine, *wh, sc);
    auto server = flight::GrpcServer::start(hs.flight_sql_listen, {sql_service.get()});
    if (!server.ok()) return server.error().wrap("--flight-sql-listen");
    sql_server = std::move(server).value();
  }
  return ok_status();
}

void Node::Impl::shutdown() {
  if (stopped) return;
  stopped = true;
  if (pool) pool->stop();  // before the services its jobs use are destroyed
  if (http) http->stop();
  if (sql_server) sql_server->stop();
  if (flight_server) flight_server->stop();
}

Result<std::unique_ptr<Node>> Node::create(NodeSettings settings) {
  if (settings.hub && settings.data_dir.empty()) return Error(ErrorCode::kInvalidArgument, "a hub needs --data-dir");
  auto impl = std::make_unique<Impl>(std::move(settings));
  SYNDB_RETURN_IF_ERROR(impl->open_warehouse());
  SYNDB_RETURN_IF_ERROR(impl->start_host());
  SYNDB_RETURN_IF_ERROR(impl->start_data_plane());
  SYNDB_RETURN_IF_ERROR(impl->start_federation());
  SYNDB_RETURN_IF_ERROR(impl->start_hub());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (impl_) impl_->shutdown();
}

void Node::run() {
  impl_->io.run();
  impl_->shutdown();
}

void Node::stop() {
  Impl* im = impl_.get();
  asio::post(im->io, [im] {
    if (im->mdns) im->mdns->stop();
    im->host->close();
    im->io.stop();
  });
}

const PeerId& Node::peer_id() const { return impl_->host->peer_id(); }
std::vector<Multiaddr> Node::listen_addrs() const { return impl_->host->listen_addrs(); }
std::string Node::flight_uri() const { return impl_->flight_uri; }
uint16_t Node::http_port() const { return impl_->http_port; }
uint16_t Node::flight_sql_port() const { return impl_->sql_server ? impl_->sql_server->port() : 0; }
bool Node::is_hub() const { return impl_->hub != nullptr; }

}  // namespace syndb::runtime
