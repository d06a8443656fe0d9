// Hub HTTP API tests: a real server on a loopback port 0, queried with
// http_request (and raw sockets for keep-alive, malformed and oversized
// requests), against a Registry and a Metastore filled by the test.
#include "api/http_api.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "api/http_client.h"
#include "federation/metastore.h"
#include "federation/registry.h"

namespace syndb::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using federation::DatasetEntry;
using federation::HealthState;
using json = nlohmann::json;

DatasetEntry dataset(std::string id, std::string title, std::string stage, std::string policy, int64_t synapses) {
  DatasetEntry d;
  d.id = std::move(id);
  d.title = std::move(title);
  d.stage = std::move(stage);
  d.policy = std::move(policy);
  d.synapses = synapses;
  d.species = "Caenorhabditis elegans";
  d.institution = "University of Toronto";
  return d;
}

// Parses the exposition text into "name{labels}" -> value (comments skipped).
std::map<std::string, std::string> parse_metrics(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

// Sends bytes on a new connection and reads until the server closes it (at most 5 s).
std::string raw_exchange(uint16_t port, const std::string& bytes, bool* closed) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(bytes));
  std::string out;
  bool eof = false;
  std::array<char, 4096> buf;
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& ec, size_t n) {
      out.append(buf.data(), n);
      if (ec) {
        eof = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  io.run_for(std::chrono::seconds(5));
  *closed = eof;
  return out;
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = federation::Metastore::open(":memory:");
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    metastore_ = std::move(m).value();

    registry_.upsert("12D3KooWAlpha", [](federation::ClusterInfo& c) {
      c.name = "toronto";
      c.addrs = {"/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.5/tcp/4001"};
      c.state = HealthState::kHealthy;
      c.last_rtt_us = 1500;
      c.schema_version = 2;
      c.local = true;
      c.last_seen_unix_ms = 1700000000123;
      c.datasets = {dataset("/toronto/witvliet2021/dataset1", "L1 larva connectome", "L1", "public", 1234),
                    dataset("/toronto/witvliet2021/dataset8", "Adult connectome", "adult", "members", 5678)};
    });
    registry_.upsert("12D3KooWBeta", [](federation::ClusterInfo& c) {
      c.name = "harvard";
      c.state = HealthState::kDegraded;
      c.last_rtt_us = 300000;
      c.schema_version = 1;
      c.datasets = {dataset("/harvard/cook2019/herm", "Hermaphrodite wiring", "adult", "aggregate_only(5)", 10)};
    });
    registry_.upsert("12D3KooWGamma", [](federation::ClusterInfo& c) {
      c.name = "tokyo";
      c.state = HealthState::kUnreachable;
      c.schema_version = 2;
    });
    registry_.upsert("12D3KooWDelta", [](federation::ClusterInfo& c) {
      c.name = "we\"ird\\na\nme";
      c.state = HealthState::kHealthy;
      c.last_rtt_us = 250;
      c.schema_version = 2;
    });
    for (const auto& c : registry_.snapshot()->clusters) {
      ASSERT_TRUE(metastore_->index_datasets(c.peer_id, c.datasets).ok());
    }

    HubApiHooks hooks;
    hooks.hub_peer_id = "12D3KooWAlpha";
    hooks.schema_sync = [this] {
      ++sync_calls_;
      return json{{"target_version", 2}, {"synced", json::array({"12D3KooWBeta"})}};
    };
    hooks.extra_metrics = [] { return std::string("# TYPE syndb_test_extra counter\nsyndb_test_extra 42"); };
    api_ = std::make_unique<HttpApi>(registry_, *metastore_, std::move(hooks));
    auto port = api_->start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    ASSERT_NE(*port, 0);
    port_ = *port;
    base_ = "http://127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override { api_.reset(); }

  HttpResponse get(const std::string& path, const std::string& method = "GET", const std::string& body = "") {
    auto r = http_request(method, base_ + path, body, 5000);
    EXPECT_TRUE(r.ok()) << method << " " << path << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : HttpResponse{};
  }
  json get_json(const std::string& path, int want_status = 200, const std::string& method = "GET") {
    HttpResponse r = get(path, method);
    EXPECT_EQ(r.status, want_status) << path << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json") << path;
    return json::parse(r.body);
  }

  federation::Registry registry_;
  std::unique_ptr<federation::Metastore> metastore_;
  std::atomic<int> sync_calls_{0};
  std::unique_ptr<HttpApi> api_;
  uint16_t port_ = 0;
  std::string base_;
};

TEST_F(HttpApiTest, Healthz) {
  json j = get_json("/healthz");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["peer_id"], "12D3KooWAlpha");
}

