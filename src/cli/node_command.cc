// `syndb node` and `syndb hub`: flags and the TOML file become
// runtime::NodeSettings; runtime::Node (src/runtime/) does the rest.
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "federation/membership.h"
#include "runtime/node.h"

namespace syndb::cli {

using namespace syndb::p2p;
namespace asio = boost::asio;

Status load_node_config(const std::string& path, NodeOptions& o, const std::set<std::string>& given) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error(ErrorCode::kInvalidArgument,
                 path + ": " + std::string(e.description()) + " (line " + std::to_string(e.source().begin.line) + ")");
  }
  std::vector<std::string> unknown;
  auto str = [&](const char* key, std::string& out) {
    if (given.count(key)) return;
    if (auto v = t[key].value<std::string>()) out = *v;
  };
  auto list = [&](const char* key, std::vector<std::string>& out) {
    if (given.count(key)) return;
    if (auto* arr = t[key].as_array()) {
      out.clear();
      for (auto& e : *arr) {
        if (auto v = e.value<std::string>()) out.push_back(*v);
      }
    }
  };
  auto num = [&](const toml::node_view<toml::node>& node, const char* flag, auto& out) {
    if (given.count(flag)) return;
    if (auto v = node.value<int64_t>()) out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
  };
  str("key", o.key);
  list("listen", o.listen);
  str("data-dir", o.data_dir);
  if (auto v = t["data_dir"].value<std::string>(); v && !given.count("data-dir")) o.data_dir = *v;
  str("name", o.name);
  list("bootstrap", o.bootstrap);
  if (auto v = t["federation_file"].value<std::string>(); v && !given.count("federation-file")) o.federation_file = *v;
  if (auto v = t["federation_admin"].value<std::string>(); v && !given.count("federation-admin"))
    o.federation_admin = *v;
  if (auto v = t["mdns"].value<bool>(); v && !given.count("mdns")) o.mdns = *v;
  num(t["handshake_timeout_ms"], "handshake-timeout-ms", o.handshake_timeout_ms);
  num(t["request_timeout_ms"], "request-timeout-ms", o.request_timeout_ms);
  num(t["max_streams"], "max-streams", o.max_streams);
  if (auto v = t["flight_listen"].value<std::string>(); v && !given.count("flight-listen")) o.flight_listen = *v;
  if (auto v = t["memory_limit"].value<std::string>(); v && !given.count("memory-limit")) o.memory_limit = *v;
  num(t["fragment_timeout_ms"], "fragment-timeout-ms", o.fragment_timeout_ms);
  if (auto v = t["hub"]["flight_sql_listen"].value<std::string>(); v && !given.count("flight-sql-listen")) {
    o.flight_sql_listen = *v;
  }
  num(t["hub"]["statement_timeout_ms"], "statement-timeout-ms", o.statement_timeout_ms);
  if (auto v = t["hub"]["http_listen"].value<std::string>(); v && !given.count("http-listen")) o.http_listen = *v;
  num(t["health"]["interval_ms"], "health-interval-ms", o.health_interval_ms);
  num(t["health"]["timeout_ms"], "health-timeout-ms", o.health_timeout_ms);
  num(t["health"]["degraded_rtt_ms"], "degraded-rtt-ms", o.degraded_rtt_ms);
  num(t["health"]["unreachable_after"], "unreachable-after", o.unreachable_after);
  num(t["health"]["probe_backoff_ms"], "probe-backoff-ms", o.probe_backoff_ms);
  num(t["health"]["probe_backoff_max_ms"], "probe-backoff-max-ms", o.probe_backoff_max_ms);
  for (auto& [k, v] : t) {
    static const std::set<std::string> known = {"key",
                                                "listen",
                                                "data-dir",
                                                "data_dir",
                                                "name",
                                                "bootstrap",
                                                "federation_file",
                                                "federation_admin",
                                                "mdns",
                                                "handshake_timeout_ms",
                                                "request_timeout_ms",
                                                "max_streams",
                                                "hub",
                                                "health",
                                                "flight_listen",
                                                "memory_limit",
                                                "fragment_timeout_ms"};
    if (!known.count(std::string(k.str()))) unknown.push_back(std::string(k.str()));
  }
  if (!unknown.empty()) {
    std::string list_text;
    for (auto& u : unknown) list_text += (list_text.empty() ? "" : ", ") + u;
    return Error(ErrorCode::kInvalidArgument, path + ": unknown key(s): " + list_text);
  }
  return ok_status();
}

