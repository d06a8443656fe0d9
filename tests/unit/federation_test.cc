// Federation layer tests: the health state machine and circuit breaker, the
// copy-on-write cluster registry (including concurrent readers and writers),
// the signed membership file, and /syndb/federation/1.0.0 over real loopback
// libp2p hosts.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "federation/health.h"
#include "federation/membership.h"
#include "federation/protocol.h"
#include "federation/registry.h"
#include "p2p/event.h"
#include "p2p/host/host.h"
#include "p2p/watchdog.h"
#include "test_fs.h"
#include "test_util.h"

namespace syndb::federation {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using p2p::testing::run_all;

// ---------------------------------------------------------------------------
// HealthTracker

HealthConfig test_config() {
  HealthConfig c;
  c.interval_ms = 2000;
  c.degraded_rtt_ms = 250;
  c.unreachable_after = 3;
  c.probe_backoff_ms = 1000;
  c.probe_backoff_max_ms = 30000;
  return c;
}

constexpr uint64_t kFastUs = 10'000;   // 10 ms
constexpr uint64_t kSlowUs = 400'000;  // 400 ms

TEST(HealthTrackerTest, StartsUnknownAndPingsAtTheInterval) {
  HealthTracker h(test_config());
  EXPECT_EQ(h.state(), HealthState::kUnknown);
  EXPECT_EQ(h.consecutive_failures(), 0u);
  EXPECT_EQ(h.next_delay_ms(), 2000u);
}

TEST(HealthTrackerTest, UnknownBecomesHealthyOnFirstFastAnswer) {
  HealthTracker h(test_config());
  auto t = h.on_success(kFastUs);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kUnknown);
  EXPECT_EQ(t->to, HealthState::kHealthy);
  EXPECT_FALSE(t->reason.empty());
  EXPECT_NE(t->reason.find("answered"), std::string::npos) << t->reason;
  EXPECT_EQ(h.state(), HealthState::kHealthy);
  EXPECT_EQ(h.next_delay_ms(), 2000u);
}

TEST(HealthTrackerTest, UnknownStaysUnknownUntilUnreachableAfterFailures) {
  HealthTracker h(test_config());
  EXPECT_FALSE(h.on_failure("timeout").has_value());
  EXPECT_EQ(h.state(), HealthState::kUnknown);
  EXPECT_EQ(h.consecutive_failures(), 1u);
  EXPECT_FALSE(h.on_failure("refused").has_value());
  EXPECT_EQ(h.state(), HealthState::kUnknown);
  EXPECT_EQ(h.consecutive_failures(), 2u);
  auto t = h.on_failure("connection reset");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kUnknown);
  EXPECT_EQ(t->to, HealthState::kUnreachable);
  EXPECT_NE(t->reason.find("3 consecutive failures"), std::string::npos) << t->reason;
  EXPECT_NE(t->reason.find("connection reset"), std::string::npos) << t->reason;  // the last cause
  EXPECT_NE(t->reason.find("circuit open"), std::string::npos) << t->reason;
  EXPECT_EQ(h.state(), HealthState::kUnreachable);
}

TEST(HealthTrackerTest, HealthyBecomesDegradedOnSlowAnswer) {
  HealthTracker h(test_config());
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  auto t = h.on_success(kSlowUs);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kHealthy);
  EXPECT_EQ(t->to, HealthState::kDegraded);
  EXPECT_NE(t->reason.find("slow"), std::string::npos) << t->reason;
  EXPECT_NE(t->reason.find("400 ms"), std::string::npos) << t->reason;
  EXPECT_NE(t->reason.find("250 ms"), std::string::npos) << t->reason;
  EXPECT_EQ(h.state(), HealthState::kDegraded);
}

TEST(HealthTrackerTest, AnswerAtExactlyTheThresholdIsHealthy) {
  HealthTracker h(test_config());
  auto t = h.on_success(250'000);  // rtt == degraded_rtt_ms: not "> degraded_rtt_ms"
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, HealthState::kHealthy);
}

