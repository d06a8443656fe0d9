#include "federation/hub_service.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>

#include "common/clock.h"
#include "p2p/event.h"
#include "warehouse/schema.h"

namespace syndb::federation {

using namespace syndb::p2p;

namespace {

std::vector<DatasetEntry> to_entries(const pb::DatasetCatalog& cat) {
  std::vector<DatasetEntry> out;
  for (const auto& d : cat.datasets()) {
    DatasetEntry e;
    e.id = d.id();
    e.title = d.title();
    e.institution = d.institution();
    e.species = d.species();
    e.stage = d.stage();
    e.policy = d.policy();
    e.doi = d.doi();
    e.citation = d.citation();
    e.license = d.license();
    e.method = d.method();
    e.age_hours = d.age_hours();
    e.policy_k = d.policy_k();
    e.synapses = d.synapses();
    e.gap_junctions = d.gap_junctions();
    e.cells = d.cells();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

struct HubService::Actor {
  Actor(asio::io_context& io, std::string peer, HealthConfig health)
      : peer_id(std::move(peer)), tracker(health), wake(io.get_executor()) {}
  std::string peer_id, name;
  std::vector<Multiaddr> addrs;
  HealthTracker tracker;
  std::deque<Command> mailbox;
  Event wake;
  std::shared_ptr<Connection> conn;
  bool connecting = false, stopped = false;
  std::chrono::steady_clock::time_point next_catalog{};
  int64_t last_datasets = -1;
};

HubService::HubService(Host& host, NodeService& local_node, Registry& registry, Metastore* metastore,
                       warehouse::Warehouse& local_warehouse, WorkerPool& pool, HubConfig config)
    : host_(host), local_node_(local_node), registry_(registry), metastore_(metastore), warehouse_(local_warehouse),
      pool_(pool), config_(std::move(config)) {}

HubService::~HubService() {
  *alive_ = false;
  for (auto& [id, a] : actors_) {
    a->stopped = true;
    a->wake.notify_all();
  }
}

void HubService::start() {
  // The hub role is advertised through identify: a handler for the marker
  // protocol.
  host_.set_stream_handler(std::string(kHubProtocol),
                           [](NegotiatedStream ns) -> Task<void> { (void)co_await ns.stream->close_write(); });
  local_node_.set_register_handler(
      [this](const pb::Register& reg, const Connection& conn) { return on_register(reg, conn); });
  refresh_local();
}

void HubService::refresh_local() {
  auto cat = local_node_.catalog();
  pb::Register reg = local_node_.make_register();
  registry_.upsert(host_.peer_id().to_string(), [&](ClusterInfo& c) {
    c.name = config_.name;
    c.local = true;
    c.state = HealthState::kHealthy;
    c.addrs.clear();
    for (const auto& b : reg.listen_addrs()) {
      auto ma = Multiaddr::from_bytes(as_bytes(b));
      if (ma.ok()) c.addrs.push_back(ma->to_string() + "/p2p/" + host_.peer_id().to_string());
    }
    c.schema_version = reg.schema_version();
    c.flight_endpoint = reg.flight_endpoint();
    if (cat.ok()) c.datasets = to_entries(*cat);
    c.last_seen_unix_ms = unix_ms();
    if (c.registered_unix_ms == 0) c.registered_unix_ms = c.last_seen_unix_ms;
  });
  if (metastore_ && cat.ok()) (void)metastore_->index_datasets(host_.peer_id().to_string(), to_entries(*cat));
}

void HubService::metastore_write(std::function<Status(Metastore&)> write) {
  if (!metastore_) return;
  Metastore* ms = metastore_;
  asio::co_spawn(
      host_.io(),
      [](WorkerPool& pool, WorkerPool::Lane* lane, Metastore* ms,
         std::function<Status(Metastore&)> write) -> Task<void> {
        auto job = [ms, write] { return write(*ms); };
        Status st = co_await pool.run<Status>(std::move(job), lane);
        if (!st.ok()) spdlog::warn("metastore: {}", st.error().message());
      }(pool_, &metastore_lane_, ms, std::move(write)),
      asio::detached);
}

Task<pb::FederationResponse> HubService::on_register(const pb::Register& reg, const Connection& conn) {
  std::string peer = conn.remote_peer.to_string();
  std::vector<Multiaddr> addrs;
  for (const auto& b : reg.listen_addrs()) {
    auto ma = Multiaddr::from_bytes(as_bytes(b));
    if (ma.ok()) addrs.push_back(ma->encapsulate(*Multiaddr::from_string("/p2p/" + peer)));
  }
  registry_.upsert(peer, [&](ClusterInfo& c) {
    c.name = reg.name();
    c.addrs.clear();
    for (const auto& a : addrs) c.addrs.push_back(a.to_string());
    c.schema_version = reg.schema_version();
    c.flight_endpoint = reg.flight_endpoint();
    c.registered_unix_ms = unix_ms();
  });
  spdlog::info("hub: node '{}' ({}) registered, schema v{}", reg.name(), peer, reg.schema_version());
  auto it = actors_.find(peer);
  if (it == actors_.end()) {
    auto actor = std::make_shared<Actor>(host_.io(), peer, config_.health);
    actor->name = reg.name();
    actor->addrs = addrs;
    actors_[peer] = actor;
    // A new node gets the ontology before anything else: queued before the
    // actor starts (co_spawn may run it inline up to its first ping).
    post(*actor, [this](Actor& a) -> Task<void> {
      auto onto = co_await local_ontology();
      if (onto.ok() && onto->terms_size() > 0) {
        pb::FederationRequest req;
        *req.mutable_ontology_sync() = *onto;
        auto r = co_await call(a, req);
        if (!r.ok()) spdlog::warn("hub: ontology push to '{}' failed: {}", a.name, r.error().message());
      }
    });
    supervise(actor, 500);
  } else {
    it->second->name = reg.name();
    it->second->addrs = addrs;
    it->second->next_catalog = {};
    // A node that re-registers (e.g. after a restart) is probed at once
    // instead of waiting out the circuit breaker's backoff.
    post(*it->second, [this](Actor& a) -> Task<void> { co_await ping(a); });
  }
  pb::FederationResponse resp;
  auto* ack = resp.mutable_register_ack();
  ack->set_hub_name(config_.name);
  ack->set_hub_schema_version(warehouse::latest_schema_version());
  ack->set_health_interval_ms(config_.health.interval_ms);
  co_return resp;
}

void HubService::supervise(std::shared_ptr<Actor> actor, uint32_t backoff_ms) {
  auto alive = alive_;
  asio::co_spawn(host_.io(), run_actor(actor), [this, alive, actor, backoff_ms](std::exception_ptr e) {
    if (!*alive || actor->stopped) return;
    std::string why = "exited";
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        why = ex.what();
      }
    }
    spdlog::error("hub: actor for {} failed ({}); restarting in {} ms", actor->peer_id, why, backoff_ms);
    auto timer = std::make_shared<asio::steady_timer>(host_.io(), std::chrono::milliseconds(backoff_ms));
    timer->async_wait([this, alive, actor, backoff_ms, timer](const boost::system::error_code& ec) {
      if (!ec && *alive) supervise(actor, std::min<uint32_t>(backoff_ms * 2, 30'000));
    });
  });
}

void HubService::post(Actor& a, Command cmd) {
  a.mailbox.push_back(std::move(cmd));
  a.wake.notify_all();
}

Task<void> HubService::run_actor(std::shared_ptr<Actor> actor) {
  auto alive = alive_;
  Actor& a = *actor;
  asio::steady_timer tick(host_.io());
  auto next_ping = std::chrono::steady_clock::now();
  while (*alive && !a.stopped) {
    while (!a.mailbox.empty() && *alive) {
      Command cmd = std::move(a.mailbox.front());
      a.mailbox.pop_front();
      co_await cmd(a);
    }
    if (!*alive || a.stopped) break;
    if (std::chrono::steady_clock::now() >= next_ping) {
      co_await ping(a);
      if (!*alive) break;
      next_ping = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.tracker.next_delay_ms());
      continue;
    }
    // Sleep until the next ping or a new mailbox command.
    tick.expires_at(next_ping);
    auto alive2 = alive;
    tick.async_wait([actor, alive2](const boost::system::error_code& ec) {
      if (!ec && *alive2) actor->wake.notify_all();
    });
    if (a.mailbox.empty()) co_await a.wake.wait();
    tick.cancel();
  }
}

Task<Result<pb::FederationResponse>> HubService::call(Actor& a, const pb::FederationRequest& req_in,
                                                      uint32_t timeout_ms) {
  if (!a.conn || a.conn->closed()) {
    // The node's own connection to us (it registered over one) is the usual
    // case.
    auto peer = PeerId::from_string(a.peer_id);
    a.conn = peer.ok() ? host_.find_connection(*peer) : nullptr;
  }
  if (!a.conn) {
    // Dial in the background: a node that accepts TCP and then stalls must not
    // hold this actor longer than one request timeout.
    if (!a.connecting && !a.addrs.empty()) {
      a.connecting = true;
      auto alive = alive_;
      auto self = actors_[a.peer_id];
      asio::co_spawn(
          host_.io(),
          [this, alive, self]() -> Task<void> {
            const std::vector<Multiaddr> addrs = self->addrs;  // on_register may replace the list meanwhile
            for (const auto& addr : addrs) {
              auto c = co_await host_.connect(addr);
              if (!*alive) co_return;
              if (c.ok()) {
                self->conn = *c;
                break;
              }
            }
            self->connecting = false;
            self->wake.notify_all();
          },
          asio::detached);
    }
    co_return Error(ErrorCode::kIo, "not connected");
  }
  pb::FederationRequest req = req_in;
  req.set_version(kProtocolVersion);
  auto conn = a.conn;
  co_return co_await federation_call(host_, conn, req, timeout_ms ? timeout_ms : config_.request_timeout_ms);
}

void HubService::record(Actor& a, const Transition& t) {
  spdlog::info("hub: node '{}' {} -> {}: {}", a.name, health_state_name(t.from), health_state_name(t.to), t.reason);
  metastore_write([peer = a.peer_id, name = a.name, t, at = unix_ms()](Metastore& ms) {
    return ms.record_transition(peer, name, t.from, t.to, t.reason, at);
  });
}

Task<void> HubService::ping(Actor& a) {
  pb::FederationRequest req;
  req.mutable_health_ping()->set_nonce(static_cast<uint64_t>(unix_ms()));
  req.mutable_health_ping()->set_sent_unix_ms(unix_ms());
  auto start = std::chrono::steady_clock::now();
  auto resp = co_await call(a, req, config_.health.timeout_ms);
  auto rtt_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
  std::optional<Transition> t;
  if (resp.ok() && resp->has_health_pong()) {
    t = a.tracker.on_success(rtt_us);
    if (t) record(a, *t);  // audited before the registry shows the new state
    const auto& pong = resp->health_pong();
    registry_.upsert(a.peer_id, [&](ClusterInfo& c) {
      c.state = a.tracker.state();
      c.last_rtt_us = rtt_us;
      c.schema_version = pong.schema_version();
      c.last_seen_unix_ms = unix_ms();
      c.consecutive_failures = 0;
    });
    if (pong.datasets() != a.last_datasets || std::chrono::steady_clock::now() >= a.next_catalog) {
      a.last_datasets = pong.datasets();
      co_await refresh_catalog(a);
    }
  } else {
    std::string why = resp.ok() ? "unexpected response" : resp.error().message();
    t = a.tracker.on_failure(why);
    if (t) record(a, *t);
    registry_.upsert(a.peer_id, [&](ClusterInfo& c) {
      c.state = a.tracker.state();
      c.consecutive_failures = static_cast<int>(a.tracker.consecutive_failures());
    });
  }
}

Task<void> HubService::refresh_catalog(Actor& a) {
  pb::FederationRequest req;
  req.mutable_catalog();
  auto resp = co_await call(a, req);
  if (!resp.ok() || !resp->has_catalog()) {
    spdlog::debug("hub: catalogue of {}: {}", a.peer_id, resp.ok() ? "no catalogue" : resp.error().message());
    co_return;
  }
  auto entries = to_entries(resp->catalog());
  registry_.upsert(a.peer_id, [&](ClusterInfo& c) {
    c.datasets = entries;
    c.schema_version = resp->catalog().schema_version();
  });
  metastore_write([peer = a.peer_id, entries](Metastore& ms) { return ms.index_datasets(peer, entries); });
  a.next_catalog = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.catalog_refresh_ms);
}

Task<Result<pb::OntologySync>> HubService::local_ontology() {
  warehouse::Warehouse* w = &warehouse_;
  co_return co_await pool_.run<Result<pb::OntologySync>>([w]() -> Result<pb::OntologySync> {
    SYNDB_ASSIGN_OR_RETURN(auto conn, w->connect(false));
    SYNDB_ASSIGN_OR_RETURN(auto r, conn->query_text("SELECT id, label, parent_id, kind FROM "
                                                    "ontology_term ORDER BY id"));
    pb::OntologySync sync;
    for (const auto& row : r.rows) {
      auto* t = sync.add_terms();
      t->set_id(row[0].value_or(""));
      t->set_label(row[1].value_or(""));
      t->set_parent_id(row[2].value_or(""));
      t->set_kind(row[3].value_or(""));
    }
    return sync;
  });
}

// Runs `make(actor)` through every reachable actor's mailbox and collects one
// JSON result per node.
Task<nlohmann::json> HubService::schema_sync_all() {
  nlohmann::json results = nlohmann::json::array();
  int latest = warehouse::latest_schema_version();
  auto snap = registry_.snapshot();
  struct Pending {
    std::string peer, name;
    int before;
    std::shared_ptr<std::optional<nlohmann::json>> result;
  };
  std::vector<Pending> pending;
  auto done = std::make_shared<Event>(host_.io().get_executor());
  for (const auto& c : snap->clusters) {
    if (c.local) {
      results.push_back({{"peer_id", c.peer_id},
                         {"name", c.name},
                         {"from", c.schema_version},
                         {"to", c.schema_version},
                         {"status", "local"}});
      continue;
    }
    if (c.state != HealthState::kHealthy && c.state != HealthState::kDegraded) {
      results.push_back({{"peer_id", c.peer_id},
                         {"name", c.name},
                         {"status", "skipped"},
                         {"reason", std::string("node is ") + health_state_name(c.state)}});
      continue;
    }
    if (c.schema_version >= latest) {
      results.push_back({{"peer_id", c.peer_id},
                         {"name", c.name},
                         {"from", c.schema_version},
                         {"to", c.schema_version},
                         {"status", "current"}});
      continue;
    }
    auto it = actors_.find(c.peer_id);
    if (it == actors_.end()) continue;
    Pending p{c.peer_id, c.name, c.schema_version, std::make_shared<std::optional<nlohmann::json>>()};
    pending.push_back(p);
    int from = c.schema_version;
    post(*it->second, [this, p, from, latest, done](Actor& a) -> Task<void> {
      pb::FederationRequest req;
      auto* sync = req.mutable_schema_sync();
      sync->set_target_version(latest);
      for (const auto& m : warehouse::migrations()) {
        if (m.version <= from) continue;
        auto* out = sync->add_migrations();
        out->set_version(m.version);
        out->set_description(m.description);
        out->set_sql(m.sql);
      }
      auto resp = co_await call(a, req);
      nlohmann::json r = {{"peer_id", p.peer}, {"name", p.name}, {"from", from}};
      if (!resp.ok()) {
        r["status"] = "failed";
        r["error"] = resp.error().message();
      } else {
        const auto& res = resp->schema_sync_result();
        r["to"] = res.schema_version();
        r["status"] = res.error().empty() ? "synced" : "failed";
        if (!res.error().empty()) r["error"] = res.error();
        registry_.upsert(p.peer, [&](ClusterInfo& c) { c.schema_version = res.schema_version(); });
      }
      *p.result = r;
      done->notify_all();
    });
  }
  for (auto& p : pending) {
    while (!*p.result) co_await done->wait();
    results.push_back(**p.result);
  }
  co_return nlohmann::json{{"target_version", latest}, {"nodes", results}};
}

Task<nlohmann::json> HubService::ontology_sync_all() {
  auto onto = co_await local_ontology();
  if (!onto.ok()) co_return nlohmann::json{{"error", onto.error().message()}};
  int sent = 0;
  for (auto& [peer, actor] : actors_) {
    auto terms = *onto;
    post(*actor, [this, terms](Actor& a) -> Task<void> {
      pb::FederationRequest req;
      *req.mutable_ontology_sync() = terms;
      (void)co_await call(a, req);
    });
    ++sent;
  }
  co_return nlohmann::json{{"terms", onto->terms_size()}, {"nodes", sent}};
}

nlohmann::json HubService::schema_sync_blocking(uint32_t timeout_ms) {
  auto promise = std::make_shared<std::promise<nlohmann::json>>();
  auto future = promise->get_future();
  auto alive = alive_;
  asio::post(host_.io(), [this, alive, promise] {
    if (!*alive) return;
    asio::co_spawn(
        host_.io(), [this, promise]() -> Task<void> { promise->set_value(co_await schema_sync_all()); },
        asio::detached);
  });
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return nlohmann::json{{"error", "schema sync did not finish within " + std::to_string(timeout_ms) + " ms"}};
  }
  return future.get();
}

}  // namespace syndb::federation