TEST_F(HttpApiTest, ClustersServeTheRegistrySnapshot) {
  json j = get_json("/v1/federation/clusters");
  EXPECT_EQ(j["version"].get<uint64_t>(), registry_.snapshot()->version);
  ASSERT_EQ(j["clusters"].size(), 4u);
  std::map<std::string, json> by_name;
  for (const auto& c : j["clusters"]) by_name[c["name"].get<std::string>()] = c;

  const json& a = by_name.at("toronto");
  EXPECT_EQ(a["peer_id"], "12D3KooWAlpha");
  EXPECT_EQ(a["state"], "Healthy");
  EXPECT_EQ(a["last_rtt_us"], 1500);
  EXPECT_EQ(a["schema_version"], 2);
  EXPECT_EQ(a["local"], true);
  EXPECT_EQ(a["last_seen_unix_ms"], 1700000000123);
  EXPECT_EQ(a["addrs"], json::array({"/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.5/tcp/4001"}));
  ASSERT_EQ(a["datasets"].size(), 2u);
  EXPECT_EQ(a["datasets"][0]["id"], "/toronto/witvliet2021/dataset1");
  EXPECT_EQ(a["datasets"][0]["title"], "L1 larva connectome");
  EXPECT_EQ(a["datasets"][0]["stage"], "L1");
  EXPECT_EQ(a["datasets"][0]["policy"], "public");
  EXPECT_EQ(a["datasets"][0]["synapses"], 1234);
  EXPECT_EQ(a["datasets"][1]["policy"], "members");

  EXPECT_EQ(by_name.at("harvard")["state"], "Degraded");
  EXPECT_EQ(by_name.at("harvard")["local"], false);
  EXPECT_EQ(by_name.at("tokyo")["state"], "Unreachable");
  EXPECT_TRUE(by_name.at("tokyo")["last_rtt_us"].is_null());
  EXPECT_TRUE(by_name.at("tokyo")["datasets"].empty());
  EXPECT_EQ(by_name.at("we\"ird\\na\nme")["state"], "Healthy");

  // A later write is visible on the next request.
  registry_.upsert("12D3KooWGamma", [](federation::ClusterInfo& c) { c.state = HealthState::kHealthy; });
  json k = get_json("/v1/federation/clusters");
  EXPECT_EQ(k["version"].get<uint64_t>(), j["version"].get<uint64_t>() + 1);
}

TEST_F(HttpApiTest, HealthEvents) {
  ASSERT_TRUE(metastore_
                  ->record_transition("12D3KooWGamma", "tokyo", HealthState::kUnknown, HealthState::kHealthy,
                                      "ping answered in 90 us", 1000)
                  .ok());
  ASSERT_TRUE(
      metastore_
          ->record_transition("12D3KooWBeta", "harvard", HealthState::kUnknown, HealthState::kDegraded, "slow", 1500)
          .ok());
  ASSERT_TRUE(metastore_
                  ->record_transition("12D3KooWGamma", "tokyo", HealthState::kHealthy, HealthState::kUnreachable,
                                      "3 consecutive failures", 2000)
                  .ok());
  json all = get_json("/v1/federation/health/events");
  ASSERT_EQ(all["events"].size(), 3u);
  EXPECT_EQ(all["events"][0]["to"], "Unreachable");
  EXPECT_EQ(all["events"][0]["from"], "Healthy");
  EXPECT_EQ(all["events"][0]["reason"], "3 consecutive failures");
  EXPECT_EQ(all["events"][0]["unix_ms"], 2000);
  EXPECT_EQ(all["events"][0]["name"], "tokyo");
  EXPECT_EQ(all["events"][2]["to"], "Healthy");

  json limited = get_json("/v1/federation/health/events?limit=1");
  ASSERT_EQ(limited["events"].size(), 1u);
  EXPECT_EQ(limited["events"][0]["unix_ms"], 2000);

  json beta = get_json("/v1/federation/health/events?peer_id=12D3KooWBeta&limit=10");
  ASSERT_EQ(beta["events"].size(), 1u);
  EXPECT_EQ(beta["events"][0]["to"], "Degraded");

  json bad = get_json("/v1/federation/health/events?limit=ten", 400);
  EXPECT_NE(bad["error"].get<std::string>().find("limit"), std::string::npos);
  get_json("/v1/federation/health/events?limit=0", 400);
}

