// The resource manager against the three attacks of issue 12, each by
// non-members while a member connects and pings within its usual time:
//   1. idle connections from many random keys (600: past the old limit of
//      512 inbound connections that locked everyone out),
//   2. 1000 TCP connections that never finish the handshake,
//   3. echo streams whose echoes are never read (the old 16 MiB windows let
//      one connection buffer 16 MiB per stream).
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "federation/membership.h"
#include "federation/protocol.h"
#include "p2p/host/host.h"
#include "p2p/ping/ping.h"
#include "p2p/transport/tcp.h"
#include "test_util.h"

namespace syndb::p2p {
namespace {

using Clock = std::chrono::steady_clock;
using testing::run_all;

constexpr std::string_view kEcho = "/echo/1.0.0";

HostConfig server_config() {
  HostConfig c;
  c.limits.handshakes = 32;
  c.limits.strangers.connections = 16;
  c.limits.strangers.memory = 8u << 20;
  c.limits.strangers.memory_per_connection = 2u << 20;
  return c;
}

class ResourceAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_peer_classifier([id = member_.peer_id()](const PeerId& p) { return p == id; });
    register_ping(server_);
    server_.set_stream_handler(std::string(kEcho), [](NegotiatedStream ns) -> Task<void> {
      Bytes buf(64 * 1024);
      for (;;) {
        auto n = co_await ns.stream->read_some(buf);
        if (!n.ok() || *n == 0) break;
        if (!(co_await ns.stream->write(ByteSpan(buf.data(), *n))).ok()) break;
      }
      ns.stream->reset();
    });
    auto bound = server_.listen(*Multiaddr::from_string("/ip4/127.0.0.1/tcp/0"));
    ASSERT_TRUE(bound.ok());
    tcp_addr_ = *bound;
    addr_ = *Multiaddr::from_string(bound->to_string() + "/p2p/" + server_.peer_id().to_string());
  }

  // The member connects and pings; returns the time both took (ms), or -1.
  Task<double> member_ping() {
    auto t0 = Clock::now();
    const std::vector<std::string> protos{std::string(kPingProtocol)};
    auto ns = co_await member_.new_stream(addr_, protos);
    EXPECT_TRUE(ns.ok()) << ns.error().to_string();
    if (!ns.ok()) co_return -1;
    auto rtt = co_await ping_once(*ns->stream);
    EXPECT_TRUE(rtt.ok());
    ns->stream->reset();
    co_return rtt.ok() ? std::chrono::duration<double, std::milli>(Clock::now() - t0).count() : -1;
  }

  // Polls `done` every 10 ms for at most `ms`.
  Task<bool> until(std::function<bool()> done, int ms = 10'000) {
    asio::steady_timer timer(io_);
    for (int waited = 0; waited < ms && !done(); waited += 10) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return done();
  }

  ResourceManager::ClassStats strangers() const { return server_.resource_manager().stats(PeerClass::kStranger); }

  asio::io_context io_;
  Host server_{io_, Ed25519PrivateKey::generate(), server_config()};
  Host member_{io_, Ed25519PrivateKey::generate()};
  Multiaddr addr_, tcp_addr_;
};

