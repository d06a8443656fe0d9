// NodeService never blocks its network thread (issue 12): while the node
// works on a long GetFlightEndpoint (an aggregate_only policy check that runs
// the fragment once, ~2 s), HealthPings on the same connection are answered
// on time. On the code before the worker pool, every ping waited for the
// check.
#include "federation/node_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "common/worker_pool.h"
#include "federation/protocol.h"
#include "p2p/host/host.h"
#include "p2p/identify/identify.h"
#include "test_fs.h"
#include "test_util.h"
#include "warehouse/schema.h"

namespace syndb::federation {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using p2p::Task;

class NodeServiceTest : public test_support::TempDirTest {
 protected:
  NodeServiceTest() : TempDirTest("syndb_node_service_") {}
  void SetUp() override {
    TempDirTest::SetUp();
    warehouse::OpenOptions o;
    o.threads = 1;  // the policy check may take one core; the network thread
                    // keeps the other
    auto w = warehouse::open_duckdb(dir_, o);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    wh_ = std::move(w).value();
    ASSERT_TRUE(wh_->migrate(warehouse::latest_schema_version()).ok());
    ASSERT_TRUE(wh_->execute("INSERT INTO dataset (id, title, institution, "
                             "policy, policy_k) VALUES "
                             "('/lab/c/d1', 't', 'Lab', 'aggregate_only', 5)")
                    .ok());
    ASSERT_TRUE(wh_->execute("INSERT INTO synapse SELECT '/lab/c/d1', i, 'A' "
                             "|| (i % 50), 'B' || (i % 70), "
                             "i * 1.0, 1.0, 1, false FROM range(" +
                             std::to_string(kRows) + ") t(i)")
                    .ok());
  }

  static constexpr int kRows = 15000;
  std::unique_ptr<warehouse::Warehouse> wh_;
};

pb::FederationRequest health_ping(uint64_t nonce) {
  pb::FederationRequest req;
  req.set_version(kProtocolVersion);
  req.mutable_health_ping()->set_nonce(nonce);
  return req;
}

TEST_F(NodeServiceTest, HealthPingsStayFastWhileAPolicyCheckRuns) {
  asio::io_context io(1);
  WorkerPool pool(2, 16, "test pool");
  p2p::Host node_host(io, p2p::Ed25519PrivateKey::generate());
  p2p::Host hub_host(io, p2p::Ed25519PrivateKey::generate());
  p2p::IdentifyService identify(node_host);
  auto membership = Membership::open_federation();
  NodeConfig nc;
  nc.flight_endpoint = "grpc://127.0.0.1:1";  // only tickets are minted here
  nc.request_timeout_ms = 60'000;
  NodeService node(node_host, identify, *wh_, membership, pool, nc);
  node.start();
  auto bound = node_host.listen(*p2p::Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound.ok()) << bound.error().to_string();
  auto addr = *p2p::Multiaddr::from_string(bound->to_string() + "/p2p/" + node_host.peer_id().to_string());

  std::vector<double> rtts_ms;  // pings answered while the ticket request was in flight
  double ticket_ms = 0;
  bool ticket_done = false;
  std::string ticket_result;
  auto exchange = [&]() -> Task<void> {
    auto conn = co_await hub_host.connect(addr);
    EXPECT_TRUE(conn.ok()) << conn.error().to_string();
    if (!conn.ok()) co_return;
    // One warm-up ping (stream set-up, status cache).
    auto warm = co_await federation_call(hub_host, *conn, health_ping(1), 5000);
    EXPECT_TRUE(warm.ok() && warm->has_health_pong());
    if (warm.ok()) {
      EXPECT_EQ(warm->health_pong().datasets(), 1);
    }

    auto ticket = [&]() -> Task<void> {
      pb::FederationRequest req;
      req.set_version(kProtocolVersion);
      // Aggregate over one group of ~kRows² pairs: allowed, but the node runs it
      // once to count.
      req.mutable_get_flight_endpoint()->set_sql(
          "SELECT count(*) AS n FROM synapse a, synapse b WHERE (a.synapse_id "
          "* 7 + b.synapse_id) % 3 <> 1");
      auto t0 = Clock::now();
      auto resp = co_await federation_call(hub_host, *conn, req, 60'000);
      ticket_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      ticket_result =
          resp.ok() ? (resp->has_flight_endpoint() ? "ticket" : resp->DebugString()) : resp.error().to_string();
      ticket_done = true;
    };
    asio::co_spawn(io, ticket(), asio::detached);
    asio::steady_timer timer(io);
    uint64_t nonce = 2;
    while (!ticket_done) {
      auto t0 = Clock::now();
      auto pong = co_await federation_call(hub_host, *conn, health_ping(nonce++), 5000);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      EXPECT_TRUE(pong.ok()) << pong.error().to_string();
      if (!ticket_done) rtts_ms.push_back(ms);
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    node_host.close();
    hub_host.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(exchange());
  p2p::testing::run_all(io, std::move(tasks));
  pool.stop();

  EXPECT_EQ(ticket_result, "ticket");
  // The load was real: the check took long enough for many pings.
  EXPECT_GE(ticket_ms, 500) << "the policy check was too quick to load the node";
  ASSERT_GE(rtts_ms.size(), 10u) << "ticket took " << ticket_ms << " ms";
  std::sort(rtts_ms.begin(), rtts_ms.end());
  const double p99 = rtts_ms[std::min(rtts_ms.size() - 1, rtts_ms.size() * 99 / 100)];
  std::printf("policy check %.0f ms; %zu pings meanwhile, p50 %.2f ms, p99 %.2f ms\n", ticket_ms, rtts_ms.size(),
              rtts_ms[rtts_ms.size() / 2], p99);
  EXPECT_LT(p99, 50.0);
}

}  // namespace
}  // namespace syndb::federation
