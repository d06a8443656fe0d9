// keygen, id, node, ping, perf.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "p2p/crypto/keys.h"
#include "p2p/host/host.h"
#include "p2p/identify/identify.h"
#include "p2p/perf/perf.h"
#include "p2p/ping/ping.h"

namespace syndb::cli {

using namespace syndb::p2p;


namespace {

// Runs `body` on a fresh io_context with an ephemeral identity, bounded by timeout_ms.
int run_client(uint32_t timeout_ms, std::function<Task<int>(Host&)> body) {
  asio::io_context io;
  Host host(io, Ed25519PrivateKey::generate());
  register_ping(host);
  int rc = 1;
  bool done = false;
  asio::steady_timer deadline(io, std::chrono::milliseconds(timeout_ms));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec || done) return;
    rc = fail("timed out after " + std::to_string(timeout_ms) + " ms");
    io.stop();
  });
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        rc = co_await body(host);
        done = true;
        deadline.cancel();
        host.close();
      },
      asio::detached);
  io.run();
  return rc;
}

Result<Multiaddr> parse_addr(const std::string& s) {
  auto ma = Multiaddr::from_string(s);
  if (!ma.ok()) return ma.error().wrap("bad multiaddr '" + s + "'");
  return ma;
}

}  // namespace

int run_keygen(const KeygenOptions& o) {
  auto key = Ed25519PrivateKey::generate();
  Status st = save_key_file(o.out, key, o.force);
  if (!st.ok()) return fail(st.error().message());
  std::printf("%s\n", PeerId::from_public_key(key.public_key()).to_string().c_str());
  return 0;
}

int run_id(const std::string& key_file) {
  auto key = load_key_file(key_file);
  if (!key.ok()) return fail(key.error().message());
  std::printf("%s\n", PeerId::from_public_key(key->public_key()).to_string().c_str());
  return 0;
}

int run_ping(const PingOptions& o) {
  auto addr = parse_addr(o.addr);
  if (!addr.ok()) return fail(addr.error().message(), 2);
  return run_client(o.timeout_ms, [&](Host& host) -> Task<int> {
    const std::vector<std::string> protos{std::string(kPingProtocol)};
    auto ns = co_await host.new_stream(*addr, protos);
    if (!ns.ok()) co_return fail(ns.error().message());
    for (int i = 0; i < o.count; ++i) {
      auto rtt = co_await ping_once(*ns->stream);
      if (!rtt.ok()) co_return fail("ping: " + rtt.error().message());
      std::printf("rtt_us=%llu\n", static_cast<unsigned long long>(*rtt));
      std::fflush(stdout);
    }
    (void)co_await ns->stream->close_write();
    co_return 0;
  });
}

int run_identify(const PingOptions& o) {
  auto addr = parse_addr(o.addr);
  if (!addr.ok()) return fail(addr.error().message(), 2);
  return run_client(o.timeout_ms, [&](Host& host) -> Task<int> {
    IdentifyService identify(host);
    auto conn = co_await host.connect(*addr);
    if (!conn.ok()) co_return fail(conn.error().message());
    // The service identifies every new connection itself (js allows one identify stream per connection).
    const IdentifyInfo* info = co_await identify.wait_for((*conn)->remote_peer, o.timeout_ms);
    if (info == nullptr) co_return fail("identify with " + addr->to_string() + " did not complete");
    nlohmann::json j;
    j["peerId"] = (*conn)->remote_peer.to_string();
    j["publicKeyHex"] = info->public_key ? to_hex(info->public_key->encode()) : "";
    j["protocols"] = info->protocols;
    std::vector<std::string> addrs;
    for (const auto& a : info->listen_addrs) addrs.push_back(a.to_string());
    j["listenAddrs"] = addrs;
    j["observedAddr"] = info->observed_addr ? info->observed_addr->to_string() : "";
    j["agentVersion"] = info->agent_version;
    j["protocolVersion"] = info->protocol_version;
    std::printf("%s\n", j.dump().c_str());
    co_return 0;
  });
}

int run_perf(const PerfOptions& o) {
  auto addr = parse_addr(o.addr);
  if (!addr.ok()) return fail(addr.error().message(), 2);
  return run_client(24 * 3600 * 1000u, [&](Host& host) -> Task<int> {
    const std::vector<std::string> protos{std::string(kPerfProtocol)};
    auto ns = co_await host.new_stream(*addr, protos);
    if (!ns.ok()) co_return fail(ns.error().message());
    auto r = co_await perf_client(*ns->stream, o.upload, o.download);
    if (!r.ok()) co_return fail(r.error().message());
    nlohmann::json j;
    j["upload_bytes"] = r->upload_bytes;
    j["download_bytes"] = r->download_bytes;
    j["seconds"] = r->seconds;
    j["upload_MBps"] = r->seconds > 0 ? r->upload_bytes / r->seconds / 1e6 : 0.0;
    j["download_MBps"] = r->seconds > 0 ? r->download_bytes / r->seconds / 1e6 : 0.0;
    std::printf("%s\n", j.dump().c_str());
    co_return 0;
  });
}

}  // namespace syndb::cli