TEST(HealthTrackerTest, HealthyBecomesDegradedOnFirstFailure) {
  HealthTracker h(test_config());
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  auto t = h.on_failure("timeout after 1500 ms");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kHealthy);
  EXPECT_EQ(t->to, HealthState::kDegraded);
  EXPECT_NE(t->reason.find("1/3"), std::string::npos) << t->reason;
  EXPECT_NE(t->reason.find("timeout after 1500 ms"), std::string::npos) << t->reason;
  EXPECT_EQ(h.next_delay_ms(), 2000u);  // circuit still closed
  // The second failure keeps it Degraded: no transition is reported.
  EXPECT_FALSE(h.on_failure("timeout").has_value());
  EXPECT_EQ(h.state(), HealthState::kDegraded);
  // The third opens the circuit.
  auto t3 = h.on_failure("timeout");
  ASSERT_TRUE(t3.has_value());
  EXPECT_EQ(t3->from, HealthState::kDegraded);
  EXPECT_EQ(t3->to, HealthState::kUnreachable);
}

TEST(HealthTrackerTest, DegradedBecomesHealthyOnFastAnswer) {
  HealthTracker h(test_config());
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  ASSERT_TRUE(h.on_success(kSlowUs).has_value());
  ASSERT_EQ(h.state(), HealthState::kDegraded);
  auto t = h.on_success(kFastUs);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kDegraded);
  EXPECT_EQ(t->to, HealthState::kHealthy);
  EXPECT_FALSE(t->reason.empty());
}

TEST(HealthTrackerTest, SuccessResetsTheFailureCount) {
  HealthTracker h(test_config());
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  ASSERT_TRUE(h.on_failure("x").has_value());
  EXPECT_FALSE(h.on_failure("x").has_value());
  EXPECT_EQ(h.consecutive_failures(), 2u);
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  EXPECT_EQ(h.consecutive_failures(), 0u);
  // Two more failures are not enough to open the circuit again.
  ASSERT_TRUE(h.on_failure("x").has_value());
  EXPECT_FALSE(h.on_failure("x").has_value());
  EXPECT_EQ(h.state(), HealthState::kDegraded);
}

TEST(HealthTrackerTest, NoTransitionWhenTheStateDoesNotChange) {
  HealthTracker h(test_config());
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  EXPECT_FALSE(h.on_success(kFastUs).has_value());  // Healthy → Healthy
  EXPECT_FALSE(h.on_success(1).has_value());
  ASSERT_TRUE(h.on_success(kSlowUs).has_value());
  EXPECT_FALSE(h.on_success(kSlowUs).has_value());  // Degraded → Degraded
  EXPECT_FALSE(h.on_failure("x").has_value());      // Degraded, 1 failure
  EXPECT_FALSE(h.on_failure("x").has_value());      // Degraded, 2 failures
  ASSERT_TRUE(h.on_failure("x").has_value());       // → Unreachable
  EXPECT_FALSE(h.on_failure("x").has_value());      // Unreachable → Unreachable
  EXPECT_FALSE(h.on_failure("x").has_value());
  EXPECT_EQ(h.state(), HealthState::kUnreachable);
}

TEST(HealthTrackerTest, UnreachableProbesWithDoublingCappedBackoff) {
  HealthTracker h(test_config());
  for (int i = 0; i < 3; ++i) (void)h.on_failure("timeout");
  ASSERT_EQ(h.state(), HealthState::kUnreachable);
  EXPECT_EQ(h.next_delay_ms(), 1000u);  // first half-open probe after probe_backoff_ms
  const uint32_t expected[] = {2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (uint32_t want : expected) {
    EXPECT_FALSE(h.on_failure("probe timed out").has_value());
    EXPECT_EQ(h.state(), HealthState::kUnreachable);
    EXPECT_EQ(h.next_delay_ms(), want);
  }
  EXPECT_EQ(h.consecutive_failures(), 3u + std::size(expected));
}

TEST(HealthTrackerTest, GoodProbeClosesTheCircuit) {
  HealthTracker h(test_config());
  for (int i = 0; i < 5; ++i) (void)h.on_failure("timeout");
  ASSERT_EQ(h.state(), HealthState::kUnreachable);
  ASSERT_EQ(h.next_delay_ms(), 4000u);
  auto t = h.on_success(kFastUs);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kUnreachable);
  EXPECT_EQ(t->to, HealthState::kHealthy);
  EXPECT_NE(t->reason.find("half-open probe answered"), std::string::npos) << t->reason;
  EXPECT_EQ(h.state(), HealthState::kHealthy);
  EXPECT_EQ(h.next_delay_ms(), 2000u);  // back to interval_ms
  EXPECT_EQ(h.consecutive_failures(), 0u);
  // Reopening the circuit starts the backoff from the beginning again.
  for (int i = 0; i < 3; ++i) (void)h.on_failure("timeout");
  ASSERT_EQ(h.state(), HealthState::kUnreachable);
  EXPECT_EQ(h.next_delay_ms(), 1000u);
}

