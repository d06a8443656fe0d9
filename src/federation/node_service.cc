#include "federation/node_service.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "federation/policy.h"
#include "flight/ticket.h"
#include "p2p/transport/interfaces.h"
#include "warehouse/datasets.h"
#include "warehouse/sql.h"

namespace syndb::federation {

using namespace syndb::p2p;

namespace {

bool serves_hub(const IdentifyInfo& info) {
  return std::find(info.protocols.begin(), info.protocols.end(), kHubProtocol) != info.protocols.end();
}

}  // namespace

NodeService::NodeService(Host& host, IdentifyService& identify, warehouse::Warehouse& warehouse,
                         const Membership& membership, WorkerPool& pool, NodeConfig config)
    : host_(host), identify_(identify), warehouse_(warehouse), membership_(membership), pool_(pool),
      config_(std::move(config)) {}

NodeService::~NodeService() { *alive_ = false; }

Result<NodeService::StatusCache> NodeService::read_status(warehouse::Warehouse& w) {
  StatusCache st;
  SYNDB_ASSIGN_OR_RETURN(st.schema_version, w.schema_version());
  SYNDB_ASSIGN_OR_RETURN(auto n, w.query_text("SELECT count(*) FROM dataset"));
  st.datasets = n.rows.empty() ? 0 : std::stoll(n.rows[0][0].value_or("0"));
  st.read_unix_ms = unix_ms();
  return st;
}

Task<void> NodeService::refresh_status() {
  if (status_refreshing_) co_return;
  status_refreshing_ = true;
  auto alive = alive_;
  warehouse::Warehouse* w = &warehouse_;
  auto st = co_await pool_.run<Result<StatusCache>>([w] { return read_status(*w); }, &write_lane_);
  if (!*alive) co_return;
  status_refreshing_ = false;
  if (st.ok()) {
    status_ = *st;
  } else {
    spdlog::warn("node status: {}", st.error().message());
  }
}

void NodeService::start() {
  auto st = read_status(warehouse_);
  if (st.ok()) status_ = *st;
  serve_federation(
      host_, membership_, [this](const pb::FederationRequest& r, const Connection& c) { return handle(r, c); },
      config_.request_timeout_ms);
  auto alive = alive_;
  identify_.on_identified([this, alive](const std::shared_ptr<Connection>& conn, const IdentifyInfo& info) {
    if (!*alive || !serves_hub(info) || !membership_.admits(conn->remote_peer)) return;
    asio::co_spawn(host_.io(), register_with(conn), asio::detached);
  });
  for (const auto& addr : config_.bootstrap) add_peer(addr);
}

void NodeService::add_peer(const Multiaddr& addr) {
  if (auto peer = addr.peer_id()) host_.protect(*peer, "bootstrap");  // never pruned
  std::string key = addr.to_string();
  if (dialing_.count(key)) return;
  dialing_[key] = {addr};
  asio::co_spawn(host_.io(), keep_connected(key), asio::detached);
}

void NodeService::add_peer(const PeerId& peer, std::vector<Multiaddr> addrs) {
  if (peer == host_.peer_id() || addrs.empty()) return;
  std::string key = peer.to_string();
  for (auto& a : addrs) {
    if (!a.peer_id()) a = a.encapsulate(*Multiaddr::from_string("/p2p/" + key));
  }
  host_.peer_store().add_addrs(peer, addrs, AddrSource::kMdns, PeerStore::kDiscoveredTtl);
  bool known = dialing_.count(key) > 0;
  dialing_[key] = std::move(addrs);
  if (!known) asio::co_spawn(host_.io(), keep_connected(key), asio::detached);
}

Task<void> NodeService::keep_connected(std::string key) {
  auto alive = alive_;
  asio::steady_timer timer(host_.io());
  uint32_t delay = config_.redial_ms;
  std::shared_ptr<Connection> conn;
  while (*alive) {
    if (!conn || conn->closed()) {
      conn = nullptr;
      const std::vector<Multiaddr> addrs = dialing_[key];  // a copy: add_peer may replace the list meanwhile
      const auto peer = addrs.empty() ? std::nullopt : addrs.front().peer_id();
      Result<std::shared_ptr<Connection>> c = Error(ErrorCode::kNotFound, "no address");
      // A known peer: its addresses ranked and dialled concurrently; else the one address.
      // (GCC 12 miscompiles co_await inside ?:, hence the if/else.)
      if (peer) {
        c = co_await host_.dial_peer(*peer, addrs);
      } else if (!addrs.empty()) {
        c = co_await host_.connect(addrs.front());
      }
      if (!*alive) co_return;
      if (c.ok()) {
        conn = *c;
        spdlog::info("connected to {}/p2p/{}", conn->remote_addr.to_string(), conn->remote_peer.to_string());
      } else if (!addrs.empty()) {
        spdlog::debug("dial {}{}: {}", addrs.front().to_string(),
                      addrs.size() > 1 ? " (and " + std::to_string(addrs.size() - 1) + " more addresses)" : "",
                      c.error().message());
      }
      delay = conn ? config_.redial_ms : std::min<uint32_t>(delay * 2, 30'000);
    }
    timer.expires_after(std::chrono::milliseconds(conn && !conn->closed() ? config_.redial_ms : delay));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

pb::Register NodeService::make_register() const {
  pb::Register reg;
  reg.set_name(config_.name);
  for (const auto& listen : host_.listen_addrs()) {
    for (const auto& a : expand_unspecified(listen, true)) reg.add_listen_addrs(a.bytes().data(), a.bytes().size());
  }
  reg.set_schema_version(status_.schema_version);
  reg.set_flight_endpoint(config_.flight_endpoint);
  return reg;
}

Task<void> NodeService::register_with(std::shared_ptr<Connection> conn) {
  auto alive = alive_;
  pb::FederationRequest req;
  req.set_version(kProtocolVersion);
  *req.mutable_register_() = make_register();
  auto resp = co_await federation_call(host_, conn, req, config_.request_timeout_ms);
  if (!*alive) co_return;
  std::string hub = conn->remote_peer.to_string();
  if (!resp.ok()) {
    spdlog::warn("register with hub {} failed: {}", hub, resp.error().message());
    co_return;
  }
  hubs_.insert(hub);
  host_.protect(conn->remote_peer, "hub");
  spdlog::info("registered with hub {} ({})", resp->register_ack().hub_name(), hub);
}

Task<Result<pb::DatasetCatalog>> NodeService::catalog_async() {
  co_return co_await pool_.run<Result<pb::DatasetCatalog>>([this] { return catalog(); });
}

Result<pb::DatasetCatalog> NodeService::catalog() {
  pb::DatasetCatalog cat;
  SYNDB_ASSIGN_OR_RETURN(auto conn, warehouse_.connect(false));
  SYNDB_ASSIGN_OR_RETURN(int v, conn->schema_version());
  cat.set_schema_version(v);
  SYNDB_ASSIGN_OR_RETURN(auto list, warehouse::list_datasets(*conn));
  for (const auto& d : list) {
    auto* out = cat.add_datasets();
    out->set_id(d.meta.id);
    out->set_title(d.meta.title);
    out->set_institution(d.meta.institution);
    out->set_species(d.meta.species);
    out->set_stage(d.meta.stage);
    out->set_age_hours(d.meta.age_hours.value_or(0));
    out->set_policy(d.meta.policy);
    out->set_policy_k(d.meta.policy_k.value_or(0));
    out->set_synapses(d.synapses);
    out->set_gap_junctions(d.gap_junctions);
    out->set_cells(d.cells);
    out->set_doi(d.meta.doi);
    out->set_citation(d.meta.citation);
    out->set_license(d.meta.license);
    out->set_method(d.meta.method);
  }
  return cat;
}

pb::SchemaSyncResult NodeService::apply_schema(const pb::SchemaSync& sync) {
  pb::SchemaSyncResult result;
  for (const auto& m : sync.migrations()) {
    auto current = warehouse_.schema_version();
    if (!current.ok()) {
      result.set_error(current.error().message());
      break;
    }
    if (m.version() <= *current) continue;
    Status st = warehouse_.apply_migration(m.version(), m.description(), m.sql());
    if (!st.ok()) {
      result.set_error(st.error().message());
      break;
    }
    spdlog::info("schema: applied migration {} ({})", m.version(), m.description());
  }
  auto v = warehouse_.schema_version();
  result.set_schema_version(v.ok() ? *v : 0);
  return result;
}

pb::OntologySyncResult NodeService::apply_ontology(const pb::OntologySync& sync, std::string* error) {
  pb::OntologySyncResult result;
  std::vector<warehouse::OntologyTerm> terms;
  for (const auto& t : sync.terms()) terms.push_back({t.id(), t.label(), t.parent_id(), t.kind()});
  Status st = warehouse_.begin();
  if (st.ok()) st = warehouse::upsert_ontology(warehouse_, terms);
  if (st.ok()) st = warehouse_.commit();
  if (!st.ok()) {
    (void)warehouse_.rollback();
    *error = st.error().message();
    return result;
  }
  result.set_terms(sync.terms_size());
  return result;
}

Result<pb::FlightEndpoint> NodeService::mint_ticket(const pb::GetFlightEndpoint& req, const p2p::PeerId& requester,
                                                    bool admitted) {
  if (config_.flight_endpoint.empty()) return Error(ErrorCode::kUnsupported, "this node serves no Flight endpoint");
  if (req.sql().empty()) return Error(ErrorCode::kInvalidArgument, "GetFlightEndpoint needs the fragment SQL");
  // Refuse now what the Flight service would refuse later: anything but one
  // SELECT this warehouse can prepare, and anything the datasets' policies
  // forbid. The ticket carries the narrowed SQL.
  SYNDB_ASSIGN_OR_RETURN(auto check, warehouse_.connect(true));
  SYNDB_ASSIGN_OR_RETURN(std::string sql, apply_policy(*check, req.sql(), admitted));
  SYNDB_ASSIGN_OR_RETURN(auto schema, check->query_schema(sql));
  (void)schema;
  flight::FragmentTicket t;
  t.sql = sql;
  t.dataset = req.dataset_id();
  t.peer = requester.to_string();
  t.node = host_.peer_id().to_string();
  t.expires_unix_ms = unix_ms() + config_.ticket_ttl_ms;
  pb::FlightEndpoint ep;
  ep.set_uri(config_.flight_endpoint);
  ep.set_ticket(flight::mint_ticket(t, host_.identity()));
  ep.set_expires_unix_ms(t.expires_unix_ms);
  return ep;
}

// (One coroutine per request kind, called from an if-chain: GCC 12 destroys
// locals of a switch case twice when the case co_awaits.)
Task<pb::FederationResponse> NodeService::handle(const pb::FederationRequest& req, const Connection& conn) {
  using R = pb::FederationRequest;
  const auto kind = req.body_case();
  if (kind == R::kRegister && register_handler_) co_return co_await register_handler_(req.register_(), conn);
  if (kind == R::kHealthPing) co_return health_pong(req.health_ping());
  if (kind == R::kSchemaSync) co_return co_await on_schema_sync(req.schema_sync());
  if (kind == R::kCatalog) co_return co_await on_catalog();
  if (kind == R::kGetFlightEndpoint && !config_.flight_endpoint.empty()) {
    co_return co_await on_get_flight_endpoint(req.get_flight_endpoint(), conn.remote_peer);
  }
  if (kind == R::kOntologySync) co_return co_await on_ontology_sync(req.ontology_sync());
  pb::FederationResponse resp;  // AnalyticsQuery (reserved), a Register without
                                // a hub, unknown kinds
  resp.set_unsupported(true);
  co_return resp;
}

pb::FederationResponse NodeService::health_pong(const pb::HealthPing& ping) {
  // From the cache: a ping never waits for the warehouse.
  pb::FederationResponse resp;
  auto* pong = resp.mutable_health_pong();
  pong->set_nonce(ping.nonce());
  pong->set_schema_version(status_.schema_version);
  pong->set_datasets(status_.datasets);
  if (unix_ms() - status_.read_unix_ms > kStatusMaxAgeMs) asio::co_spawn(host_.io(), refresh_status(), asio::detached);
  return resp;
}

Task<pb::FederationResponse> NodeService::on_schema_sync(pb::SchemaSync sync) {
  auto alive = alive_;
  pb::FederationResponse resp;
  auto job = [this, sync] { return Result<pb::SchemaSyncResult>(apply_schema(sync)); };
  auto r = co_await pool_.run<Result<pb::SchemaSyncResult>>(std::move(job), &write_lane_);
  if (!r.ok()) {
    set_error(resp, r.error());
    co_return resp;
  }
  *resp.mutable_schema_sync_result() = *r;
  if (*alive) co_await refresh_status();
  co_return resp;
}

Task<pb::FederationResponse> NodeService::on_catalog() {
  pb::FederationResponse resp;
  auto cat = co_await catalog_async();
  if (cat.ok()) {
    *resp.mutable_catalog() = std::move(cat).value();
  } else {
    set_error(resp, cat.error());
  }
  co_return resp;
}

Task<pb::FederationResponse> NodeService::on_get_flight_endpoint(pb::GetFlightEndpoint get, PeerId requester) {
  // The policy check may run the fragment once (aggregate_only group sizes):
  // on the pool, on connections of its own.
  const bool admitted = membership_.admits(requester);
  pb::FederationResponse resp;
  auto job = [this, get, requester, admitted] { return mint_ticket(get, requester, admitted); };
  auto ep = co_await pool_.run<Result<pb::FlightEndpoint>>(std::move(job));
  if (ep.ok()) {
    *resp.mutable_flight_endpoint() = std::move(ep).value();
  } else {
    set_error(resp, ep.error());
  }
  co_return resp;
}

Task<pb::FederationResponse> NodeService::on_ontology_sync(pb::OntologySync sync) {
  pb::FederationResponse resp;
  auto job = [this, sync]() -> Result<pb::OntologySyncResult> {
    std::string error;
    auto result = apply_ontology(sync, &error);
    if (!error.empty()) return Error(ErrorCode::kInvalidArgument, error);
    return result;
  };
  auto r = co_await pool_.run<Result<pb::OntologySyncResult>>(std::move(job), &write_lane_);
  if (r.ok()) {
    *resp.mutable_ontology_sync_result() = *r;
  } else {
    set_error(resp, r.error());
  }
  co_return resp;
}

}  // namespace syndb::federation
