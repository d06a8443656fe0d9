// The host's swarm pieces (issue 12): connection and disconnection events,
// the PeerStore (bounds, address ranking and TTLs, updates from identify),
// and identify's per-peer state dropped when the peer's last connection
// closes — over real loopback TCP hosts.
#include "p2p/host/host.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "p2p/host/dialer.h"
#include "p2p/host/peer_store.h"
#include "p2p/host/request_response.h"
#include "p2p/identify/identify.h"
#include "p2p/transport/memory.h"
#include "test_util.h"

namespace syndb::p2p {
namespace {

using testing::run_all;

Multiaddr ma(const std::string& s) { return *Multiaddr::from_string(s); }
PeerId random_peer() { return PeerId::from_public_key(Ed25519PrivateKey::generate().public_key()); }

TEST(PeerStoreTest, AddressesAreRankedBySourceAndDeduplicated) {
  PeerStore store;
  PeerId p = random_peer();
  store.add_addrs(p, {ma("/ip4/10.0.0.1/tcp/1")}, AddrSource::kMdns, PeerStore::kDiscoveredTtl);
  store.add_addrs(p, {ma("/ip4/10.0.0.2/tcp/2/p2p/" + p.to_string())}, AddrSource::kIdentify, PeerStore::kConnectedTtl);
  store.add_addrs(p, {ma("/ip4/10.0.0.3/tcp/3")}, AddrSource::kConfig, PeerStore::kPermanent);
  store.add_addrs(p, {ma("/ip4/10.0.0.1/tcp/1")}, AddrSource::kIdentify, PeerStore::kConnectedTtl);  // seen again
  auto got = store.addrs(p);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].to_string(), "/ip4/10.0.0.3/tcp/3");  // config first
  EXPECT_EQ(got[1].to_string(), "/ip4/10.0.0.1/tcp/1");  // upgraded from mdns to identify; learnt first
  EXPECT_EQ(got[2].to_string(), "/ip4/10.0.0.2/tcp/2");  // /p2p/ stripped
  store.set_addrs(p, {}, AddrSource::kIdentify, PeerStore::kConnectedTtl);  // identify's full list: none
  EXPECT_EQ(store.addrs(p).size(), 1u);
}

TEST(PeerStoreTest, ExpiredAddressesAreNotReturned) {
  PeerStore store;
  PeerId p = random_peer();
  store.add_addrs(p, {ma("/ip4/10.0.0.1/tcp/1")}, AddrSource::kDht, std::chrono::seconds(-1));
  store.add_addrs(p, {ma("/ip4/10.0.0.2/tcp/1")}, AddrSource::kDht, std::chrono::hours(1));
  auto got = store.addrs(p);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].to_string(), "/ip4/10.0.0.2/tcp/1");
}

TEST(PeerStoreTest, StrangersCannotGrowItBeyondItsBounds) {
  PeerStoreLimits limits;
  limits.max_peers = 50;
  limits.max_addrs_per_peer = 4;
  limits.max_protocols_per_peer = 3;
  PeerStore store(limits);
  PeerId connected = random_peer();
  store.connected(connected);
  for (int i = 0; i < 1000; ++i) {
    PeerId p = random_peer();
    std::vector<Multiaddr> addrs;
    for (int j = 0; j < 10; ++j)
      addrs.push_back(ma("/ip4/10.0." + std::to_string(i % 250) + "." + std::to_string(j) + "/tcp/1"));
    store.add_addrs(p, addrs, AddrSource::kIdentify, PeerStore::kConnectedTtl);
    store.set_protocols(p, {"/a", "/b", "/c", "/d", "/e"});
    EXPECT_LE(store.find(p)->addrs.size(), 4u);
    EXPECT_EQ(store.find(p)->protocols.size(), 3u);
  }
  EXPECT_EQ(store.size(), 50u);
  EXPECT_NE(store.find(connected), nullptr) << "a connected peer is never evicted";
  store.disconnected(connected);
  store.forget(connected);
  EXPECT_EQ(store.find(connected), nullptr);
}

TEST(PeerStoreTest, LatencyIsAMovingAverage) {
  PeerStore store;
  PeerId p = random_peer();
  store.record_latency(p, std::chrono::microseconds(1000));
  EXPECT_EQ(store.find(p)->latency->count(), 1000);
  store.record_latency(p, std::chrono::microseconds(2000));
  EXPECT_EQ(store.find(p)->latency->count(), 1100);
}

