// `syndb federation status|init|admit`.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/http_client.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "federation/membership.h"
#include "federation/metastore.h"
#include "p2p/crypto/keys.h"

namespace syndb::cli {


int run_federation(const FederationOptions& o) {
  if (o.action == "init") {
    if (!std::filesystem::exists(o.admin_key)) {
      Status st = p2p::save_key_file(o.admin_key, p2p::Ed25519PrivateKey::generate());
      if (!st.ok()) return fail(st.error().message());
    }
    auto key = p2p::load_key_file(o.admin_key);
    if (!key.ok()) return fail(key.error().message());
    Status st = federation::init_federation(o.file, o.name, *key);
    if (!st.ok()) return fail(st.error().message());
    std::printf("federation '%s' in %s, admin %s\n", o.name.c_str(), o.file.c_str(),
                p2p::PeerId::from_public_key(key->public_key()).to_string().c_str());
    return 0;
  }
  if (o.action == "admit") {
    auto peer = p2p::PeerId::from_string(o.peer_id);
    if (!peer.ok()) return fail("not a PeerId: " + o.peer_id, 2);
    auto key = p2p::load_key_file(o.admin_key);
    if (!key.ok()) return fail(key.error().message());
    Status st = federation::admit_peer(o.file, *peer, *key);
    if (!st.ok()) return fail(st.error().message());
    std::printf("admitted %s\n", peer->to_string().c_str());
    return 0;
  }
  auto resp = api::http_request("GET", o.hub_url + "/v1/federation/clusters");
  if (!resp.ok()) return fail(resp.error().message());
  if (resp->status != 200) return fail("hub answered HTTP " + std::to_string(resp->status) + ": " + resp->body);
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  if (j.is_discarded() || !j.contains("clusters")) return fail("hub answered something that is not a cluster list");
  warehouse::TextResult t;
  t.columns = {"name", "peer_id", "state", "rtt_ms", "schema", "datasets", "synapses"};
  for (const auto& c : j["clusters"]) {
    int64_t synapses = 0;
    for (const auto& d : c.value("datasets", nlohmann::json::array())) synapses += d.value("synapses", int64_t{0});
    std::string rtt;
    if (c.contains("last_rtt_us") && c["last_rtt_us"].is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.2f", c["last_rtt_us"].get<double>() / 1000.0);
      rtt = buf;
    }
    std::string name = c.value("name", "");
    if (c.value("local", false)) name += " (hub)";
    t.rows.push_back({name, c.value("peer_id", ""), c.value("state", ""), rtt,
                      std::to_string(c.value("schema_version", 0)),
                      std::to_string(c.value("datasets", nlohmann::json::array()).size()), std::to_string(synapses)});
  }
  print_table(t, stdout);
  return 0;
}

int run_token_create(const TokenOptions& o) {
  std::string path = o.hub_data_dir + "/hub.sqlite";
  if (!std::filesystem::exists(path)) {
    return fail("no hub metastore at " + path + " (start `syndb hub --data-dir " + o.hub_data_dir + "` once)", 2);
  }
  auto ms = federation::Metastore::open(path);
  if (!ms.ok()) return fail(ms.error().message());
  auto t = (*ms)->create_token(o.label);
  if (!t.ok()) return fail(t.error().message());
  std::printf("%s\n", t->c_str());
  return 0;
}

}  // namespace syndb::cli