TEST_F(ResourceAttack, IdleConnectionsFromRandomKeysDoNotLockMembersOut) {
  // The member also registers over the federation protocol, as a node does.
  auto membership = federation::Membership::open_federation();
  federation::serve_federation(
      server_, membership,
      [](const syndb::pb::FederationRequest& req, const Connection&) -> Task<syndb::pb::FederationResponse> {
        syndb::pb::FederationResponse resp;
        if (req.has_register_()) {
          resp.mutable_register_ack()->set_hub_name("hub");
        } else {
          resp.set_unsupported(true);
        }
        co_return resp;
      },
      2000);
  std::vector<std::unique_ptr<Host>> attackers;
  size_t most_strangers = 0;
  double ping_ms = -1, register_ms = -1;
  auto body = [&]() -> Task<void> {
    for (int i = 0; i < 600; ++i) {
      attackers.push_back(std::make_unique<Host>(io_, Ed25519PrivateKey::generate()));
      (void)co_await attackers.back()->connect(addr_);  // refused or accepted: either way it stays idle
      most_strangers = std::max(most_strangers, strangers().connections);
    }
    ping_ms = co_await member_ping();
    const auto t0 = Clock::now();
    auto conn = co_await member_.connect(addr_);
    EXPECT_TRUE(conn.ok());
    if (conn.ok()) {
      syndb::pb::FederationRequest reg;
      reg.set_version(federation::kProtocolVersion);
      reg.mutable_register_()->set_name("member");
      auto ack = co_await federation::federation_call(member_, *conn, reg, 2000);
      EXPECT_TRUE(ack.ok() && ack->has_register_ack()) << (ack.ok() ? "" : ack.error().to_string());
      if (ack.ok()) register_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    for (auto& a : attackers) a->close();
    member_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
  EXPECT_LE(most_strangers, 16u);
  EXPECT_GE(ping_ms, 0);
  EXPECT_LT(ping_ms, 2000) << "the member waited too long";
  EXPECT_GE(register_ms, 0);
  EXPECT_LT(register_ms, 2000) << "the member's registration waited too long";
  EXPECT_EQ(server_.resource_manager().stats(PeerClass::kMember).connections_refused, 0u);
}

TEST_F(ResourceAttack, StalledHandshakesAreBoundedAndMembersStillConnect) {
  std::vector<std::unique_ptr<tcp::socket>> stalled;
  auto ep = *endpoint_from_multiaddr(tcp_addr_);
  double ping_ms = -1;
  size_t most_handshakes = 0;
  auto body = [&]() -> Task<void> {
    for (int i = 0; i < 1000; ++i) {
      stalled.push_back(std::make_unique<tcp::socket>(io_));
      auto [ec] = co_await stalled.back()->async_connect(ep, asio::as_tuple(asio::use_awaitable));
      EXPECT_FALSE(ec) << ec.message();
      most_handshakes = std::max(most_handshakes, server_.resource_manager().handshakes());
    }
    // Every accepted socket has been seen: all but the last 32 were aborted.
    EXPECT_TRUE(co_await until([&] { return server_.resource_manager().handshakes_aborted() >= 1000 - 32; }));
    most_handshakes = std::max(most_handshakes, server_.resource_manager().handshakes());
    ping_ms = co_await member_ping();
    for (auto& s : stalled) s->close();
    member_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
  EXPECT_LE(most_handshakes, 32u);
  EXPECT_GE(ping_ms, 0);
  EXPECT_LT(ping_ms, 2000);
}

TEST_F(ResourceAttack, UnreadEchoStreamsStayWithinTheStrangersMemoryBudget) {
  Host stranger(io_, Ed25519PrivateKey::generate());
  uint64_t written = 0;
  int writers = 0, opened = 0;
  uint64_t most_memory = 0;
  double ping_ms = -1;
  auto writer = [&](std::shared_ptr<Stream> s) -> Task<void> {
    ++writers;
    Bytes chunk(64 * 1024, 0x5a);
    for (int i = 0; i < 64; ++i) {  // 4 MiB, echoes never read
      if (!(co_await s->write(chunk)).ok()) break;
      written += chunk.size();
    }
    --writers;
  };
  auto body = [&]() -> Task<void> {
    auto conn = co_await stranger.connect(addr_);
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) co_return;
    const std::vector<std::string> echo{std::string(kEcho)};
    for (int i = 0; i < 32; ++i) {
      auto ns = co_await stranger.new_stream(*conn, echo);
      if (!ns.ok()) continue;  // past the strangers' 16 streams per connection: refused
      ++opened;
      asio::co_spawn(io_, writer(ns->stream), asio::detached);
    }
    // Until the writers stall (written unchanged for 300 ms) or finish.
    uint64_t last = 0;
    int still = 0;
    co_await until([&] {
      most_memory = std::max(most_memory, strangers().memory_used);
      still = written == last ? still + 1 : 0;
      last = written;
      return writers == 0 || still >= 30;
    });
    ping_ms = co_await member_ping();
    stranger.close();
    member_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
  std::printf("%d echo streams opened, %llu bytes written, stranger memory at most %llu bytes\n", opened,
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(most_memory));
  EXPECT_GE(opened, 1);
  EXPECT_LE(opened, 16);
  EXPECT_LE(most_memory, 2u << 20) << "one stranger connection buffered past its budget";
  EXPECT_LT(written, static_cast<uint64_t>(opened) * (4u << 20)) << "the writes should have stalled on flow control";
  EXPECT_GE(ping_ms, 0);
  EXPECT_LT(ping_ms, 2000);
}

TEST(ResourceManagerTest, MetricsNameEveryBudget) {
  ResourceManager rm;
  ASSERT_TRUE(rm.admit_connection(PeerClass::kStranger));
  auto budget = rm.connection_budget(PeerClass::kStranger);
  ASSERT_TRUE(budget->reserve(1000));
  EXPECT_EQ(rm.stats(PeerClass::kStranger).memory_used, 1000u);
  EXPECT_EQ(rm.memory_used(), 1000u);
  EXPECT_FALSE(budget->reserve(rm.limits().strangers.memory_per_connection));
  std::string text = rm.metrics_text();
  for (const char* want :
       {"syndb_p2p_connections{class=\"stranger\"} 1", "syndb_p2p_memory_bytes{class=\"stranger\"} 1000",
        "syndb_p2p_connections_limit{class=\"member\"}", "syndb_p2p_handshakes_limit 64"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  budget->release(1000);
  EXPECT_EQ(rm.memory_used(), 0u);
}

}  // namespace
}  // namespace syndb::p2p