TEST_F(HttpApiTest, SchemaSyncCallsTheHook) {
  json j = get_json("/v1/federation/schema/sync", 200, "POST");
  EXPECT_EQ(sync_calls_.load(), 1);
  EXPECT_EQ(j["target_version"], 2);
  EXPECT_EQ(j["synced"][0], "12D3KooWBeta");
  // GET is the wrong method: 405, and the hook is not called.
  json wrong = get_json("/v1/federation/schema/sync", 405, "GET");
  EXPECT_TRUE(wrong.contains("error"));
  EXPECT_EQ(sync_calls_.load(), 1);
}

TEST_F(HttpApiTest, SchemaSyncWithoutHookIs500) {
  HttpApi bare(registry_, *metastore_, HubApiHooks{});
  auto port = bare.start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  auto r = http_request("POST", "http://127.0.0.1:" + std::to_string(*port) + "/v1/federation/schema/sync");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 500);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  // No extra metrics hook: /metrics still works.
  auto m = http_request("GET", "http://127.0.0.1:" + std::to_string(*port) + "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  bare.stop();
  bare.stop();  // idempotent
}

TEST_F(HttpApiTest, DatasetSearch) {
  json l1 = get_json("/v1/datasets?q=L1");
  ASSERT_EQ(l1["datasets"].size(), 1u);
  EXPECT_EQ(l1["datasets"][0]["id"], "/toronto/witvliet2021/dataset1");
  EXPECT_EQ(l1["datasets"][0]["peer_id"], "12D3KooWAlpha");
  EXPECT_EQ(l1["datasets"][0]["stage"], "L1");
  EXPECT_EQ(l1["datasets"][0]["policy"], "public");
  EXPECT_TRUE(l1["datasets"][0]["rank"].is_number());
  EXPECT_NE(l1["datasets"][0]["snippet"].get<std::string>().find("[L1]"), std::string::npos);

  // %20 and + both decode to spaces; %22 to quotes (which cannot break the query).
  EXPECT_EQ(get_json("/v1/datasets?q=adult%20connectome")["datasets"].size(), 1u);
  EXPECT_EQ(get_json("/v1/datasets?q=adult+connectome")["datasets"].size(), 1u);
  EXPECT_EQ(get_json("/v1/datasets?q=%22connectome%22")["datasets"].size(), 2u);
  EXPECT_EQ(get_json("/v1/datasets?q=%22%27%3B%20DROP%20TABLE%20x%3B%20--")["datasets"].size(), 0u);
  // UTF-8 decoded, diacritics folded: "Hermäphrodite" finds "Hermaphrodite".
  EXPECT_EQ(get_json("/v1/datasets?q=Herm%C3%A4phrodite")["datasets"].size(), 1u);
  EXPECT_EQ(get_json("/v1/datasets")["datasets"].size(), 3u);  // no q: everything
  EXPECT_EQ(get_json("/v1/datasets?q=&limit=2")["datasets"].size(), 2u);
  // Our client refuses to send a malformed URL; raw requests reach the server.
  for (const char* q : {"%zz", "%4"}) {
    bool closed = false;
    std::string bad = raw_exchange(
        port_, std::string("GET /v1/datasets?q=") + q + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &closed);
    EXPECT_EQ(bad.find("HTTP/1.1 400"), 0u) << q << ": " << bad;
    EXPECT_FALSE(http_request("GET", base_ + "/v1/datasets?q=" + q, "", 5000).ok()) << q;
  }
}

