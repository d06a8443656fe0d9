#include "query/federated_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "arrow/schema.h"
#include "flight/client.h"
#include "flight/server.h"
#include "query/planner.h"
#include "warehouse/schema.h"
#include "warehouse/sql.h"

namespace syndb::query {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Record batches of one table from several producers (Flight fetches), read
// by DuckDB through the Arrow C stream interface. Bounded: producers wait
// while `capacity` batches are queued, so the hub never holds a whole table.
class UnionQueue {
 public:
  UnionQueue(arrow::Schema schema, size_t capacity, int producers)
      : schema_(std::move(schema)), capacity_(capacity), producers_(producers) {
    stream_.get_schema = &get_schema;
    stream_.get_next = &get_next;
    stream_.get_last_error = &get_last_error;
    stream_.release = [](ArrowArrayStream* s) { s->release = nullptr; };
    stream_.private_data = this;
  }
  ArrowArrayStream* stream() { return &stream_; }
  const arrow::Schema& schema() const { return schema_; }

  // False when the consumer is gone (the producer should stop).
  bool push(OwnedArrowArray batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return cancelled_ || queue_.size() < capacity_; });
    if (cancelled_) return false;
    queue_.push_back(std::move(batch));
    cv_.notify_all();
    return true;
  }
  void producer_done() {
    std::lock_guard lock(mu_);
    --producers_;
    cv_.notify_all();
  }
  void fail(const std::string& message) {
    std::lock_guard lock(mu_);
    if (error_.empty()) error_ = message;
    cv_.notify_all();
  }
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    queue_.clear();
    cv_.notify_all();
  }

 private:
  static UnionQueue* self(ArrowArrayStream* s) { return static_cast<UnionQueue*>(s->private_data); }
  static int get_schema(ArrowArrayStream* s, ArrowSchema* out) {
    return arrow::export_schema(self(s)->schema_, out).ok() ? 0 : EINVAL;
  }
  static int get_next(ArrowArrayStream* s, ArrowArray* out) {
    UnionQueue* q = self(s);
    std::unique_lock lock(q->mu_);
    q->cv_.wait(lock, [&] { return !q->error_.empty() || !q->queue_.empty() || q->producers_ == 0 || q->cancelled_; });
    if (!q->error_.empty()) return EIO;
    if (q->queue_.empty()) {
      out->release = nullptr;  // end of stream
      return 0;
    }
    *out = *q->queue_.front().get();
    q->queue_.front().get()->release = nullptr;
    q->queue_.pop_front();
    q->cv_.notify_all();
    return 0;
  }
  static const char* get_last_error(ArrowArrayStream* s) {
    UnionQueue* q = self(s);
    std::lock_guard lock(q->mu_);
    q->last_error_ = q->error_;
    return q->last_error_.c_str();
  }

  arrow::Schema schema_;
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<OwnedArrowArray> queue_;
  int producers_;
  bool cancelled_ = false;
  std::string error_, last_error_;
  ArrowArrayStream stream_{};
};

bool same_types(const arrow::Schema& a, const arrow::Schema& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (arrow::type_name(a.fields[i].type) != arrow::type_name(b.fields[i].type)) return false;
  }
  return true;
}

bool unreachable(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kTimeout:
    case ErrorCode::kIo:
    case ErrorCode::kClosed:
    case ErrorCode::kReset:
    case ErrorCode::kNotFound:
      return true;
    default:
      return false;
  }
}

std::string random_hex() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