class HostEventsTest : public ::testing::Test {
 protected:
  HostEventsTest() {
    server_.add_transport(std::make_unique<MemoryTransport>(io_));
    client_.add_transport(std::make_unique<MemoryTransport>(io_));
  }
  virtual std::string listen_addr() const { return "/ip4/127.0.0.1/tcp/0"; }
  void SetUp() override {
    auto bound = server_.listen(ma(listen_addr()));
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    server_addr_ = ma(bound->to_string() + "/p2p/" + server_.peer_id().to_string());
  }
  // Waits (every 5 ms, at most 5 s) for `done`.
  Task<bool> until(std::function<bool()> done) {
    asio::steady_timer timer(io_);
    for (int i = 0; i < 1000 && !done(); ++i) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return done();
  }

  asio::io_context io_;
  Host server_{io_, Ed25519PrivateKey::generate()};
  Host client_{io_, Ed25519PrivateKey::generate()};
  Multiaddr server_addr_;
};

// The swarm's behaviour, the same over TCP and over the in-memory transport.
class SwarmTest : public HostEventsTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string listen_addr() const override { return GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(Transports, SwarmTest, ::testing::Values("/ip4/127.0.0.1/tcp/0", "/memory/0"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           return p.param.rfind("/memory", 0) == 0 ? std::string("Memory") : std::string("Tcp");
                         });

TEST_P(SwarmTest, ConnectAndDisconnectAreReportedOnBothSides) {
  int server_up = 0, server_down = 0, client_up = 0, client_down = 0;
  server_.add_connection_listener([&](const std::shared_ptr<Connection>&) { ++server_up; });
  server_.add_disconnection_listener([&](const std::shared_ptr<Connection>& c) {
    ++server_down;
    EXPECT_EQ(c->remote_peer, client_.peer_id());
    EXPECT_EQ(server_.find_connection(client_.peer_id()), nullptr) << "reported after it left connections()";
  });
  client_.add_connection_listener([&](const std::shared_ptr<Connection>&) { ++client_up; });
  client_.add_disconnection_listener([&](const std::shared_ptr<Connection>&) { ++client_down; });
  auto body = [&]() -> Task<void> {
    auto conn = co_await client_.connect(server_addr_);
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) co_return;
    EXPECT_TRUE(co_await until([&] { return server_up == 1; }));
    EXPECT_EQ(client_up, 1);
    EXPECT_EQ(client_.peer_store().find(server_.peer_id())->connections, 1);
    EXPECT_TRUE(client_.peer_store().find(server_.peer_id())->public_key.has_value());
    (*conn)->close();
    EXPECT_TRUE(co_await until([&] { return server_down == 1 && client_down == 1; }));
    EXPECT_EQ(client_.peer_store().find(server_.peer_id())->connections, 0);
    EXPECT_TRUE(client_.connections().empty());
    client_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
  EXPECT_EQ(server_down, 1);
  EXPECT_EQ(client_down, 1);
}

TEST_P(SwarmTest, IdentifyFillsThePeerStoreAndForgetsOnDisconnect) {
  IdentifyService server_id(server_), client_id(client_);
  std::vector<std::string> events;
  client_.subscribe([&](const HostEvent& e) { events.push_back(host_event_name(e.kind)); });
  server_.set_stream_handler("/test/marker/1.0.0",
                             [](NegotiatedStream ns) -> Task<void> { (void)co_await ns.stream->close_write(); });
  auto body = [&]() -> Task<void> {
    auto conn = co_await client_.connect(server_addr_);
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) co_return;
    const IdentifyInfo* info = co_await client_id.wait_for(server_.peer_id(), 5000);
    EXPECT_NE(info, nullptr);
    const PeerStore& store = client_.peer_store();
    EXPECT_TRUE(store.supports(server_.peer_id(), "/test/marker/1.0.0"));
    EXPECT_EQ(store.find(server_.peer_id())->agent_version, server_.config().agent_version);
    auto addrs = store.addrs(server_.peer_id());
    EXPECT_FALSE(addrs.empty());
    if (!addrs.empty()) {
      EXPECT_EQ(addrs[0].to_string(), server_addr_.without_peer_id().to_string());
    }
    // The server told us how it sees us: our own observed-address candidate.
    EXPECT_FALSE(store.addrs(client_.peer_id()).empty());
    (*conn)->close();
    EXPECT_TRUE(co_await until([&] { return client_id.peer_info(server_.peer_id()) == nullptr; }))
        << "identify kept state for a disconnected peer";
    EXPECT_TRUE(co_await until([&] { return server_id.peer_info(client_.peer_id()) == nullptr; }));
    // The client's event bus saw it all, in order.
    const std::vector<std::string> order{"connected", "observed address", "identified", "disconnected"};
    EXPECT_EQ(events, order);
    client_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
}

TEST_F(HostEventsTest, IdentifyNeverAdvertisesAWildcardAddress) {
  Host wild(io_, Ed25519PrivateKey::generate());
  auto bound = wild.listen(ma("/ip4/0.0.0.0/tcp/0"));
  ASSERT_TRUE(bound.ok());
  IdentifyService wild_id(wild), client_id(client_);
  auto port = bound->to_string().substr(bound->to_string().rfind('/') + 1);
  auto body = [&]() -> Task<void> {
    auto conn = co_await client_.connect(ma("/ip4/127.0.0.1/tcp/" + port + "/p2p/" + wild.peer_id().to_string()));
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) co_return;
    const IdentifyInfo* info = co_await client_id.wait_for(wild.peer_id(), 5000);
    EXPECT_NE(info, nullptr);
    if (info) {
      EXPECT_FALSE(info->listen_addrs.empty());
      bool loopback = false;
      for (const auto& a : info->listen_addrs) {
        EXPECT_EQ(a.to_string().find("0.0.0.0"), std::string::npos) << a.to_string();
        loopback = loopback || a.to_string() == "/ip4/127.0.0.1/tcp/" + port;
      }
      EXPECT_TRUE(loopback) << "the interfaces' addresses, loopback included";
    }
    client_.close();
    wild.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
}

TEST_P(SwarmTest, RequestResponseBoundsSizeAndTime) {
  RequestResponseConfig cfg;
  cfg.protocol = "/test/rr/1.0.0";
  cfg.max_request = 1024;
  cfg.max_response = 4096;
  cfg.timeout_ms = 2000;
  bool refuse = false;
  serve_requests(
      server_, cfg,
      [this](Bytes req, const Connection&) -> Task<Result<Bytes>> {
        std::string text(req.begin(), req.end());
        if (text == "big") co_return Bytes(8192, 1);  // over max_response
        if (text == "slow") {
          asio::steady_timer t(io_, std::chrono::seconds(1));  // past the client's 300 ms
          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (text == "fail") co_return Error(ErrorCode::kInternal, "handler failed");
        Bytes out(req.rbegin(), req.rend());
        co_return out;
      },
      [&refuse](const Connection&) { return !refuse; });
  auto body = [&]() -> Task<void> {
    auto conn = co_await client_.connect(server_addr_);
    EXPECT_TRUE(conn.ok());
    if (!conn.ok()) co_return;
    auto ask = [&](std::string text, uint32_t timeout_ms) -> Task<Result<Bytes>> {
      co_return co_await send_request(client_, *conn, cfg, as_bytes(text), timeout_ms);
    };
    auto ok = co_await ask("abc", 2000);
    EXPECT_TRUE(ok.ok());
    if (ok.ok()) {
      EXPECT_EQ(std::string(ok->begin(), ok->end()), "cba");
    }
    auto big_request = co_await ask(std::string(2000, 'x'), 2000);
    EXPECT_EQ(big_request.error().code(), ErrorCode::kLimitExceeded);
    auto big = co_await ask("big", 2000);  // the server resets instead of sending past the limit
    EXPECT_FALSE(big.ok());
    auto failed = co_await ask("fail", 2000);
    EXPECT_FALSE(failed.ok());
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = co_await ask("slow", 300);
    EXPECT_EQ(slow.error().code(), ErrorCode::kTimeout) << slow.error().to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    refuse = true;
    auto refused = co_await ask("abc", 2000);
    EXPECT_FALSE(refused.ok());
    refuse = false;
    auto last = co_await ask("xyz", 2000);  // the connection survives all of it
    EXPECT_TRUE(last.ok());
    EXPECT_FALSE((*conn)->closed());
    client_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
}

TEST(DialerTest, PublicBeforePrivateBeforeRelayed) {
  auto ranked = rank_addrs({ma("/ip4/127.0.0.1/tcp/1"), ma("/ip4/1.2.3.4/tcp/1/p2p-circuit"),
                            ma("/ip4/192.168.1.5/tcp/1"), ma("/ip4/8.8.4.4/tcp/1"), ma("/ip6/fd00::1/tcp/1"),
                            ma("/ip6/2001:db8::1/tcp/1"), ma("/dns4/example.org/tcp/1"), ma("/ip4/8.8.4.4/tcp/1")});
  std::vector<std::string> got;
  for (const auto& a : ranked) got.push_back(a.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{"/ip4/8.8.4.4/tcp/1", "/ip6/2001:db8::1/tcp/1", "/dns4/example.org/tcp/1",
                                           "/ip4/127.0.0.1/tcp/1", "/ip4/192.168.1.5/tcp/1", "/ip6/fd00::1/tcp/1",
                                           "/ip4/1.2.3.4/tcp/1/p2p-circuit"}));
}

// Three loopback addresses for one peer: one that accepts TCP and then
// stalls (a handshake that would take the whole 10 s timeout), one that
// refuses, and the real one. The dial staggers past the first two and the
// real one wins long before the stalled one times out.
TEST_F(HostEventsTest, ConcurrentDialSkipsAStalledAddress) {
  asio::ip::tcp::acceptor stall(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::tcp::socket held(io_);
  stall.async_accept(held, [](const boost::system::error_code&) {});  // accepted, never answered
  asio::ip::tcp::acceptor closed_port(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto refused_port = closed_port.local_endpoint().port();
  closed_port.close();
  std::vector<Multiaddr> addrs{ma("/ip4/127.0.0.1/tcp/" + std::to_string(stall.local_endpoint().port())),
                               ma("/ip4/127.0.0.1/tcp/" + std::to_string(refused_port)),
                               server_addr_.without_peer_id()};
  double ms = -1;
  auto body = [&]() -> Task<void> {
    const auto t0 = std::chrono::steady_clock::now();
    auto conn = co_await client_.dial_peer(server_.peer_id(), addrs);
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(conn.ok()) << conn.error().to_string();
    if (conn.ok()) {
      EXPECT_EQ((*conn)->remote_peer, server_.peer_id());
      auto again = co_await client_.dial_peer(server_.peer_id(), addrs);  // reused
      EXPECT_TRUE(again.ok() && *again == *conn);
    }
    auto none = co_await client_.dial_peer(random_peer());
    EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
    held.close();
    stall.close();
    client_.close();
    server_.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io_, std::move(tasks));
  EXPECT_GE(ms, 0);
  EXPECT_LT(ms, 3000) << "the stalled address held the dial";
}

// Connection manager: above the high watermark, idle unprotected
// connections are closed (oldest first) down to the low watermark; a
// protected peer survives, and a connection with an open stream is not idle.
TEST(ConnManagerTest, PrunesIdleUnprotectedConnectionsToTheLowWatermark) {
  asio::io_context io;
  HostConfig cfg;
  cfg.conn_manager.low_water = 2;
  cfg.conn_manager.high_water = 4;
  cfg.conn_manager.grace_ms = 0;
  Host server(io, Ed25519PrivateKey::generate(), cfg);
  server.add_transport(std::make_unique<MemoryTransport>(io));
  server.set_stream_handler("/test/hold/1.0.0", [](NegotiatedStream ns) -> Task<void> {
    Bytes b(16);
    (void)co_await ns.stream->read_some(b);  // holds the stream open until the client resets it
  });
  auto bound = server.listen(ma("/memory/0"));
  ASSERT_TRUE(bound.ok());
  const Multiaddr addr = ma(bound->to_string() + "/p2p/" + server.peer_id().to_string());
  std::vector<std::unique_ptr<Host>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<Host>(io, Ed25519PrivateKey::generate()));
    clients.back()->add_transport(std::make_unique<MemoryTransport>(io));
  }
  server.protect(clients[0]->peer_id(), "test");
  int accepted = 0, pruned = 0;
  server.add_connection_listener([&](const std::shared_ptr<Connection>&) { ++accepted; });
  server.add_disconnection_listener([&](const std::shared_ptr<Connection>&) { ++pruned; });
  std::shared_ptr<Stream> busy;
  auto body = [&]() -> Task<void> {
    for (int i = 0; i < 2; ++i) EXPECT_TRUE((co_await clients[i]->connect(addr)).ok());
    auto c2 = co_await clients[2]->connect(addr);  // keeps a stream open: not idle
    EXPECT_TRUE(c2.ok());
    if (c2.ok()) {
      const std::vector<std::string> hold{"/test/hold/1.0.0"};
      auto ns = co_await clients[2]->new_stream(*c2, hold);
      EXPECT_TRUE(ns.ok());
      if (ns.ok()) busy = ns->stream;
    }
    for (int i = 3; i < 6; ++i) EXPECT_TRUE((co_await clients[i]->connect(addr)).ok());
    asio::steady_timer t(io);  // until the server has seen all six (polled every 2 ms, at most 1 s)
    for (int i = 0; i < 500 && accepted < 6; ++i) {
      t.expires_after(std::chrono::milliseconds(2));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_EQ(accepted, 6);
    EXPECT_GE(pruned, 2);
    EXPECT_LE(server.connections().size(), 4u);
    EXPECT_GE(server.connections().size(), 2u);
    EXPECT_NE(server.find_connection(clients[0]->peer_id()), nullptr) << "a protected peer was pruned";
    EXPECT_NE(server.find_connection(clients[2]->peer_id()), nullptr) << "a connection with a stream was pruned";
    if (busy) busy->reset();
    for (auto& c : clients) c->close();
    server.close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io, std::move(tasks));
}

}  // namespace
}  // namespace syndb::p2p