TEST(HealthTrackerTest, SlowProbeClosesTheCircuitAsDegraded) {
  HealthTracker h(test_config());
  for (int i = 0; i < 3; ++i) (void)h.on_failure("timeout");
  auto t = h.on_success(kSlowUs);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, HealthState::kUnreachable);
  EXPECT_EQ(t->to, HealthState::kDegraded);
  EXPECT_EQ(h.next_delay_ms(), 2000u);
}

TEST(HealthTrackerTest, CustomBackoffConfig) {
  HealthConfig c;
  c.interval_ms = 500;
  c.unreachable_after = 1;
  c.probe_backoff_ms = 300;
  c.probe_backoff_max_ms = 1000;
  HealthTracker h(c);
  auto t = h.on_failure("refused");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, HealthState::kUnreachable);
  EXPECT_EQ(h.next_delay_ms(), 300u);
  (void)h.on_failure("refused");
  EXPECT_EQ(h.next_delay_ms(), 600u);
  (void)h.on_failure("refused");
  EXPECT_EQ(h.next_delay_ms(), 1000u);  // capped, not 1200
  (void)h.on_failure("refused");
  EXPECT_EQ(h.next_delay_ms(), 1000u);
  ASSERT_TRUE(h.on_success(kFastUs).has_value());
  EXPECT_EQ(h.next_delay_ms(), 500u);
}

TEST(HealthTrackerTest, StateNames) {
  EXPECT_STREQ(health_state_name(HealthState::kUnknown), "Unknown");
  EXPECT_STREQ(health_state_name(HealthState::kHealthy), "Healthy");
  EXPECT_STREQ(health_state_name(HealthState::kDegraded), "Degraded");
  EXPECT_STREQ(health_state_name(HealthState::kUnreachable), "Unreachable");
}

// ---------------------------------------------------------------------------
// Protocol over two real loopback hosts

using p2p::Connection;
using p2p::Host;
using p2p::Multiaddr;
using p2p::Task;

pb::FederationRequest ping_request(uint64_t nonce = 1) {
  pb::FederationRequest req;
  req.set_version(kProtocolVersion);
  req.mutable_health_ping()->set_nonce(nonce);
  req.mutable_health_ping()->set_sent_unix_ms(1'700'000'000'000);
  return req;
}

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bound = server_.listen(*Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    server_addr_ = *Multiaddr::from_string(bound->to_string() + "/p2p/" + server_.peer_id().to_string());
  }
  void TearDown() override {
    client_.close();
    server_.close();
  }
  // Runs body (the client side) with a connection to the server, then closes both hosts.
  void run(std::function<Task<void>(std::shared_ptr<Connection>)> body) {
    auto task = [this, body]() -> Task<void> {
      auto conn = co_await client_.connect(server_addr_);
      EXPECT_TRUE(conn.ok()) << conn.error().to_string();
      if (conn.ok()) co_await body(*conn);
      client_.close();
      server_.close();
    };
    std::vector<Task<void>> tasks;
    tasks.push_back(task());
    run_all(io_, std::move(tasks));
  }
  static pb::FederationRequest ping(uint64_t nonce) { return ping_request(nonce); }
  // Answers HealthPing with a pong echoing the nonce; counts calls.
  RequestHandler pong_handler() {
    return [this](const pb::FederationRequest& req, const Connection& conn) -> Task<pb::FederationResponse> {
      ++calls_;
      last_caller_ = conn.remote_peer.to_string();
      pb::FederationResponse resp;
      if (req.has_health_ping()) {
        resp.mutable_health_pong()->set_nonce(req.health_ping().nonce());
        resp.mutable_health_pong()->set_schema_version(7);
        resp.mutable_health_pong()->set_datasets(3);
      } else {
        resp.set_unsupported(true);
      }
      co_return resp;
    };
  }

  asio::io_context io_;
  Host server_{io_, p2p::Ed25519PrivateKey::generate()};
  Host client_{io_, p2p::Ed25519PrivateKey::generate()};
  Multiaddr server_addr_;
  int calls_ = 0;
  std::string last_caller_;
};