json Provenance::to_json() const {
  json j;
  j["complete"] = complete;
  j["partial_aggregate"] = partial_aggregate;
  j["ms"] = ms;
  j["nodes"] = json::array();
  for (const auto& n : nodes) {
    j["nodes"].push_back({{"peer_id", n.peer_id},
                          {"name", n.name},
                          {"datasets", n.datasets},
                          {"rows", n.rows},
                          {"bytes", n.bytes},
                          {"ms", n.ms}});
  }
  j["datasets"] = json::array();
  for (const auto& d : datasets) {
    j["datasets"].push_back({{"id", d.id},
                             {"title", d.title},
                             {"institution", d.institution},
                             {"stage", d.stage},
                             {"citation", d.citation},
                             {"doi", d.doi},
                             {"license", d.license},
                             {"policy", d.policy}});
  }
  j["missing"] = json::array();
  for (const auto& m : missing) {
    j["missing"].push_back(
        {{"peer_id", m.peer_id}, {"name", m.name}, {"state", m.state}, {"reason", m.reason}, {"datasets", m.datasets}});
  }
  j["fragments"] = fragments;
  return j;
}

// Plans of recent statements. An entry is used by one running query at a
// time (its view names are that query's) and comes back when the query's
// views are dropped: Flight SQL plans a statement in GetFlightInfo and runs
// it in DoGet, and dashboards repeat theirs, so planning (≈ 2.5 ms: DuckDB's
// JSON parser and renderer) is mostly skipped.
class PlanCache {
 public:
  struct Entry {
    OwnedArrowSchema columns;
    Plan plan;
  };
  std::optional<Entry> take(const std::string& sql) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(sql);
    if (it == idle_.end()) return std::nullopt;
    Entry e = std::move(it->second);
    idle_.erase(it);
    return e;
  }
  void put(const std::string& sql, Entry e) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxEntries) idle_.emplace(sql, std::move(e));
  }

 private:
  static constexpr size_t kMaxEntries = 64;
  std::mutex mu_;
  std::multimap<std::string, Entry> idle_;
};