TEST_F(HttpApiTest, MetricsInPrometheusFormat) {
  HttpResponse r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << r.content_type;
  auto m = parse_metrics(r.body);
  EXPECT_EQ(m.at("syndb_federation_clusters{state=\"Unknown\"}"), "0");
  EXPECT_EQ(m.at("syndb_federation_clusters{state=\"Healthy\"}"), "2");
  EXPECT_EQ(m.at("syndb_federation_clusters{state=\"Degraded\"}"), "1");
  EXPECT_EQ(m.at("syndb_federation_clusters{state=\"Unreachable\"}"), "1");
  EXPECT_EQ(m.at("syndb_cluster_up{peer_id=\"12D3KooWAlpha\",name=\"toronto\"}"), "1");
  EXPECT_EQ(m.at("syndb_cluster_up{peer_id=\"12D3KooWBeta\",name=\"harvard\"}"), "1");
  EXPECT_EQ(m.at("syndb_cluster_up{peer_id=\"12D3KooWGamma\",name=\"tokyo\"}"), "0");
  EXPECT_EQ(std::stod(m.at("syndb_cluster_rtt_seconds{peer_id=\"12D3KooWAlpha\",name=\"toronto\"}")), 0.0015);
  EXPECT_EQ(std::stod(m.at("syndb_cluster_rtt_seconds{peer_id=\"12D3KooWBeta\",name=\"harvard\"}")), 0.3);
  EXPECT_EQ(m.count("syndb_cluster_rtt_seconds{peer_id=\"12D3KooWGamma\",name=\"tokyo\"}"), 0u);  // no RTT yet
  EXPECT_EQ(m.at("syndb_cluster_schema_version{peer_id=\"12D3KooWBeta\",name=\"harvard\"}"), "1");
  EXPECT_EQ(m.at("syndb_cluster_datasets{peer_id=\"12D3KooWAlpha\",name=\"toronto\"}"), "2");
  EXPECT_EQ(m.at("syndb_cluster_datasets{peer_id=\"12D3KooWGamma\",name=\"tokyo\"}"), "0");
  // Label values escaped: " -> \", \ -> \\, newline -> \n (so the line stays one line).
  EXPECT_EQ(m.at("syndb_cluster_up{peer_id=\"12D3KooWDelta\",name=\"we\\\"ird\\\\na\\nme\"}"), "1");
  EXPECT_EQ(m.at("syndb_registry_version"), std::to_string(registry_.snapshot()->version));
  EXPECT_EQ(m.at("syndb_test_extra"), "42");
  EXPECT_NE(r.body.find("# TYPE syndb_federation_clusters gauge\n"), std::string::npos);
  EXPECT_EQ(r.body.back(), '\n');

  // Every sample line is `name{labels} value` or `name value`.
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(line.find("syndb_"), 0u) << line;
  }
}

TEST_F(HttpApiTest, UnknownPathsAndWrongMethods) {
  json nf = get_json("/nope", 404);
  EXPECT_NE(nf["error"].get<std::string>().find("/nope"), std::string::npos);
  get_json("/v1/federation/clusters/extra", 404);
  get_json("/", 404);
  get_json("/healthz", 405, "POST");
  get_json("/v1/datasets?q=x", 405, "DELETE");
  get_json("/metrics", 405, "PUT");
  // The Allow header names the right method.
  ApiResponse r = api_->handle("POST", "/v1/federation/clusters", "");
  EXPECT_EQ(r.status, 405u);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));
}