namespace syndb::federation {

std::vector<Result<pb::FlightEndpoint>> HubService::flight_endpoints_blocking(
    const std::vector<std::pair<std::string, pb::GetFlightEndpoint>>& requests, uint32_t timeout_ms) {
  using Reply = Result<pb::FlightEndpoint>;
  const std::string self = host_.peer_id().to_string();
  std::vector<std::future<Reply>> remote(requests.size());
  // Every remote request starts now, on the network thread, side by side.
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].first == self) continue;
    auto promise = std::make_shared<std::promise<Reply>>();
    remote[i] = promise->get_future();
    auto alive = alive_;
    asio::post(host_.io(), [this, alive, promise, peer_id = requests[i].first, req = requests[i].second, timeout_ms] {
      if (!*alive) {
        promise->set_value(Error(ErrorCode::kClosed, "hub is shutting down"));
        return;
      }
      auto it = actors_.find(peer_id);
      if (it == actors_.end()) {
        promise->set_value(Error(ErrorCode::kNotFound, "node " + peer_id + " is not registered"));
        return;
      }
      asio::co_spawn(host_.io(), fetch_endpoint(it->second, req, timeout_ms, promise), asio::detached);
    });
  }
  std::vector<Reply> out;
  out.reserve(requests.size());
  // The hub's own node answers on this (non-network) thread meanwhile:
  // mint_ticket may run the fragment once for a policy check.
  for (const auto& [peer, req] : requests) {
    out.push_back(peer == self ? local_node_.mint_ticket(req, host_.peer_id(), true)
                               : Reply(Error(ErrorCode::kInternal, "pending")));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms + 500);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!remote[i].valid()) continue;
    if (remote[i].wait_until(deadline) != std::future_status::ready) {
      out[i] =
          Error(ErrorCode::kTimeout, "GetFlightEndpoint did not finish within " + std::to_string(timeout_ms) + " ms");
    } else {
      out[i] = remote[i].get();
    }
  }
  return out;
}

Result<pb::FlightEndpoint> HubService::flight_endpoint_blocking(const std::string& peer_id,
                                                                const pb::GetFlightEndpoint& req, uint32_t timeout_ms) {
  return std::move(flight_endpoints_blocking({{peer_id, req}}, timeout_ms).front());
}

Task<void> HubService::fetch_endpoint(std::shared_ptr<Actor> actor, pb::GetFlightEndpoint req, uint32_t timeout_ms,
                                      std::shared_ptr<std::promise<Result<pb::FlightEndpoint>>> promise) {
  pb::FederationRequest freq;
  *freq.mutable_get_flight_endpoint() = req;
  auto resp = co_await call(*actor, freq, timeout_ms);
  if (!resp.ok()) {
    promise->set_value(resp.error());
  } else if (!resp->has_flight_endpoint()) {
    promise->set_value(Error(ErrorCode::kProtocol, "node answered GetFlightEndpoint without an endpoint"));
  } else {
    promise->set_value(resp->flight_endpoint());
  }
}

}  // namespace syndb::federation