// A counting semaphore over fragment-stream threads, taken a query at a time.
class FetchSlots {
 public:
  explicit FetchSlots(size_t total) : free_(total), total_(total) {}
  // Takes n slots, waiting until `deadline`. Errors: kLimitExceeded (n > the
  // total), kTimeout.
  Status acquire(size_t n, Clock::time_point deadline) {
    if (n > total_) {
      return Error(ErrorCode::kLimitExceeded, "the query needs " + std::to_string(n) +
                                                  " fragment streams; the hub runs at most " + std::to_string(total_) +
                                                  " at once");
    }
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return free_ >= n; })) {
      return Error(ErrorCode::kTimeout, "the hub's fragment streams stayed busy until the statement timeout");
    }
    free_ -= n;
    return ok_status();
  }
  void release(size_t n) {
    {
      std::lock_guard lock(mu_);
      free_ += n;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t free_, total_;
};

struct FederatedEngine::Impl {
  const federation::Registry& registry;
  warehouse::Warehouse& hub;
  TicketSource tickets;
  p2p::Ed25519PrivateKey key;
  EngineConfig config;
  std::unique_ptr<warehouse::Warehouse> merge_db;  // in-memory DuckDB; connections per query
  std::mutex mu;                                   // guards the shared connections below
  std::unique_ptr<warehouse::Warehouse> hub_conn, parser;
  std::map<std::string, std::vector<std::string>> table_columns;
  std::set<std::string> aggregate_functions;
  std::shared_ptr<PlanCache> plans;
  std::shared_ptr<FetchSlots> slots;

  // The planner's input; *columns receives the result's schema (from the
  // hub warehouse, which has the SynDB tables).
  Result<PlannerInput> planner_input(const std::string& sql, OwnedArrowSchema* columns) {
    PlannerInput in;
    in.sql = sql;
    in.table_columns = table_columns;
    in.aggregate_functions = aggregate_functions;
    in.view_prefix = "syndb_q" + random_hex() + "_";
    std::lock_guard lock(mu);
    auto schema = hub_conn->query_schema(sql);
    if (!schema.ok()) return Error(ErrorCode::kInvalidArgument, schema.error().message());
    for (int64_t i = 0; i < schema->get()->n_children; ++i) in.output_names.push_back(schema->get()->children[i]->name);
    *columns = std::move(schema).value();
    return in;
  }

  // One Flight client (gRPC channel) per node endpoint, reused by every
  // query: a new channel costs a TCP and HTTP/2 handshake per fragment.
  std::mutex clients_mu;
  std::map<std::string, std::shared_ptr<flight::FlightClient>> clients;
  Result<std::shared_ptr<flight::FlightClient>> client(const std::string& uri) {
    std::lock_guard lock(clients_mu);
    auto it = clients.find(uri);
    if (it != clients.end()) return it->second;
    SYNDB_ASSIGN_OR_RETURN(auto c, flight::FlightClient::connect(uri));
    return clients[uri] = std::shared_ptr<flight::FlightClient>(std::move(c));
  }

  Result<Plan> plan(const PlannerInput& in) {
    std::lock_guard lock(mu);
    return plan_query(*parser, in);
  }
};

struct FederatedResult::State {
  std::unique_ptr<warehouse::Warehouse> merge, runner;  // views live on `merge`; the final query runs on `runner`
  std::vector<std::unique_ptr<UnionQueue>> queues;
  std::vector<std::thread> fetchers;
  std::shared_ptr<FetchSlots> slots;  // `held` of them taken for `fetchers`
  size_t held = 0;
  std::unique_ptr<flight::QueryDeadline> deadline;
  std::unique_ptr<warehouse::ArrowStream> stream;
  OwnedArrowSchema columns;                                  // the query's result columns (before json_rows)
  std::vector<std::unique_ptr<warehouse::ArrowView>> views;  // over the queues
  std::vector<std::string> drop;                             // tables to drop at the end
  // The plan goes back to the cache when every view and table it names is gone.
  std::shared_ptr<PlanCache> plans;
  std::string sql;
  Plan plan;
  Clock::time_point start;
  mutable std::mutex mu;
  Provenance provenance;

  ~State() {
    stream.reset();
    deadline.reset();
    for (auto& q : queues) q->cancel();
    for (auto& t : fetchers) t.join();
    if (slots && held) slots->release(held);
    bool clean = true;
    for (auto it = drop.rbegin(); it != drop.rend(); ++it) {
      Status st = merge->execute(*it);
      if (!st.ok()) spdlog::warn("query: cleanup: {}", st.error().message());
      clean = clean && st.ok();
    }
    views.clear();
    if (plans && clean) plans->put(sql, {std::move(columns), std::move(plan)});
  }
};

FederatedResult::FederatedResult(std::unique_ptr<State> state) : state_(std::move(state)) {}
FederatedResult::~FederatedResult() = default;
const ArrowSchema& FederatedResult::schema() const { return state_->stream->schema(); }
const ArrowSchema& FederatedResult::columns() const { return *state_->columns.get(); }

Result<bool> FederatedResult::next(OwnedArrowArray* out) {
  auto r = state_->stream->next(out);
  if (!r.ok() && state_->deadline && state_->deadline->expired()) {
    return Error(ErrorCode::kTimeout, "the federated query ran longer than its statement timeout");
  }
  if (r.ok() && !*r) {
    std::lock_guard lock(state_->mu);
    state_->provenance.ms = ms_since(state_->start);
  }
  return r;
}

Provenance FederatedResult::provenance() const {
  std::lock_guard lock(state_->mu);
  return state_->provenance;
}

FederatedEngine::FederatedEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FederatedEngine::~FederatedEngine() = default;

Result<std::unique_ptr<FederatedEngine>> FederatedEngine::create(const federation::Registry& registry,
                                                                 warehouse::Warehouse& hub_warehouse,
                                                                 TicketSource tickets,
                                                                 const p2p::Ed25519PrivateKey& key,
                                                                 EngineConfig config) {
  warehouse::OpenOptions o;
  o.sandbox = true;
  o.memory_limit = config.memory_limit;
  // One thread: the query's own. A fragment scan blocks while it waits for
  // batches; with worker threads DuckDB's client thread busy-polls for tasks
  // meanwhile, taking a core from the nodes (measured: ~0.4 s CPU per query).
  o.threads = 1;
  SYNDB_ASSIGN_OR_RETURN(auto merge, warehouse::open_duckdb(":memory:", o));
  auto impl = std::unique_ptr<Impl>(new Impl{registry,
                                             hub_warehouse,
                                             std::move(tickets),
                                             key,
                                             std::move(config),
                                             std::move(merge),
                                             {},
                                             {},
                                             {},
                                             {},
                                             {},
                                             std::make_shared<PlanCache>(),
                                             {},
                                             {},
                                             {}});
  impl->slots = std::make_shared<FetchSlots>(std::max<size_t>(impl->config.max_fetch_threads, 1));
  SYNDB_ASSIGN_OR_RETURN(impl->hub_conn, hub_warehouse.connect(true));
  SYNDB_ASSIGN_OR_RETURN(impl->parser, impl->merge_db->connect(true));
  for (const auto& t : warehouse::data_tables()) {
    SYNDB_ASSIGN_OR_RETURN(auto s, impl->hub_conn->query_schema(std::string("SELECT * FROM ") + t.name));
    auto& cols = impl->table_columns[t.name];
    for (int64_t i = 0; i < s->n_children; ++i) cols.push_back(s->children[i]->name);
  }
  SYNDB_ASSIGN_OR_RETURN(auto aggs, impl->parser->query_text("SELECT DISTINCT function_name FROM duckdb_functions() "
                                                             "WHERE function_type = 'aggregate'"));
  for (const auto& r : aggs.rows) impl->aggregate_functions.insert(r[0].value_or(""));
  return std::unique_ptr<FederatedEngine>(new FederatedEngine(std::move(impl)));
}

Result<OwnedArrowSchema> FederatedEngine::schema(const std::string& sql) {
  // Validates the query (the result types are the hub schema's) and keeps
  // the plan for the run that usually follows.
  OwnedArrowSchema columns, copy;
  SYNDB_ASSIGN_OR_RETURN(auto in, impl_->planner_input(sql, &columns));
  SYNDB_ASSIGN_OR_RETURN(auto plan, impl_->plan(in));
  SYNDB_ASSIGN_OR_RETURN(auto fields, arrow::import_schema(*columns.get()));
  SYNDB_RETURN_IF_ERROR(arrow::export_schema(fields, copy.get()));
  impl_->plans->put(sql, {std::move(copy), std::move(plan)});
  return columns;
}

Result<std::unique_ptr<warehouse::ArrowStream>> FederatedEngine::execute(const std::string& sql) {
  SYNDB_ASSIGN_OR_RETURN(auto r, run(sql, {}));
  return std::unique_ptr<warehouse::ArrowStream>(std::move(r));
}

std::string FederatedEngine::trailing_app_metadata(const warehouse::ArrowStream& stream) const {
  return static_cast<const FederatedResult&>(stream).provenance().to_json().dump();
}

namespace {

// One fragment to fetch: a ticket from one node for one table.
struct Fetch {
  size_t scan = 0, node = 0;
  syndb::pb::FlightEndpoint endpoint;
};

}  // namespace

Result<std::unique_ptr<FederatedResult>> FederatedEngine::run(const std::string& sql, const QueryOptions& options) {
  Impl& I = *impl_;
  auto state = std::make_unique<FederatedResult::State>();
  state->start = Clock::now();
  if (auto cached = I.plans->take(sql)) {
    state->columns = std::move(cached->columns);
    state->plan = std::move(cached->plan);
  } else {
    SYNDB_ASSIGN_OR_RETURN(auto in, I.planner_input(sql, &state->columns));
    SYNDB_ASSIGN_OR_RETURN(state->plan, I.plan(in));
  }
  state->plans = I.plans;
  state->sql = sql;
  const Plan& plan = state->plan;
  Provenance& prov = state->provenance;
  prov.partial_aggregate = plan.partial_aggregate;
  for (const auto& s : plan.scans) prov.fragments.push_back(s.fragment_sql);
  SYNDB_ASSIGN_OR_RETURN(state->merge, I.merge_db->connect(false));

  // Node selection per table.
  auto snap = I.registry.snapshot();
  const int schema_version = warehouse::latest_schema_version();
  std::vector<std::vector<size_t>> targets(plan.scans.size());  // cluster indexes per scan
  std::map<size_t, std::set<std::string>> node_datasets;        // cluster index → contributing datasets
  std::map<size_t, MissingNode> missing;
  auto mark_missing = [&](size_t c, const std::string& reason, const std::vector<std::string>& ids) {
    const auto& cl = snap->clusters[c];
    auto& m = missing[c];
    m.peer_id = cl.peer_id;
    m.name = cl.name;
    m.state = federation::health_state_name(cl.state);
    m.reason = reason;
    for (const auto& id : ids) {
      if (std::find(m.datasets.begin(), m.datasets.end(), id) == m.datasets.end()) m.datasets.push_back(id);
    }
  };
  for (size_t s = 0; s < plan.scans.size(); ++s) {
    const auto* table = warehouse::find_data_table(plan.scans[s].table);
    // A reference table (ontology_term) is the union of the hub's copy and
    // the copies of every node that shares a dataset (its imports add terms).
    const bool reference = !table->dataset_column;
    for (size_t c = 0; c < snap->clusters.size(); ++c) {
      const auto& cl = snap->clusters[c];
      std::vector<std::string> ids;
      for (const auto& d : cl.datasets) {
        if (d.policy != "private") ids.push_back(d.id);
      }
      if (ids.empty()) continue;
      if (!reference && !plan.scans[s].dataset_filter_sql.empty()) {
        std::string list;
        for (const auto& id : ids) list += (list.empty() ? "" : ", ") + warehouse::sql_quote(id);
        auto kept = state->merge->query_text("WITH syndb_datasets AS (SELECT unnest([" + list + "]) AS " +
                                             table->dataset_column + ") " + plan.scans[s].dataset_filter_sql);
        if (!kept.ok()) return kept.error().wrap("dataset filter");
        ids.clear();
        for (const auto& r : kept->rows) ids.push_back(r[0].value_or(""));
        if (ids.empty()) continue;
      }
      std::string why;
      if (cl.state != federation::HealthState::kHealthy && cl.state != federation::HealthState::kDegraded) {
        why = std::string("node is ") + federation::health_state_name(cl.state);
      } else if (cl.schema_version != schema_version) {
        why =
            "schema version " + std::to_string(cl.schema_version) + ", the hub needs " + std::to_string(schema_version);
      } else if (cl.flight_endpoint.empty()) {
        why = "node serves no Flight endpoint";
      }
      if (!why.empty()) {
        mark_missing(c, why, ids);
        continue;
      }
      targets[s].push_back(c);
      if (reference) {
        node_datasets[c];  // named in the provenance; no dataset's rows are read
      } else {
        node_datasets[c].insert(ids.begin(), ids.end());
      }
    }
  }

  // Tickets (the nodes check their policies here), requested all at once.
  std::vector<Fetch> fetches;
  std::map<size_t, Clock::time_point> node_start;
  std::vector<TicketRequest> requests;
  for (size_t s = 0; s < plan.scans.size(); ++s) {
    for (size_t c : targets[s]) {
      syndb::pb::GetFlightEndpoint req;
      req.set_sql(plan.scans[s].fragment_sql);
      req.set_dataset_id(plan.scans[s].table);
      if (!node_start.count(c)) node_start[c] = Clock::now();
      fetches.push_back({s, c, {}});
      requests.emplace_back(snap->clusters[c].peer_id, req);
    }
  }
  std::vector<Result<syndb::pb::FlightEndpoint>> pending;
  if (!requests.empty()) pending = I.tickets(requests, I.config.ticket_timeout_ms);
  if (pending.size() != requests.size()) return Error(ErrorCode::kInternal, "ticket source answered the wrong count");
  std::optional<Error> refused;
  for (size_t i = 0; i < fetches.size(); ++i) {
    auto& ep = pending[i];
    const size_t c = fetches[i].node;
    const auto& cl = snap->clusters[c];
    if (ep.ok()) {
      fetches[i].endpoint = std::move(ep).value();
    } else if (unreachable(ep.error())) {
      mark_missing(c, ep.error().message(), {node_datasets[c].begin(), node_datasets[c].end()});
    } else if (!refused) {
      // The node's own code (PERMISSION_DENIED for a policy, …) crosses the wire.
      std::string msg = ep.error().message();
      if (msg.rfind("peer: ", 0) == 0) msg = msg.substr(6);
      refused = Error(ep.error().code(), "node " + cl.name + " refused the query: " + msg);
    }
  }
  if (refused) return *refused;
  // A node that failed one ticket contributes nothing: its other fragments are dropped too.
  fetches.erase(
      std::remove_if(fetches.begin(), fetches.end(), [&](const Fetch& f) { return missing.count(f.node) > 0; }),
      fetches.end());
  for (auto& [c, m] : missing) prov.missing.push_back(m);
  prov.complete = prov.missing.empty();
  if (!prov.complete && !options.allow_partial) {
    std::string names;
    for (const auto& m : prov.missing) {
      names += (names.empty() ? "" : "; ") + m.name + " (" + m.reason + ") holds";
      for (const auto& d : m.datasets) names += " " + d;
    }
    return Error(ErrorCode::kIo, "nodes holding data this query needs are unavailable: " + names +
                                     " (set allow_partial to answer from the others, marked incomplete)");
  }
  for (const auto& [c, ids] : node_datasets) {
    if (missing.count(c)) continue;
    const auto& cl = snap->clusters[c];
    NodeReport r;
    r.peer_id = cl.peer_id;
    r.name = cl.name;
    r.datasets.assign(ids.begin(), ids.end());
    prov.nodes.push_back(r);
    for (const auto& d : cl.datasets) {
      if (ids.count(d.id)) prov.datasets.push_back(d);
    }
  }

  // One queue per table; one fetch thread per fragment, from the engine's
  // bounded supply (taken all at once: a query never waits holding some).
  size_t needed = fetches.size();
  for (const auto& sc : plan.scans) needed += warehouse::find_data_table(sc.table)->dataset_column ? 0 : 1;
  SYNDB_RETURN_IF_ERROR(
      I.slots->acquire(needed, Clock::now() + std::chrono::milliseconds(I.config.statement_timeout_ms)));
  state->slots = I.slots;
  state->held = needed;
  std::vector<UnionQueue*> queue_of(plan.scans.size());
  for (size_t s = 0; s < plan.scans.size(); ++s) {
    OwnedArrowSchema expected;
    {
      std::lock_guard lock(I.mu);
      SYNDB_ASSIGN_OR_RETURN(expected, I.hub_conn->query_schema(plan.scans[s].fragment_sql));
    }
    SYNDB_ASSIGN_OR_RETURN(auto schema, arrow::import_schema(*expected.get()));
    const bool local = !warehouse::find_data_table(plan.scans[s].table)->dataset_column;
    int producers = (local ? 1 : 0) + static_cast<int>(std::count_if(fetches.begin(), fetches.end(),
                                                                     [&](const Fetch& f) { return f.scan == s; }));
    state->queues.push_back(std::make_unique<UnionQueue>(std::move(schema), I.config.queue_batches, producers));
    queue_of[s] = state->queues.back().get();
    if (local) {
      // Reference table (ontology_term): the hub's own copy, beside the nodes'.
      std::string fragment = plan.scans[s].fragment_sql;
      UnionQueue* q = queue_of[s];
      warehouse::Warehouse* hub = &I.hub;
      state->fetchers.emplace_back([q, hub, fragment] {
        auto conn = hub->connect(true);
        auto stream =
            conn.ok() ? (*conn)->query_arrow(fragment) : Result<std::unique_ptr<warehouse::ArrowStream>>(conn.error());
        while (stream.ok()) {
          OwnedArrowArray batch;
          auto more = (*stream)->next(&batch);
          if (!more.ok()) {
            q->fail("hub: " + more.error().message());
            break;
          }
          if (!*more || !q->push(std::move(batch))) break;
        }
        if (!stream.ok()) q->fail("hub: " + stream.error().message());
        q->producer_done();
      });
    }
  }
  FederatedResult::State* st = state.get();
  for (const auto& f : fetches) {
    UnionQueue* q = queue_of[f.scan];
    const auto& cl = snap->clusters[f.node];
    std::string name = cl.name, peer = cl.peer_id;
    Clock::time_point started = node_start[f.node];
    auto endpoint = f.endpoint;
    flight::CallOptions call;
    call.headers = flight::fragment_headers(endpoint.ticket(), I.key);
    call.timeout_ms = I.config.statement_timeout_ms;
    auto client = I.client(endpoint.uri());
    state->fetchers.emplace_back([q, st, name, peer, started, endpoint, call, client] {
      Status status = client.ok() ? ok_status() : Status(client.error());
      int64_t rows = 0;
      flight::FlightClient::Stats stats;
      if (status.ok()) {
        status = (*client)->do_get(
            endpoint.ticket(), call,
            [&](const ArrowSchema& s) -> Status {
              auto got = arrow::import_schema(s);
              if (!got.ok()) return got.error();
              if (!same_types(*got, q->schema())) {
                return Error(ErrorCode::kProtocol, "node " + name + " sent a fragment of another schema");
              }
              return ok_status();
            },
            [&](OwnedArrowArray batch) -> Status {
              rows += batch->length;
              if (!q->push(std::move(batch))) return Error(ErrorCode::kClosed, "query finished");
              return ok_status();
            },
            &stats);
      }
      if (!status.ok() && status.error().code() != ErrorCode::kClosed) {
        q->fail("node " + name + ": " + status.error().message());
      }
      {
        std::lock_guard lock(st->mu);
        for (auto& n : st->provenance.nodes) {
          if (n.peer_id != peer) continue;
          n.rows += rows;
          n.bytes += stats.bytes;
          n.ms = std::max(n.ms, ms_since(started));
        }
      }
      q->producer_done();
    });
  }

  // Views over the queues, then the final query.
  for (size_t s = 0; s < plan.scans.size(); ++s) {
    const auto& scan = plan.scans[s];
    SYNDB_ASSIGN_OR_RETURN(auto view, state->merge->register_arrow_view(scan.view, queue_of[s]->stream()));
    state->views.push_back(std::move(view));
    if (scan.materialize) {
      state->drop.push_back("DROP TABLE IF EXISTS " + warehouse::sql_ident(scan.view + "_m"));
      SYNDB_RETURN_IF_ERROR(state->merge->execute(
          "CREATE TABLE " + warehouse::sql_ident(scan.view + "_m") +
          (scan.distinct ? " AS SELECT DISTINCT * FROM " : " AS SELECT * FROM ") + warehouse::sql_ident(scan.view)));
    }
  }
  std::string final_sql = plan.final_sql;
  if (options.json_rows) {
    std::string cols;
    for (int64_t i = 1; i <= state->columns.get()->n_children; ++i) cols += (i > 1 ? ", #" : "#") + std::to_string(i);
    final_sql = "SELECT CAST(json_array(" + cols + ") AS VARCHAR) AS row FROM (" + final_sql + ") AS q";
  }
  SYNDB_ASSIGN_OR_RETURN(state->runner, I.merge_db->connect(true));
  state->deadline = std::make_unique<flight::QueryDeadline>(*state->runner, I.config.statement_timeout_ms);
  auto stream = state->runner->query_arrow(final_sql);
  if (!stream.ok()) {
    if (state->deadline->expired())
      return Error(ErrorCode::kTimeout, "the federated query ran longer than its statement timeout");
    return stream.error();
  }
  state->stream = std::move(stream).value();
  return std::make_unique<FederatedResult>(std::move(state));
}

}  // namespace syndb::query
