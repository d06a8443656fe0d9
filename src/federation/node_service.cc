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
                         const Membership& membership, NodeConfig config)
    : host_(host), identify_(identify), warehouse_(warehouse), membership_(membership), config_(std::move(config)) {}

NodeService::~NodeService() { *alive_ = false; }

void NodeService::start() {
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
    if (!conn || conn->session->closed()) {
      conn = nullptr;
      const std::vector<Multiaddr> addrs = dialing_[key];  // a copy: add_peer may replace the list meanwhile
      for (const auto& addr : addrs) {
        auto c = co_await host_.connect(addr);
        if (!*alive) co_return;
        if (c.ok()) {
          conn = *c;
          spdlog::info("connected to {}", addr.to_string());
          break;
        }
        spdlog::debug("dial {}: {}", addr.to_string(), c.error().message());
      }
      delay = conn ? config_.redial_ms : std::min<uint32_t>(delay * 2, 30'000);
    }
    timer.expires_after(std::chrono::milliseconds(conn && !conn->session->closed() ? config_.redial_ms : delay));
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
  auto v = warehouse_.schema_version();
  reg.set_schema_version(v.ok() ? *v : 0);
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
  spdlog::info("registered with hub {} ({})", resp->register_ack().hub_name(), hub);
}

Result<pb::DatasetCatalog> NodeService::catalog() {
  pb::DatasetCatalog cat;
  auto v = warehouse_.schema_version();
  cat.set_schema_version(v.ok() ? *v : 0);
  SYNDB_ASSIGN_OR_RETURN(auto list, warehouse::list_datasets(warehouse_));
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
  // Refuse now what the Flight service would refuse later: anything but one SELECT this warehouse can
  // prepare, and anything the datasets' policies forbid. The ticket carries the narrowed SQL.
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

Task<pb::FederationResponse> NodeService::handle(const pb::FederationRequest& req, const Connection& conn) {
  pb::FederationResponse resp;
  switch (req.body_case()) {
    case pb::FederationRequest::kRegister:
      if (register_handler_) co_return co_await register_handler_(req.register_(), conn);
      resp.set_unsupported(true);
      break;
    case pb::FederationRequest::kHealthPing: {
      auto* pong = resp.mutable_health_pong();
      pong->set_nonce(req.health_ping().nonce());
      auto v = warehouse_.schema_version();
      pong->set_schema_version(v.ok() ? *v : 0);
      auto n = warehouse_.query_text("SELECT count(*) FROM dataset");
      pong->set_datasets(n.ok() && !n->rows.empty() ? std::stoll(n->rows[0][0].value_or("0")) : 0);
      break;
    }
    case pb::FederationRequest::kSchemaSync:
      *resp.mutable_schema_sync_result() = apply_schema(req.schema_sync());
      break;
    case pb::FederationRequest::kCatalog: {
      auto cat = catalog();
      if (!cat.ok()) {
        resp.set_error(cat.error().message());
      } else {
        *resp.mutable_catalog() = *cat;
      }
      break;
    }
    case pb::FederationRequest::kGetFlightEndpoint:
      if (config_.flight_endpoint.empty()) {
        resp.set_unsupported(true);
      } else {
        auto ep = mint_ticket(req.get_flight_endpoint(), conn.remote_peer, membership_.admits(conn.remote_peer));
        if (ep.ok()) {
          *resp.mutable_flight_endpoint() = std::move(ep).value();
        } else {
          resp.set_error(ep.error().message());
        }
      }
      break;
    case pb::FederationRequest::kOntologySync: {
      std::string error;
      auto r = apply_ontology(req.ontology_sync(), &error);
      if (!error.empty()) {
        resp.set_error(error);
      } else {
        *resp.mutable_ontology_sync_result() = r;
      }
      break;
    }
    case pb::FederationRequest::kAnalyticsQuery:  // reserved
    default:
      resp.set_unsupported(true);
      break;
  }
  co_return resp;
}

}  // namespace syndb::federation