TEST_F(ProtocolTest, PingPong) {
  auto membership = Membership::open_federation();
  serve_federation(server_, membership, pong_handler(), 2000);
  bool done = false;
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    for (uint64_t nonce : {42u, 43u, 44u}) {  // one stream per request, several in a row
      auto resp = co_await federation_call(client_, conn, ping(nonce), 2000);
      EXPECT_TRUE(resp.ok()) << resp.error().to_string();
      if (!resp.ok()) co_return;
      EXPECT_EQ(resp->version(), kProtocolVersion);
      EXPECT_TRUE(resp->has_health_pong());
      EXPECT_EQ(resp->health_pong().nonce(), nonce);
      EXPECT_EQ(resp->health_pong().schema_version(), 7);
      EXPECT_EQ(resp->health_pong().datasets(), 3);
    }
    done = true;
  });
  EXPECT_TRUE(done);
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(last_caller_, client_.peer_id().to_string());
}

TEST_F(ProtocolTest, UnsupportedAndErrorResponsesAreErrors) {
  auto membership = Membership::open_federation();
  serve_federation(
      server_, membership,
      [](const pb::FederationRequest& req, const Connection&) -> Task<pb::FederationResponse> {
        pb::FederationResponse resp;
        if (req.has_catalog())
          resp.set_error("warehouse is closed");
        else
          resp.set_unsupported(true);
        co_return resp;
      },
      2000);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    auto r1 = co_await federation_call(client_, conn, ping(1), 2000);
    EXPECT_FALSE(r1.ok());
    if (!r1.ok()) {
      EXPECT_EQ(r1.error().code(), ErrorCode::kUnsupported);
    }
    pb::FederationRequest cat;
    cat.set_version(kProtocolVersion);
    cat.mutable_catalog();
    auto r2 = co_await federation_call(client_, conn, cat, 2000);
    EXPECT_FALSE(r2.ok());
    if (!r2.ok()) {
      EXPECT_EQ(r2.error().code(), ErrorCode::kInternal);
      EXPECT_NE(r2.error().message().find("warehouse is closed"), std::string::npos);
    }
  });
}

TEST_F(ProtocolTest, PeerWithoutTheProtocolIsUnsupported) {
  // The server does not serve the federation protocol at all.
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    auto resp = co_await federation_call(client_, conn, ping(1), 2000);
    EXPECT_FALSE(resp.ok());
    if (!resp.ok()) {
      EXPECT_EQ(resp.error().code(), ErrorCode::kUnsupported) << resp.error().to_string();
    }
  });
}

