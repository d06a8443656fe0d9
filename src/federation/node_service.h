// NodeService: the node side of the federation control plane (the seeds'
// ClusterActor). It answers hubs' requests over /syndb/federation/1.0.0
// (HealthPing, SchemaSync, DatasetCatalogRequest, GetFlightEndpoint,
// OntologySync; AnalyticsQuery answers "unsupported"), keeps connections to
// its bootstrap peers, and registers with every hub it meets (a peer whose
// identify lists /syndb/hub/1.0.0), again after every reconnect.
// Runs on the host's io_context and never blocks it: every warehouse call
// runs on the WorkerPool (writes — SchemaSync, OntologySync — one at a time
// on one lane), and HealthPing answers from a status cache that the pool
// refreshes (at most kStatusMaxAgeMs old), so a node busy with a long query
// or policy check still answers pings on time.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/worker_pool.h"
#include "federation/membership.h"
#include "federation/protocol.h"
#include "p2p/identify/identify.h"
#include "warehouse/warehouse.h"

namespace syndb::federation {

struct NodeConfig {
  std::string name;                         // shown by hubs
  std::vector<p2p::Multiaddr> bootstrap;    // peers (hubs) to keep connected to
  std::string flight_endpoint;              // grpc://host:port, when the data plane runs
  uint32_t request_timeout_ms = 5000;
  uint32_t redial_ms = 1000;                // bootstrap redial interval, doubled up to 30 s
  uint32_t ticket_ttl_ms = 60'000;          // lifetime of data-plane tickets
};

class NodeService {
 public:
  using RegisterHandler =
      std::function<p2p::Task<pb::FederationResponse>(const pb::Register&, const p2p::Connection&)>;

  // Age after which a HealthPing triggers a refresh of the status cache (ms).
  static constexpr int64_t kStatusMaxAgeMs = 1000;

  // `pool` runs the warehouse calls; it must be stopped before this service
  // and `warehouse` are destroyed (WorkerPool's ownership rule).
  NodeService(p2p::Host& host, p2p::IdentifyService& identify, warehouse::Warehouse& warehouse,
              const Membership& membership, WorkerPool& pool, NodeConfig config);
  ~NodeService();
  // Reads the status cache once (blocking: call before the io_context runs),
  // serves the protocol, dials the bootstrap peers, registers with hubs.
  void start();
  // Dials `addr` and keeps it connected (bootstrap peers).
  void add_peer(const p2p::Multiaddr& addr);
  // Keeps a discovered peer (mDNS) connected, trying its addresses in order;
  // a later call for the same peer replaces its addresses.
  void add_peer(const p2p::PeerId& peer, std::vector<p2p::Multiaddr> addrs);
  // Installed by a HubService in the same process: Register requests go there.
  void set_register_handler(RegisterHandler handler) { register_handler_ = std::move(handler); }
  // Hubs this node has registered with (PeerIds), for status output and tests.
  const std::set<std::string>& hubs() const { return hubs_; }

  // The Register message this node sends (also used by a hub for itself).
  pb::Register make_register() const;
  // Catalogue of the local warehouse, read on a connection of its own.
  // Blocking: call it from a pool thread or before the io_context runs.
  Result<pb::DatasetCatalog> catalog();
  // The same, run on the worker pool.
  p2p::Task<Result<pb::DatasetCatalog>> catalog_async();
  // GetFlightEndpoint: checks the fragment (one SELECT this warehouse can
  // prepare), applies the datasets' policies (federation/policy.h) and signs
  // a ticket for the narrowed SQL, redeemable by `requester` only
  // (flight/ticket.h). A hub calls it directly for its own node.
  // Errors: kUnsupported (no Flight endpoint), kInvalidArgument /
  // kPermissionDenied for the SQL or a policy.
  Result<pb::FlightEndpoint> mint_ticket(const pb::GetFlightEndpoint& req, const p2p::PeerId& requester,
                                         bool admitted);

 private:
  p2p::Task<pb::FederationResponse> handle(const pb::FederationRequest& req, const p2p::Connection& conn);
  pb::FederationResponse health_pong(const pb::HealthPing& ping);
  p2p::Task<pb::FederationResponse> on_schema_sync(pb::SchemaSync sync);
  p2p::Task<pb::FederationResponse> on_catalog();
  p2p::Task<pb::FederationResponse> on_get_flight_endpoint(pb::GetFlightEndpoint get, p2p::PeerId requester);
  p2p::Task<pb::FederationResponse> on_ontology_sync(pb::OntologySync sync);
  p2p::Task<void> keep_connected(std::string key);
  p2p::Task<void> register_with(std::shared_ptr<p2p::Connection> conn);
  pb::SchemaSyncResult apply_schema(const pb::SchemaSync& sync);
  pb::OntologySyncResult apply_ontology(const pb::OntologySync& sync, std::string* error);
  // What HealthPing and Register report without touching the warehouse.
  struct StatusCache {
    int schema_version = 0;
    int64_t datasets = 0;
    int64_t read_unix_ms = 0;
  };
  static Result<StatusCache> read_status(warehouse::Warehouse& w);
  p2p::Task<void> refresh_status();

  p2p::Host& host_;
  p2p::IdentifyService& identify_;
  warehouse::Warehouse& warehouse_;
  const Membership& membership_;
  WorkerPool& pool_;
  WorkerPool::Lane write_lane_;  // warehouse_'s own connection: SchemaSync, OntologySync, status reads
  StatusCache status_;
  bool status_refreshing_ = false;
  NodeConfig config_;
  RegisterHandler register_handler_;
  std::set<std::string> hubs_;
  std::map<std::string, std::vector<p2p::Multiaddr>> dialing_;  // key (peer or address) → addresses
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndb::federation