TEST_F(HttpApiTest, KeepAliveMalformedAndOversizedRequests) {
  // Two pipelined requests on one connection, the second closing it.
  bool closed = false;
  std::string two = raw_exchange(port_,
                                 "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                 "GET /v1/federation/clusters HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                 &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(two.find("HTTP/1.1 200"), 0u) << two;
  EXPECT_NE(two.find("HTTP/1.1 200", 10), std::string::npos) << two;
  EXPECT_NE(two.find("\"clusters\""), std::string::npos);

  // A keep-alive connection opened first …
  asio::io_context io;
  tcp::socket keep(io);
  keep.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  beast::flat_buffer buf;
  auto keep_get = [&](const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "x");
    http::write(keep, req);
    http::response<http::string_body> res;
    http::read(keep, buf, res);
    return res;
  };
  EXPECT_EQ(keep_get("/healthz").result_int(), 200u);

  // … survives a malformed request on another connection, which gets a 400 and is closed.
  std::string bad = raw_exchange(port_, "THIS IS NOT HTTP\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(bad.find("HTTP/1.1 400"), 0u) << bad;
  bad = raw_exchange(port_, "GET /healthz HTTP/1.1\r\nContent-Length: banana\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(bad.find("HTTP/1.1 400"), 0u) << bad;

  // A body over 1 MiB is refused from its Content-Length, before it is sent.
  std::string big = raw_exchange(
      port_, "POST /v1/federation/schema/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(big.find("HTTP/1.1 413"), 0u) << big;
  EXPECT_EQ(sync_calls_.load(), 0);

  EXPECT_EQ(keep_get("/v1/federation/clusters").result_int(), 200u);
  auto again = keep_get("/metrics");
  EXPECT_EQ(again.result_int(), 200u);
  EXPECT_NE(again.body().find("syndb_registry_version"), std::string::npos);
}

TEST_F(HttpApiTest, ConcurrentReadersWhileAWriterUpserts) {
  std::atomic<bool> done{false};
  std::atomic<uint64_t> writes{0};
  std::thread writer([&] {
    const HealthState states[] = {HealthState::kUnknown, HealthState::kHealthy, HealthState::kDegraded,
                                  HealthState::kUnreachable};
    uint64_t i = 0;
    while (!done.load()) {
      std::string peer = "12D3KooWChurn" + std::to_string(i % 7);
      registry_.upsert(peer, [&](federation::ClusterInfo& c) {
        c.name = "churn-" + std::to_string(i % 7);
        c.state = states[i % 4];
        c.last_rtt_us = i;
        c.schema_version = static_cast<int>(i % 3);
        c.datasets.assign(i % 5, dataset("/churn/d" + std::to_string(i), "Churn dataset", "L2", "public", 1));
      });
      if (i % 11 == 0) registry_.remove("12D3KooWChurn" + std::to_string((i / 11) % 7));
      ++i;
      writes.store(i);
    }
  });

  constexpr int kReaders = 3, kRequests = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      uint64_t last_version = 0;
      for (int i = 0; i < kRequests; ++i) {
        bool metrics = (i + r) % 2 == 1;
        auto res = http_request("GET", base_ + (metrics ? "/metrics" : "/v1/federation/clusters"), "", 10000);
        if (!res.ok() || res->status != 200) {
          ++failures;
          ADD_FAILURE() << (res.ok() ? "status " + std::to_string(res->status) : res.error().to_string());
          continue;
        }
        if (metrics) {
          // One snapshot per response: the per-state counts add up to the clusters listed.
          auto m = parse_metrics(res->body);
          int total = 0, up_lines = 0;
          for (const char* s : {"Unknown", "Healthy", "Degraded", "Unreachable"}) {
            total += std::stoi(m.at(std::string("syndb_federation_clusters{state=\"") + s + "\"}"));
          }
          for (const auto& [k, v] : m) up_lines += k.rfind("syndb_cluster_up{", 0) == 0;
          EXPECT_EQ(total, up_lines);
          uint64_t v = std::stoull(m.at("syndb_registry_version"));
          EXPECT_GE(v, last_version);
          last_version = v;
        } else {
          json j = json::parse(res->body, nullptr, false);
          if (j.is_discarded()) {
            ++failures;
            ADD_FAILURE() << "unparsable: " << res->body.substr(0, 200);
            continue;
          }
          EXPECT_GE(j["clusters"].size(), 4u);
          uint64_t v = j["version"].get<uint64_t>();
          EXPECT_GE(v, last_version);
          last_version = v;
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  done.store(true);
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(writes.load(), 0u);
}

TEST_F(HttpApiTest, StartTwiceAndStop) {
  auto again = api_->start("127.0.0.1", 0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);
  api_->stop();
  auto r = http_request("GET", base_ + "/healthz", "", 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  // It can be started again.
  auto port = api_->start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  auto again_ok = http_request("GET", "http://127.0.0.1:" + std::to_string(*port) + "/healthz", "", 2000);
  ASSERT_TRUE(again_ok.ok()) << again_ok.error().to_string();
  EXPECT_EQ(again_ok->status, 200);
}

TEST(HttpApiSlowHook, SlowSchemaSyncStallsNoOneAndStopWaitsForIt) {
  federation::Registry registry;
  auto m = federation::Metastore::open(":memory:");
  ASSERT_TRUE(m.ok());
  std::atomic<int> calls{0};
  // The hook runs until the test releases it (no fixed sleep): a slow sync.
  std::mutex mu;
  std::condition_variable cv;
  int released = 0;
  std::atomic<bool> handler_done{false};
  auto release = [&] {
    std::lock_guard lock(mu);
    ++released;
    cv.notify_all();
  };
  HubApiHooks hooks;
  hooks.schema_sync = [&] {
    const int mine = ++calls;
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return released >= mine; });
    handler_done = true;
    return json{{"done", true}};
  };
  HttpApi api(registry, **m, std::move(hooks));
  auto port = api.start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  std::string base = "http://127.0.0.1:" + std::to_string(*port);

  // An idle keep-alive connection, open across stop().
  asio::io_context io;
  tcp::socket idle(io);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), *port));

  std::optional<Result<HttpResponse>> first;
  std::thread syncer([&] { first.emplace(http_request("POST", base + "/v1/federation/schema/sync", "", 5000)); });
  while (calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  // While the first sync runs: other requests are answered at once, a second sync is refused.
  auto t0 = std::chrono::steady_clock::now();
  auto health = http_request("GET", base + "/healthz", "", 5000);
  ASSERT_TRUE(health.ok()) << health.error().to_string();
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
  auto second = http_request("POST", base + "/v1/federation/schema/sync", "", 5000);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->status, 409) << second->body;
  EXPECT_EQ(calls.load(), 1);

  release();
  syncer.join();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->ok()) << first->error().to_string();
  EXPECT_EQ((*first)->status, 200);
  EXPECT_EQ(json::parse((*first)->body)["done"], true);

  // stop() during a running handler: waits for it, then closes every connection.
  handler_done = false;
  std::thread late([&] { (void)http_request("POST", base + "/v1/federation/schema/sync", "", 5000); });
  while (calls.load() < 2) std::this_thread::yield();  // the second handler has started
  std::atomic<bool> stopping{false};
  bool done_when_stopped = false;
  std::thread stopper([&] {
    stopping = true;
    api.stop();
    done_when_stopped = handler_done.load();
  });
  while (!stopping.load()) std::this_thread::yield();
  release();
  stopper.join();
  late.join();
  EXPECT_TRUE(done_when_stopped) << "stop() returned before the running handler finished";
  std::array<char, 16> buf;
  boost::system::error_code ec;
  size_t n = idle.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "idle connection should be closed by stop(), read " << n;
}