TEST_F(ProtocolTest, HandlerThatNeverAnswersTimesOut) {
  auto membership = Membership::open_federation();
  p2p::Event release(io_.get_executor());
  bool released = false;
  int handler_calls = 0;
  serve_federation(
      server_, membership,
      [&](const pb::FederationRequest&, const Connection&) -> Task<pb::FederationResponse> {
        ++handler_calls;
        while (!released) co_await release.wait();  // "never" answers (until the test is over)
        co_return pb::FederationResponse{};
      },
      5000);
  constexpr uint32_t kTimeoutMs = 300;
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    auto start = std::chrono::steady_clock::now();
    auto resp = co_await federation_call(client_, conn, ping(9), kTimeoutMs);
    auto elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_FALSE(resp.ok());
    if (!resp.ok()) {
      EXPECT_EQ(resp.error().code(), ErrorCode::kTimeout) << resp.error().to_string();
    }
    EXPECT_GE(elapsed_ms, kTimeoutMs - 5);
    EXPECT_LT(elapsed_ms, kTimeoutMs + 400) << "federation_call overran its timeout";
    // The connection is still usable after the timed-out stream.
    EXPECT_FALSE(conn->closed());
    released = true;
    release.notify_all();
    // Let the handler finish and find its stream reset.
    asio::steady_timer t(io_, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  });
  EXPECT_EQ(handler_calls, 1);
}

// A closed federation file at a fresh temp path, loaded; `members` are admitted besides the admin.
Result<Membership> closed_federation(const p2p::Ed25519PrivateKey& admin, const std::vector<p2p::PeerId>& members) {
  std::string dir = test_support::MakeTempDir("syndb_fed_proto_");
  if (dir.empty()) return Error(ErrorCode::kIo, "mkdtemp failed");
  std::string file = dir + "/federation.json";
  Status st = init_federation(file, "closed", admin);
  for (const auto& m : members) {
    if (st.ok()) st = admit_peer(file, m, admin);
  }
  Result<Membership> out = st.ok() ? Membership::load(file) : Result<Membership>(st.error());
  test_support::RemoveTree(dir);
  return out;
}

TEST_F(ProtocolTest, ClosedFederationServesMembers) {
  auto membership = closed_federation(server_.identity(), {client_.peer_id()});
  ASSERT_TRUE(membership.ok()) << membership.error().to_string();
  serve_federation(server_, *membership, pong_handler(), 2000);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    auto resp = co_await federation_call(client_, conn, ping(3), 2000);
    EXPECT_TRUE(resp.ok()) << resp.error().to_string();
  });
  EXPECT_EQ(calls_, 1);
}

TEST_F(ProtocolTest, NotAdmittedCallerIsRefused) {
  auto membership = closed_federation(server_.identity(), {});  // the server alone
  ASSERT_TRUE(membership.ok()) << membership.error().to_string();
  ASSERT_FALSE(membership->admits(client_.peer_id()));
  serve_federation(server_, *membership, pong_handler(), 2000);
  int failed = 0;
  bool conn_alive = false;
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    for (int i = 0; i < 20; ++i) {
      auto resp = co_await federation_call(client_, conn, ping(static_cast<uint64_t>(i)), 2000);
      EXPECT_FALSE(resp.ok());
      if (!resp.ok()) {
        ++failed;
        // kPermissionDenied is the documented code; see NotAdmittedCallerGetsPermissionDenied.
        EXPECT_TRUE(resp.error().code() == ErrorCode::kPermissionDenied || resp.error().code() == ErrorCode::kReset)
            << resp.error().to_string();
      }
    }
    conn_alive = !conn->closed();  // refusing a stream does not drop the connection
  });
  EXPECT_EQ(failed, 20);
  EXPECT_TRUE(conn_alive);
  EXPECT_EQ(calls_, 0) << "the handler ran for a peer that is not admitted";
}

// BUG (src/federation/protocol.cc, federation_call): a refused caller gets
// kReset, not the documented kPermissionDenied. serve_federation resets the
// stream right after multistream negotiation; the client's yamux stream
// drops its buffered negotiation reply on RST (YamuxStream::on_reset), so
// host.new_stream() fails with kReset and federation_call returns that error
// as is: its kReset → kPermissionDenied mapping only covers the read of the
// response. On loopback this happens 20 times out of 20. Disabled until fixed.
TEST_F(ProtocolTest, NotAdmittedCallerGetsPermissionDenied) {
  auto membership = closed_federation(server_.identity(), {});
  ASSERT_TRUE(membership.ok()) << membership.error().to_string();
  serve_federation(server_, *membership, pong_handler(), 2000);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    for (int i = 0; i < 20; ++i) {  // the refusal races with negotiation and our write: try it many times
      auto resp = co_await federation_call(client_, conn, ping(static_cast<uint64_t>(i)), 2000);
      EXPECT_FALSE(resp.ok());
      if (!resp.ok()) {
        EXPECT_EQ(resp.error().code(), ErrorCode::kPermissionDenied) << resp.error().to_string();
      }
    }
  });
  EXPECT_EQ(calls_, 0);
}

