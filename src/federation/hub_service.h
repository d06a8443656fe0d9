// HubService: the coordinator half of a hub (the seeds' HubRegistryActor and
// FederationHealthMonitorActor). Nodes register over /syndb/federation/1.0.0;
// each registered node gets one actor: a coroutine with its own mailbox that
// pings it (HealthPing every HealthConfig::interval_ms, circuit breaker when
// Unreachable), refreshes its catalogue, and runs schema and ontology pushes.
// Actors share nothing but the Registry (lock-free snapshots) and the
// Metastore (health transitions for audit), and every request they make is
// bounded by a timeout, so a slow or stalled node delays only its own actor.
// A supervisor restarts an actor that fails, with backoff.
//
// Threading: actors run on the host's io_context and never block it: the
// metastore writes (audit, dataset index) run on the WorkerPool, in order on
// one lane, and the hub's ontology is read there; schema_sync_blocking() and
// flight_endpoint_blocking() may be called from another thread (the HTTP
// API, the query engine).
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "federation/health.h"
#include "federation/metastore.h"
#include "federation/node_service.h"
#include "federation/registry.h"

namespace syndb::federation {

struct HubConfig {
  std::string name;
  HealthConfig health;
  uint32_t request_timeout_ms = 5000;
  uint32_t catalog_refresh_ms = 15'000;
};

class HubService {
 public:
  // `pool` must be stopped before this service is destroyed (WorkerPool).
  HubService(p2p::Host& host, NodeService& local_node, Registry& registry, Metastore* metastore,
             warehouse::Warehouse& local_warehouse, WorkerPool& pool, HubConfig config);
  ~HubService();
  // Advertises /syndb/hub/1.0.0, accepts registrations, lists the hub's own node.
  void start();

  // Pushes pending migrations to every Healthy or Degraded node whose schema
  // is older than this build's; returns per-node results. Thread-safe; waits
  // at most timeout_ms.
  nlohmann::json schema_sync_blocking(uint32_t timeout_ms = 30'000);
  // Sends the hub's ontology terms to every reachable node (also done on registration).
  p2p::Task<nlohmann::json> ontology_sync_all();
  p2p::Task<nlohmann::json> schema_sync_all();

  // GetFlightEndpoint to the node `peer_id` (base58): a ticket for the
  // fragment `req.sql()`, redeemable by this hub's key. The hub's own node
  // answers in-process. Thread-safe (the request runs on the host's
  // io_context); waits at most timeout_ms.
  // Errors: kNotFound (not a registered node), kTimeout, the node's refusal
  // (kPermissionDenied / kInvalidArgument … as an Error with its message).
  // The same for many requests at once (node PeerId, fragment): remote ones
  // run side by side on the network thread, the hub's own on the caller's;
  // one result per request, in order; the whole batch within timeout_ms.
  std::vector<Result<pb::FlightEndpoint>> flight_endpoints_blocking(
      const std::vector<std::pair<std::string, pb::GetFlightEndpoint>>& requests, uint32_t timeout_ms);
  Result<pb::FlightEndpoint> flight_endpoint_blocking(const std::string& peer_id, const pb::GetFlightEndpoint& req,
                                                      uint32_t timeout_ms);

 private:
  struct Actor;
  using Command = std::function<p2p::Task<void>(Actor&)>;

  p2p::Task<pb::FederationResponse> on_register(const pb::Register& reg, const p2p::Connection& conn);
  void supervise(std::shared_ptr<Actor> actor, uint32_t restart_backoff_ms);
  p2p::Task<void> run_actor(std::shared_ptr<Actor> actor);
  p2p::Task<void> ping(Actor& a);
  p2p::Task<void> refresh_catalog(Actor& a);
  // Sends `req` to the actor's node; timeout_ms 0 = HubConfig::request_timeout_ms.
  p2p::Task<Result<pb::FederationResponse>> call(Actor& a, const pb::FederationRequest& req, uint32_t timeout_ms = 0);
  void post(Actor& a, Command cmd);
  p2p::Task<void> fetch_endpoint(std::shared_ptr<Actor> actor, pb::GetFlightEndpoint req, uint32_t timeout_ms,
                                 std::shared_ptr<std::promise<Result<pb::FlightEndpoint>>> promise);
  void record(Actor& a, const Transition& t);
  void refresh_local();
  // Runs `write` on the metastore lane, in order, without waiting for it.
  void metastore_write(std::function<Status(Metastore&)> write);
  p2p::Task<Result<pb::OntologySync>> local_ontology();

  p2p::Host& host_;
  NodeService& local_node_;
  Registry& registry_;
  Metastore* metastore_;
  warehouse::Warehouse& warehouse_;
  WorkerPool& pool_;
  WorkerPool::Lane metastore_lane_;
  HubConfig config_;
  std::map<std::string, std::shared_ptr<Actor>> actors_;  // by PeerId
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndb::federation