TEST(HttpApiStart, BadAddressAndPortInUse) {
  federation::Registry registry;
  auto m = federation::Metastore::open(":memory:");
  ASSERT_TRUE(m.ok());
  HttpApi a(registry, **m, {});
  auto bad = a.start("not-an-address", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  auto port = a.start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  HttpApi b(registry, **m, {});
  auto clash = b.start("127.0.0.1", *port);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), ErrorCode::kIo);
}

TEST(UrlDecode, EscapesAndPlus) {
  EXPECT_EQ(*url_decode("a%20b+c"), "a b c");
  EXPECT_EQ(*url_decode("a+b", false), "a+b");
  EXPECT_EQ(*url_decode("%E6%97%A5%e6%9c%ac"), "日本");
  EXPECT_EQ(*url_decode("%00x"), std::string("\0x", 2));
  EXPECT_FALSE(url_decode("%").ok());
  EXPECT_FALSE(url_decode("%4").ok());
  EXPECT_FALSE(url_decode("%g0").ok());
  EXPECT_EQ(prometheus_escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(HttpClient, BadUrlsAreInvalidArguments) {
  for (const char* url : {"", "localhost:8080/x", "ftp://host/x", "https://host/x", "http://", "http:///x",
                          "http://host:/x", "http://host:99999/x", "http://host:0/x", "http://host:80a/x",
                          "http://[::1/x", "http://user@host/x", "http://ho st/x", "http://host/a b"}) {
    auto r = http_request("GET", url, "", 1000);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << url << ": " << r.error().to_string();
  }
  auto m = http_request("BAD METHOD", "http://127.0.0.1:1/", "", 1000);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpClient, ConnectionRefusedNamesTheUrl) {
  // A port that was free a moment ago.
  asio::io_context io;
  tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acc.local_endpoint().port();
  acc.close();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
  auto r = http_request("GET", url, "", 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_NE(r.error().message().find(url), std::string::npos) << r.error().message();
}

TEST(HttpClient, SilentServerTimesOut) {
  // Listening but never answering: the kernel completes the handshake, nobody reads.
  asio::io_context io;
  tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string url = "http://127.0.0.1:" + std::to_string(acc.local_endpoint().port()) + "/healthz";
  auto start = std::chrono::steady_clock::now();
  auto r = http_request("GET", url, "", 300);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout) << r.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace syndb::api