int run_node(NodeOptions o) {
  if (o.key.empty()) return fail("--key is required (or `key` in --config)", 2);
  std::vector<Multiaddr> listen;
  for (const auto& s : o.listen.empty() ? std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001"} : o.listen) {
    auto ma = Multiaddr::from_string(s);
    if (!ma.ok()) return fail("bad listen multiaddr '" + s + "': " + ma.error().message(), 2);
    listen.push_back(*ma);
  }
  std::vector<Multiaddr> bootstrap;
  for (const auto& s : o.bootstrap) {
    auto ma = Multiaddr::from_string(s);
    if (!ma.ok()) return fail("bad bootstrap multiaddr '" + s + "': " + ma.error().message(), 2);
    bootstrap.push_back(*ma);
  }
  if (o.hub && o.data_dir.empty()) return fail("a hub needs --data-dir", 2);
  if (!bootstrap.empty() && o.data_dir.empty()) {
    return fail("--bootstrap needs --data-dir (the federation runs on top of the warehouse)", 2);
  }
  std::optional<runtime::HubSettings> hub;
  if (o.hub) {
    hub.emplace();
    auto colon = o.http_listen.rfind(':');
    int port = -1;
    if (colon != std::string::npos) {
      try {
        port = std::stoi(o.http_listen.substr(colon + 1));
      } catch (...) {
      }
    }
    if (port < 0 || port > 65535) return fail("--http-listen wants host:port, got '" + o.http_listen + "'", 2);
    hub->http_host = o.http_listen.substr(0, colon);
    hub->http_port = static_cast<uint16_t>(port);
    hub->flight_sql_listen = o.flight_sql_listen;
    hub->statement_timeout_ms = o.statement_timeout_ms;
    hub->health = {o.health_interval_ms, o.health_timeout_ms, o.degraded_rtt_ms,
                   o.unreachable_after,  o.probe_backoff_ms,  o.probe_backoff_max_ms};
  }
  auto key = load_key_file(o.key);
  if (!key.ok()) return fail(key.error().message());

  runtime::NodeSettings settings(std::move(key).value());
  if (!o.federation_file.empty()) {
    std::optional<PeerId> admin;
    if (!o.federation_admin.empty()) {
      auto id = PeerId::from_string(o.federation_admin);
      if (!id.ok()) return fail("bad --federation-admin: " + id.error().message(), 2);
      admin = *id;
    }
    auto m = federation::Membership::load(o.federation_file, admin);
    if (!m.ok()) return fail(m.error().message());
    settings.membership = std::move(m).value();
  }
  settings.listen = listen;
  settings.bootstrap = bootstrap;
  settings.handshake_timeout_ms = o.handshake_timeout_ms;
  settings.max_streams = o.max_streams;
  settings.data_dir = o.data_dir;
  settings.name = o.name;
  settings.mdns = o.mdns;
  settings.max_schema_version = o.max_schema_version;
  settings.request_timeout_ms = o.request_timeout_ms;
  settings.flight_listen = o.data_dir.empty() ? "" : o.flight_listen;
  settings.memory_limit = o.memory_limit;
  settings.fragment_timeout_ms = o.fragment_timeout_ms;
  settings.hub = hub;

  auto node = runtime::Node::create(std::move(settings));
  if (!node.ok()) return fail(node.error().message());
  runtime::Node& n = **node;
  for (const auto& a : n.listen_addrs()) {
    std::printf("listening %s/p2p/%s\n", a.to_string().c_str(), n.peer_id().to_string().c_str());
  }
  if (n.is_hub()) {
    std::printf("http http://%s:%u\n", hub->http_host.c_str(), n.http_port());
    if (n.flight_sql_port()) {
      const auto& l = o.flight_sql_listen;
      std::printf("flight_sql grpc://%s:%u\n", l.substr(0, l.rfind(':')).c_str(), n.flight_sql_port());
    }
  }
  if (!n.flight_uri().empty()) std::printf("flight %s\n", n.flight_uri().c_str());
  std::fflush(stdout);
  spdlog::info("{} {} ready", o.hub ? "hub" : "node", n.peer_id().to_string());

  // Signals on a thread of their own: Node::stop() is thread-safe.
  asio::io_context signal_io(1);
  asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    n.stop();
  });
  std::thread signal_thread([&] { signal_io.run(); });
  n.run();
  signals.cancel();
  signal_io.stop();
  signal_thread.join();
  return 0;
}

}  // namespace syndb::cli