// BUG (src/federation/protocol.cc, federation_call): timeout_ms does not bound
// stream negotiation. host.new_stream() is bounded only by the host's
// handshake_timeout_ms (10 s by default), and federation_call starts its own
// watchdog after it, so a peer whose connection is up but which does not
// answer (hung process, stopped event loop) makes a 300 ms call take the full
// handshake timeout. The hub's health pings to a frozen node therefore take
// 10 s instead of timeout_ms (1.5 s) to fail. Disabled until fixed.
TEST(ProtocolStallTest, TimeoutCoversStreamNegotiation) {
  asio::io_context io, server_io;
  p2p::HostConfig client_config;
  client_config.handshake_timeout_ms = 3000;
  Host client(io, p2p::Ed25519PrivateKey::generate(), client_config);
  auto server = std::make_unique<Host>(server_io, p2p::Ed25519PrivateKey::generate());
  auto membership = Membership::open_federation();
  serve_federation(
      *server, membership,
      [](const pb::FederationRequest&, const Connection&) -> Task<pb::FederationResponse> {
        co_return pb::FederationResponse{};
      },
      2000);
  auto bound = server->listen(*Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound.ok());
  auto addr = *Multiaddr::from_string(bound->to_string() + "/p2p/" + server->peer_id().to_string());
  // The server's event loop runs in its own thread while we connect, then stops:
  // the TCP connection stays up but nobody answers on it.
  auto guard = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });
  std::shared_ptr<Connection> conn;
  {
    // (Coroutine lambdas are named: their captures live in the closure, which must outlive the coroutine.)
    auto connect = [&]() -> Task<void> {
      auto c = co_await client.connect(addr);
      EXPECT_TRUE(c.ok()) << c.error().to_string();
      if (c.ok()) conn = *c;
    };
    // The client's session keeps reading, so run until the connect task is done, not until idle.
    asio::co_spawn(io, connect(), [&](std::exception_ptr) { io.stop(); });
    io.run();
    io.restart();
  }
  server_io.stop();
  server_thread.join();
  ASSERT_NE(conn, nullptr);

  constexpr uint32_t kTimeoutMs = 300;
  Result<pb::FederationResponse> resp = Error(ErrorCode::kInternal, "not run");
  int64_t elapsed_ms = 0;
  auto call = [&]() -> Task<void> {
    auto start = std::chrono::steady_clock::now();
    resp = co_await federation_call(client, conn, ping_request(), kTimeoutMs);
    elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    client.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(call());
  run_all(io, std::move(tasks));
  EXPECT_FALSE(resp.ok());
  if (!resp.ok()) {
    EXPECT_EQ(resp.error().code(), ErrorCode::kTimeout) << resp.error().to_string();
  }
  EXPECT_LT(elapsed_ms, kTimeoutMs + 400) << "federation_call(timeout_ms=300) took " << elapsed_ms << " ms";
  server.reset();
}

