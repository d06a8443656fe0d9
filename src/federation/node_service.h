// NodeService: the node side of the federation control plane (the seeds'
// ClusterActor). It answers hubs' requests over /syndb/federation/1.0.0
// (HealthPing, SchemaSync, DatasetCatalogRequest, GetFlightEndpoint,
// OntologySync; AnalyticsQuery answers "unsupported"), keeps connections to
// its bootstrap peers, and registers with every hub it meets (a peer whose
// identify lists /syndb/hub/1.0.0), again after every reconnect.
// Single-threaded: runs on the host's io_context.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

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

  NodeService(p2p::Host& host, p2p::IdentifyService& identify, warehouse::Warehouse& warehouse,
              const Membership& membership, NodeConfig config);
  ~NodeService();
  // Serves the protocol, dials the bootstrap peers, registers with hubs.
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
  // Catalogue of the local warehouse.
  Result<pb::DatasetCatalog> catalog();
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
  p2p::Task<void> keep_connected(std::string key);
  p2p::Task<void> register_with(std::shared_ptr<p2p::Connection> conn);
  pb::SchemaSyncResult apply_schema(const pb::SchemaSync& sync);
  pb::OntologySyncResult apply_ontology(const pb::OntologySync& sync, std::string* error);

  p2p::Host& host_;
  p2p::IdentifyService& identify_;
  warehouse::Warehouse& warehouse_;
  const Membership& membership_;
  NodeConfig config_;
  RegisterHandler register_handler_;
  std::set<std::string> hubs_;
  std::map<std::string, std::vector<p2p::Multiaddr>> dialing_;  // key (peer or address) → addresses
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndb::federation
