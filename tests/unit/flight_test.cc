// Data plane: untrusted warehouse connections, fragment tickets, the node's
// Flight service and the hub's Flight SQL service, over real gRPC on loopback
// (in-process servers, our FlightClient).
#include <gtest/gtest.h>
#include <google/protobuf/any.pb.h>
#include <grpcpp/create_channel.h>

#include "flight/flight.grpc.pb.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "arrow/schema.h"
#include "common/clock.h"
#include "flight/client.h"
#include "flight/flight_data.h"
#include "flight/flight_sql.pb.h"
#include "flight/fragment_service.h"
#include "flight/query_engine.h"
#include "flight/sql_service.h"
#include "flight/ticket.h"
#include "federation/node_service.h"
#include "federation/protocol.h"
#include "p2p/identify/identify.h"
#include "warehouse/schema.h"
#include "warehouse/warehouse.h"
#include "test_fs.h"
#include "test_util.h"
#include "warehouse_test_util.h"

namespace syndb::flight {
namespace {

namespace fsql = ::arrow::flight::protocol::sql;
using p2p::Ed25519PrivateKey;
using p2p::PeerId;
using test_support::scalar;

constexpr int kRows = 10000;

// A sandboxed warehouse (as a node opens it) holding t(i BIGINT, d DOUBLE, s VARCHAR) with kRows rows.
class FlightFixture : public test_support::TempDirTest {
 protected:
  FlightFixture() : TempDirTest("syndb_flight_test_") {}
  void SetUp() override {
    TempDirTest::SetUp();
    warehouse::OpenOptions o;
    o.sandbox = true;
    auto w = warehouse::open_duckdb(dir_, o);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    wh_ = std::move(w).value();
    ASSERT_TRUE(wh_->migrate(warehouse::latest_schema_version()).ok());
    ASSERT_TRUE(wh_->execute("CREATE TABLE t AS SELECT range AS i, range * 0.5 AS d, "
                             "CASE WHEN range % 7 = 0 THEN NULL ELSE 'v' || range END AS s FROM range(" +
                             std::to_string(kRows) + ")")
                    .ok());
  }
  std::unique_ptr<warehouse::Warehouse> wh_;
};

// ---------------------------------------------------------------------------
// Untrusted connections

TEST_F(FlightFixture, UntrustedConnectionRunsOneSelectOnly) {
  auto c = wh_->connect(true);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  auto& conn = **c;
  EXPECT_EQ(scalar(conn, "SELECT count(*) FROM t"), std::to_string(kRows));
  for (const char* sql : {"INSERT INTO t VALUES (1, 1, 'x')", "DELETE FROM t", "DROP TABLE t",
                          "CREATE TABLE u (x INTEGER)", "UPDATE t SET i = 0", "SELECT 1; DELETE FROM t",
                          "SET threads = 1", "VACUUM", "CHECKPOINT", "ATTACH ':memory:' AS x"}) {
    auto s = conn.query_arrow(sql);
    ASSERT_FALSE(s.ok()) << sql;
    EXPECT_EQ(s.error().code(), ErrorCode::kPermissionDenied) << sql << ": " << s.error().to_string();
    EXPECT_FALSE(conn.query_text(sql).ok()) << sql;
    EXPECT_FALSE(conn.query_schema(sql).ok()) << sql;
  }
  EXPECT_EQ(conn.execute("SELECT 1").error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(conn.appender("t").ok());
  EXPECT_FALSE(conn.migrate(99).ok());
  EXPECT_EQ(scalar(*wh_, "SELECT count(*) FROM t"), std::to_string(kRows)) << "nothing was changed";
  // The sandbox is the database's: an untrusted connection cannot read files either.
  EXPECT_FALSE(conn.query_text("SELECT * FROM read_csv('/etc/passwd')").ok());
}

TEST_F(FlightFixture, QuerySchemaEqualsStreamedSchema) {
  auto c = wh_->connect(true);
  ASSERT_TRUE(c.ok());
  const std::string sql = "SELECT i, d, s, i > 5 AS b, DATE '2020-01-01' + i::INTEGER AS day FROM t";
  auto planned = (*c)->query_schema(sql);
  ASSERT_TRUE(planned.ok()) << planned.error().to_string();
  auto stream = (*c)->query_arrow(sql);
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  auto a = arrow::import_schema(*planned->get());
  auto b = arrow::import_schema((*stream)->schema());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->fields.size(), 5u);
}

TEST_F(FlightFixture, QueryDeadlineInterruptsARunningQuery) {
  auto c = wh_->connect(true);
  ASSERT_TRUE(c.ok());
  QueryDeadline deadline(**c, 200);
  // A blocking aggregate runs while the stream is opened, so the error may come from either call.
  auto stream = (*c)->query_arrow("SELECT count(*) FROM range(1000000000000) a");
  bool failed = !stream.ok();
  if (!failed) {
    OwnedArrowArray batch;
    failed = !(*stream)->next(&batch).ok();
  }
  EXPECT_TRUE(failed) << "a 10^12-row count finished instead of being interrupted";
  EXPECT_TRUE(deadline.expired());
}

TEST_F(FlightFixture, QueryDeadlineLeavesAQuickQueryAlone) {
  auto c = wh_->connect(true);
  ASSERT_TRUE(c.ok());
  QueryDeadline deadline(**c, 60'000);
  EXPECT_EQ(scalar(**c, "SELECT count(*) FROM t"), std::to_string(kRows));
  EXPECT_FALSE(deadline.expired());
}

// ---------------------------------------------------------------------------
// Tickets

struct Keys {
  Ed25519PrivateKey node = Ed25519PrivateKey::generate();
  Ed25519PrivateKey client = Ed25519PrivateKey::generate();
  PeerId node_id = PeerId::from_public_key(node.public_key());
  PeerId client_id = PeerId::from_public_key(client.public_key());
  std::string mint(const std::string& sql, int64_t ttl_ms = 60'000) const {
    FragmentTicket t{sql, "/org/ds/1", client_id.to_string(), node_id.to_string(), unix_ms() + ttl_ms};
    return mint_ticket(t, node);
  }
};

TEST(FragmentTicket, VerifiesOnlyForItsNodePeerAndLifetime) {
  Keys k;
  std::string ticket = k.mint("SELECT 1");
  std::string proof = ticket_proof(ticket, k.client);
  auto ok = verify_ticket(ticket, k.node_id, unix_ms(), k.client_id.to_string(), proof);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->sql, "SELECT 1");
  EXPECT_EQ(ok->dataset, "/org/ds/1");

  auto refused = [&](const std::string& t, const PeerId& node, int64_t now, const std::string& peer,
                     const std::string& pr, const char* why) {
    auto r = verify_ticket(t, node, now, peer, pr);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().code(), ErrorCode::kPermissionDenied) << why;
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  };
  Keys other;
  refused(ticket, other.node_id, unix_ms(), k.client_id.to_string(), proof, "bad signature");
  refused(ticket, k.node_id, unix_ms() + 120'000, k.client_id.to_string(), proof, "expired");
  refused(ticket, k.node_id, unix_ms(), k.client_id.to_string(), "", "missing");
  refused(ticket, k.node_id, unix_ms(), other.client_id.to_string(), ticket_proof(ticket, other.client),
          "another peer");
  refused(ticket, k.node_id, unix_ms(), k.client_id.to_string(), ticket_proof(ticket, other.client), "proof");
  refused("garbage", k.node_id, unix_ms(), k.client_id.to_string(), proof, "malformed");
  // Changing the SQL breaks the node's signature.
  std::string tampered = ticket;
  tampered.replace(tampered.find("SELECT 1"), 8, "SELECT 2");
  refused(tampered, k.node_id, unix_ms(), k.client_id.to_string(), ticket_proof(tampered, k.client), "bad signature");
  // A ticket signed by the right key for another node is refused too.
  FragmentTicket foreign{"SELECT 1", "", k.client_id.to_string(), other.node_id.to_string(), unix_ms() + 60'000};
  std::string f = mint_ticket(foreign, k.node);
  refused(f, k.node_id, unix_ms(), k.client_id.to_string(), ticket_proof(f, k.client), "another node");
}

// ---------------------------------------------------------------------------
// The node's Flight service over gRPC

// Sums column `col` (int64) of every batch; counts rows and nulls of column `null_col`.
struct Collected {
  int64_t rows = 0, batches = 0, sum_i = 0, null_s = 0;
  std::optional<arrow::Schema> schema;
};

Status collect(FlightClient& client, const std::string& ticket, const CallOptions& options, Collected* out) {
  return client.do_get(
      ticket, options,
      [out](const ArrowSchema& s) -> Status {
        SYNDB_ASSIGN_OR_RETURN(auto schema, arrow::import_schema(s));
        out->schema = schema;
        return ok_status();
      },
      [out](OwnedArrowArray batch) {
        const ArrowArray& b = *batch.get();
        out->rows += b.length;
        ++out->batches;
        if (b.n_children >= 1) {
          const auto* ints = static_cast<const int64_t*>(b.children[0]->buffers[1]);
          for (int64_t r = 0; r < b.length; ++r) out->sum_i += ints[r + b.children[0]->offset];
        }
        if (b.n_children >= 3) out->null_s += b.children[2]->null_count;
        return ok_status();
      });
}

class FragmentServer : public FlightFixture {
 protected:
  void SetUp() override {
    FlightFixture::SetUp();
    FragmentServiceConfig fc;
    fc.timeout_ms = 300;
    service_ = std::make_unique<FragmentService>(*wh_, keys_.node_id, fc);
    auto server = GrpcServer::start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    auto client = FlightClient::connect("grpc://127.0.0.1:" + std::to_string(server_->port()));
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
  }
  void TearDown() override {
    server_.reset();
    service_.reset();
    FlightFixture::TearDown();
  }
  CallOptions as_client(const std::string& ticket) {
    CallOptions o;
    o.headers = fragment_headers(ticket, keys_.client);
    o.timeout_ms = 30'000;
    return o;
  }

  Keys keys_;
  std::unique_ptr<FragmentService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<FlightClient> client_;
};

TEST_F(FragmentServer, DoGetStreamsTheFragmentResult) {
  std::string ticket = keys_.mint("SELECT i, d, s FROM t");
  Collected got;
  Status st = collect(*client_, ticket, as_client(ticket), &got);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(got.rows, kRows);
  EXPECT_EQ(got.sum_i, int64_t{kRows} * (kRows - 1) / 2);
  EXPECT_EQ(got.null_s, (kRows + 6) / 7);
  EXPECT_GT(got.batches, 1) << "DuckDB chunks should arrive as separate batches";
  ASSERT_TRUE(got.schema.has_value());
  EXPECT_EQ(got.schema->fields.size(), 3u);
  EXPECT_EQ(got.schema->fields[2].name, "s");
  EXPECT_EQ(service_->fragments_served(), 1);
}

TEST_F(FragmentServer, FlightInfoSchemaMatchesTheStream) {
  std::string ticket = keys_.mint("SELECT i, s FROM t WHERE i < 10");
  fpb::FlightDescriptor d;
  d.set_type(fpb::FlightDescriptor::CMD);
  d.set_cmd(ticket);
  auto info = client_->get_flight_info(d, as_client(ticket));
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  ASSERT_EQ(info->endpoint_size(), 1);
  EXPECT_EQ(info->endpoint(0).ticket().ticket(), ticket);
  auto schema = parse_schema_bytes(info->schema());
  ASSERT_TRUE(schema.ok()) << schema.error().to_string();
  auto planned = arrow::import_schema(*schema->get());
  Collected got;
  ASSERT_TRUE(collect(*client_, ticket, as_client(ticket), &got).ok());
  EXPECT_EQ(got.rows, 10);
  ASSERT_TRUE(planned.ok() && got.schema);
  EXPECT_EQ(*planned, *got.schema);
}

TEST_F(FragmentServer, RefusesUnsignedForeignOrUnprovenTickets) {
  std::string ticket = keys_.mint("SELECT i FROM t");
  auto expect_refused = [&](const std::string& t, const CallOptions& o, const char* what) {
    Collected got;
    Status st = collect(*client_, t, o, &got);
    ASSERT_FALSE(st.ok()) << what;
    EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << what << ": " << st.error().to_string();
    EXPECT_EQ(got.rows, 0) << what;
  };
  CallOptions none;
  expect_refused(ticket, none, "no proof");
  expect_refused("SELECT i FROM t", as_client("SELECT i FROM t"), "plain SQL as ticket");
  Keys stranger;
  std::string forged = stranger.mint("SELECT i FROM t");
  expect_refused(forged, as_client(forged), "signed by another key");
  CallOptions wrong_peer;
  wrong_peer.headers = fragment_headers(ticket, stranger.client);
  expect_refused(ticket, wrong_peer, "redeemed by another peer");
  std::string expired = keys_.mint("SELECT i FROM t", -1);
  expect_refused(expired, as_client(expired), "expired");
  EXPECT_EQ(service_->tickets_refused(), 5);
  EXPECT_EQ(service_->fragments_served(), 0);
}

TEST_F(FragmentServer, FragmentsCannotEscapeTheSandbox) {
  for (const char* sql : {"SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/passwd')",
                          "SELECT * FROM glob('/etc/*')", "COPY t TO '/tmp/syndb_flight_leak.csv'"}) {
    std::string ticket = keys_.mint(sql);
    Collected got;
    Status st = collect(*client_, ticket, as_client(ticket), &got);
    EXPECT_FALSE(st.ok()) << sql << " streamed " << got.rows << " rows";
    EXPECT_EQ(got.rows, 0) << sql;
  }
  for (const char* sql : {"DELETE FROM t", "INSERT INTO t SELECT * FROM t", "SELECT 1; DROP TABLE t",
                          "SET enable_external_access = true"}) {
    std::string ticket = keys_.mint(sql);
    Collected got;
    Status st = collect(*client_, ticket, as_client(ticket), &got);
    ASSERT_FALSE(st.ok()) << sql;
    EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << sql << ": " << st.error().to_string();
  }
  EXPECT_EQ(scalar(*wh_, "SELECT count(*) FROM t"), std::to_string(kRows));
  EXPECT_FALSE(std::filesystem::exists("/tmp/syndb_flight_leak.csv"));
}

TEST_F(FragmentServer, LongFragmentIsCancelledAtItsTimeout) {
  std::string ticket = keys_.mint("SELECT count(*) FROM range(1000000000000) a");
  Collected got;
  Status st = collect(*client_, ticket, as_client(ticket), &got);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kTimeout) << st.error().to_string();
}

// The whole path: a peer asks the node for a ticket over the libp2p control
// plane (GetFlightEndpoint), then redeems it at the node's Flight service.
TEST_F(FragmentServer, TicketFromGetFlightEndpointRedeemsOverFlight) {
  boost::asio::io_context io(1);
  p2p::Host node_host(io, keys_.node);
  p2p::Host hub_host(io, keys_.client);
  p2p::IdentifyService identify(node_host);
  auto membership = federation::Membership::open_federation();
  federation::NodeConfig nc;
  nc.flight_endpoint = "grpc://127.0.0.1:" + std::to_string(server_->port());
  WorkerPool pool(2, 16, "test pool");
  federation::NodeService node(node_host, identify, *wh_, membership, pool, nc);
  node.start();
  auto bound = node_host.listen(*p2p::Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound.ok()) << bound.error().to_string();
  auto addr = *p2p::Multiaddr::from_string(bound->to_string() + "/p2p/" + keys_.node_id.to_string());

  syndb::pb::FlightEndpoint endpoint;
  std::string refused;
  auto exchange = [&]() -> p2p::Task<void> {
    auto conn = co_await hub_host.connect(addr);
    EXPECT_TRUE(conn.ok()) << conn.error().to_string();
    if (conn.ok()) {
      syndb::pb::FederationRequest req;
      req.set_version(1);
      // Fragments may read only the SynDB tables (federation/policy.h); this one computes its rows.
      req.mutable_get_flight_endpoint()->set_sql(
          "SELECT i, i * 0.5 AS d, 'v' || i AS s FROM (SELECT unnest(range(100)) AS i) AS r");
      auto resp = co_await federation::federation_call(hub_host, *conn, req, 5000);
      EXPECT_TRUE(resp.ok() && resp->has_flight_endpoint()) << (resp.ok() ? resp->DebugString() : "");
      if (resp.ok()) endpoint = resp->flight_endpoint();
      syndb::pb::FederationRequest bad;
      bad.set_version(1);
      bad.mutable_get_flight_endpoint()->set_sql("DELETE FROM t");
      auto resp2 = co_await federation::federation_call(hub_host, *conn, bad, 5000);
      // federation_call turns the response's `error` into an Error.
      EXPECT_FALSE(resp2.ok()) << "a write must not get a ticket";
      if (!resp2.ok()) refused = resp2.error().message();
      // The node's error code crosses the wire (FederationResponse.code).
      if (!resp2.ok()) {
        EXPECT_NE(resp2.error().code(), ErrorCode::kInternal) << resp2.error().to_string();
      }
    }
    node_host.close();
    hub_host.close();
  };
  std::vector<p2p::Task<void>> tasks;
  tasks.push_back(exchange());
  p2p::testing::run_all(io, std::move(tasks));
  EXPECT_NE(refused.find("SELECT"), std::string::npos) << "a write must not get a ticket: '" << refused << "'";
  ASSERT_FALSE(endpoint.ticket().empty());
  EXPECT_EQ(endpoint.uri(), nc.flight_endpoint);
  EXPECT_GT(endpoint.expires_unix_ms(), unix_ms());

  auto client = FlightClient::connect(endpoint.uri());
  ASSERT_TRUE(client.ok());
  Collected got;
  Status st = collect(**client, endpoint.ticket(), as_client(endpoint.ticket()), &got);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(got.rows, 100);
  EXPECT_EQ(got.sum_i, 99 * 100 / 2);
  // Issued to the requester's PeerId: another key cannot redeem it.
  CallOptions other;
  other.headers = fragment_headers(endpoint.ticket(), Ed25519PrivateKey::generate());
  Collected none;
  EXPECT_EQ(collect(**client, endpoint.ticket(), other, &none).error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(FragmentServer, ASecondServerCannotTakeTheSamePort) {
  FragmentService other(*wh_, keys_.node_id);
  auto second = GrpcServer::start("127.0.0.1:" + std::to_string(server_->port()), {&other});
  ASSERT_FALSE(second.ok()) << "two servers bound 127.0.0.1:" << server_->port();
  EXPECT_EQ(second.error().code(), ErrorCode::kIo);
}

// ---------------------------------------------------------------------------
// Flight SQL on the hub

class FlightSqlServer : public FlightFixture {
 protected:
  void SetUp() override {
    FlightFixture::SetUp();
    engine_ = std::make_unique<LocalQueryEngine>(*wh_, 300);
    FlightSqlConfig c;
    c.check_token = [](const std::string& t) { return t == "secret-token"; };
    c.server_version = "test";
    service_ = std::make_unique<FlightSqlService>(*engine_, *wh_, c);
    auto server = GrpcServer::start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    client_ = std::move(FlightClient::connect("127.0.0.1:" + std::to_string(server_->port()))).value();
    auth_.headers = {bearer_header("secret-token")};
  }
  void TearDown() override {
    server_.reset();
    service_.reset();
    FlightFixture::TearDown();
  }
  template <typename M>
  fpb::FlightDescriptor command(const M& m) {
    google::protobuf::Any any;
    any.PackFrom(m);
    fpb::FlightDescriptor d;
    d.set_type(fpb::FlightDescriptor::CMD);
    d.set_cmd(any.SerializeAsString());
    return d;
  }

  std::unique_ptr<LocalQueryEngine> engine_;
  std::unique_ptr<FlightSqlService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<FlightClient> client_;
  CallOptions auth_;
};

TEST_F(FlightSqlServer, StatementQueryThroughFlightInfoAndTicket) {
  fsql::CommandStatementQuery q;
  q.set_query("SELECT i, d, s FROM t WHERE i < 1000");
  auto info = client_->get_flight_info(command(q), auth_);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  ASSERT_EQ(info->endpoint_size(), 1);
  EXPECT_EQ(info->endpoint(0).location_size(), 0) << "redeem on this server";
  Collected got;
  Status st = collect(*client_, info->endpoint(0).ticket().ticket(), auth_, &got);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(got.rows, 1000);
  EXPECT_EQ(got.sum_i, 999 * 1000 / 2);
  auto planned = arrow::import_schema(*parse_schema_bytes(info->schema())->get());
  ASSERT_TRUE(planned.ok() && got.schema);
  EXPECT_EQ(*planned, *got.schema);
  EXPECT_EQ(service_->statements_run(), 1);
}

TEST_F(FlightSqlServer, WrongOrMissingTokenIsUnauthenticated) {
  fsql::CommandStatementQuery q;
  q.set_query("SELECT 1");
  CallOptions wrong;
  wrong.headers = {bearer_header("not-the-token")};
  for (const CallOptions& o : {CallOptions{}, wrong}) {
    auto info = client_->get_flight_info(command(q), o);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code(), ErrorCode::kPermissionDenied) << info.error().to_string();
    EXPECT_NE(info.error().message().find("token"), std::string::npos) << info.error().message();
  }
  EXPECT_EQ(service_->statements_run(), 0);
}

// Handshake with HTTP Basic credentials (JDBC/ADBC clients send the token as
// the password), base64 decoded with libsodium: the token comes back as Bearer.
TEST_F(FlightSqlServer, HandshakeTakesBasicCredentials) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  auto stub = fpb::FlightService::NewStub(channel);
  auto basic = [&](const std::string& b64, std::string* bearer) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Basic " + b64);
    auto rw = stub->Handshake(&ctx);
    rw->WritesDone();
    fpb::HandshakeResponse r;
    while (rw->Read(&r)) {
    }
    grpc::Status st = rw->Finish();
    auto md = ctx.GetServerInitialMetadata();
    auto it = md.find("authorization");
    if (it != md.end()) *bearer = std::string(it->second.data(), it->second.size());
    return st;
  };
  std::string bearer;
  EXPECT_TRUE(basic("dXNlcjpzZWNyZXQtdG9rZW4=", &bearer).ok());  // base64("user:secret-token")
  EXPECT_EQ(bearer, "Bearer secret-token");
  EXPECT_EQ(basic("dXNlcjp3cm9uZw==", &bearer).error_code(), grpc::StatusCode::UNAUTHENTICATED);  // user:wrong
  EXPECT_EQ(basic("not base64!", &bearer).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(FlightSqlServer, WritesAndFileAccessAreRefused) {
  for (const char* sql : {"DELETE FROM t", "SELECT * FROM read_csv('/etc/passwd')"}) {
    fsql::CommandStatementQuery q;
    q.set_query(sql);
    auto info = client_->get_flight_info(command(q), auth_);
    EXPECT_FALSE(info.ok()) << sql;
  }
  EXPECT_EQ(scalar(*wh_, "SELECT count(*) FROM t"), std::to_string(kRows));
}

TEST_F(FlightSqlServer, LongStatementIsCancelledAtTheTimeout) {
  fsql::CommandStatementQuery q;
  q.set_query("SELECT count(*) FROM range(1000000000000) a");
  auto info = client_->get_flight_info(command(q), auth_);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  Collected got;
  Status st = collect(*client_, info->endpoint(0).ticket().ticket(), auth_, &got);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kTimeout) << st.error().to_string();
}

TEST_F(FlightSqlServer, MetadataCommandsDescribeTheWarehouse) {
  fsql::CommandGetTables tables;
  tables.set_include_schema(true);
  tables.set_table_name_filter_pattern("t");
  auto info = client_->get_flight_info(command(tables), auth_);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  Collected got;
  std::vector<std::string> names;
  Status st = client_->do_get(
      info->endpoint(0).ticket().ticket(), auth_,
      [&](const ArrowSchema& s) {
        got.schema = *arrow::import_schema(s);
        return ok_status();
      },
      [&](OwnedArrowArray batch) {
        got.rows += batch->length;
        const ArrowArray* name = batch->children[2];
        const auto* offsets = static_cast<const int32_t*>(name->buffers[1]);
        const char* data = static_cast<const char*>(name->buffers[2]);
        for (int64_t r = 0; r < name->length; ++r) names.emplace_back(data + offsets[r], offsets[r + 1] - offsets[r]);
        return ok_status();
      });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(names, std::vector<std::string>{"t"});
  ASSERT_TRUE(got.schema);
  ASSERT_EQ(got.schema->fields.size(), 5u);
  EXPECT_FALSE(got.schema->fields[2].nullable) << "table_name is declared not null";
  EXPECT_EQ(got.schema->fields[4].name, "table_schema");

  fsql::CommandGetSqlInfo sql_info;
  sql_info.add_info(0);  // FLIGHT_SQL_SERVER_NAME
  sql_info.add_info(3);  // FLIGHT_SQL_SERVER_READ_ONLY
  auto info2 = client_->get_flight_info(command(sql_info), auth_);
  ASSERT_TRUE(info2.ok()) << info2.error().to_string();
  int64_t rows = 0;
  std::vector<int8_t> kinds;
  st = client_->do_get(
      info2->endpoint(0).ticket().ticket(), auth_, [](const ArrowSchema&) { return ok_status(); },
      [&](OwnedArrowArray batch) {
        rows += batch->length;
        const auto* type_ids = static_cast<const int8_t*>(batch->children[1]->buffers[0]);
        for (int64_t r = 0; r < batch->length; ++r) kinds.push_back(type_ids[r]);
        return ok_status();
      });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(kinds, (std::vector<int8_t>{0, 1})) << "name is a string_value, read-only a bool_value";
}

}  // namespace
}  // namespace syndb::flight