TEST_F(ProtocolTest, MalformedRequestResetsTheStreamAndServingContinues) {
  auto membership = Membership::open_federation();
  serve_federation(server_, membership, pong_handler(), 2000);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    const std::vector<std::string> protos{std::string(kFederationProtocol)};
    // Field 10 (register, length-delimited) claiming 16 bytes that never come;
    // then a tag with the invalid wire type 7.
    const std::vector<Bytes> bad_bodies{Bytes{0x52, 0x10, 0x01}, Bytes{0x0f, 0x00}};
    int served = 0;
    for (const Bytes& bad : bad_bodies) {
      pb::FederationRequest probe;
      EXPECT_FALSE(probe.ParseFromArray(bad.data(), static_cast<int>(bad.size())));  // really malformed
      auto ns = co_await client_.new_stream(conn, protos);
      EXPECT_TRUE(ns.ok()) << ns.error().to_string();
      if (!ns.ok()) co_return;
      p2p::Watchdog wd(io_, 3000, ns->stream.get());
      Status st = co_await p2p::write_length_prefixed(*ns->stream, bad);
      if (st.ok()) st = co_await ns->stream->close_write();
      Result<Bytes> body = Error(ErrorCode::kInternal, "not read");
      if (st.ok()) body = co_await p2p::read_length_prefixed(*ns->stream, kMaxMessage);
      wd.disarm();
      EXPECT_FALSE(wd.fired()) << "server neither answered nor reset the stream";
      EXPECT_FALSE(body.ok()) << "server answered a malformed request";
      if (!body.ok() && st.ok()) {
        EXPECT_EQ(body.error().code(), ErrorCode::kReset) << body.error().to_string();
      }
      EXPECT_EQ(calls_, served) << "the handler ran for a malformed request";
      // The server keeps serving on the same connection.
      auto resp = co_await federation_call(client_, conn, ping(77), 2000);
      EXPECT_TRUE(resp.ok()) << resp.error().to_string();
      if (resp.ok()) {
        EXPECT_EQ(resp->health_pong().nonce(), 77u);
      }
      ++served;
    }
  });
  EXPECT_EQ(calls_, 2);
}

TEST_F(ProtocolTest, OversizedRequestIsRefused) {
  auto membership = Membership::open_federation();
  serve_federation(server_, membership, pong_handler(), 2000);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    const std::vector<std::string> protos{std::string(kFederationProtocol)};
    auto ns = co_await client_.new_stream(conn, protos);
    EXPECT_TRUE(ns.ok());
    if (!ns.ok()) co_return;
    // A length prefix above kMaxMessage: uvarint(kMaxMessage + 1) and nothing else.
    uint64_t n = kMaxMessage + 1;
    Bytes prefix;
    while (n >= 0x80) {
      prefix.push_back(static_cast<uint8_t>(n | 0x80));
      n >>= 7;
    }
    prefix.push_back(static_cast<uint8_t>(n));
    p2p::Watchdog wd(io_, 3000, ns->stream.get());
    Status st = co_await ns->stream->write(prefix);
    Result<Bytes> body = Error(ErrorCode::kInternal, "not read");
    if (st.ok()) body = co_await p2p::read_length_prefixed(*ns->stream, kMaxMessage);
    wd.disarm();
    EXPECT_FALSE(wd.fired());
    EXPECT_FALSE(body.ok());
    auto resp = co_await federation_call(client_, conn, ping(5), 2000);
    EXPECT_TRUE(resp.ok()) << resp.error().to_string();
  });
  EXPECT_EQ(calls_, 1);
}

TEST_F(ProtocolTest, SilentClientIsResetAfterTheServerTimeout) {
  auto membership = Membership::open_federation();
  constexpr uint32_t kServerTimeoutMs = 200;
  serve_federation(server_, membership, pong_handler(), kServerTimeoutMs);
  run([&](std::shared_ptr<Connection> conn) -> Task<void> {
    const std::vector<std::string> protos{std::string(kFederationProtocol)};
    auto ns = co_await client_.new_stream(conn, protos);
    EXPECT_TRUE(ns.ok());
    if (!ns.ok()) co_return;
    auto start = std::chrono::steady_clock::now();
    p2p::Watchdog wd(io_, 3000, ns->stream.get());
    auto body = co_await p2p::read_length_prefixed(*ns->stream, kMaxMessage);  // we never send a request
    wd.disarm();
    auto elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_FALSE(wd.fired()) << "the server did not bound the wait for the request";
    EXPECT_FALSE(body.ok());
    EXPECT_GE(elapsed_ms, kServerTimeoutMs - 20);
    EXPECT_LT(elapsed_ms, kServerTimeoutMs + 1000);
  });
  EXPECT_EQ(calls_, 0);
}

}  // namespace
}  // namespace syndb::federation
