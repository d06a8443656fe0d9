// Node: one SynDB process as a library type — a libp2p swarm with identify,
// ping, perf and echo; with a data dir, the warehouse, the data plane
// (Flight fragments) and the federation control plane (NodeService); a hub
// is a node with more services (HubService, the federated query engine, the
// HTTP API, Flight SQL). `syndb node` and `syndb hub` only turn flags and
// TOML into NodeSettings and run one (cli/node_command.cc).
//
// Threads: the network runs on one io_context thread (run()); warehouse and
// metastore calls from it go to a WorkerPool; gRPC and HTTP have their own
// threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "federation/health.h"
#include "federation/membership.h"
#include "p2p/crypto/keys.h"
#include "p2p/multiformats/multiaddr.h"

namespace syndb::runtime {

struct HubSettings {
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8080;
  std::string flight_sql_listen = "127.0.0.1:50051";  // "" = off
  uint32_t statement_timeout_ms = 300'000;
  federation::HealthConfig health;
};

struct NodeSettings {
  explicit NodeSettings(p2p::Ed25519PrivateKey k) : key(std::move(k)) {}
  p2p::Ed25519PrivateKey key;
  std::vector<p2p::Multiaddr> listen;
  uint32_t handshake_timeout_ms = 10'000;
  size_t max_streams = 256;
  // Federation (without a data dir the node runs the p2p protocols only).
  std::string data_dir;
  std::string name;  // "" = the PeerId's first 16 characters
  std::vector<p2p::Multiaddr> bootstrap;
  federation::Membership membership = federation::Membership::open_federation();
  bool mdns = false;
  int max_schema_version = 0;  // 0 = latest
  uint32_t request_timeout_ms = 5000;
  std::string flight_listen = "127.0.0.1:50052";  // "" = off
  std::string memory_limit;                       // DuckDB, e.g. "4GB"
  uint32_t fragment_timeout_ms = 60'000;
  size_t worker_threads = 4;   // warehouse/metastore jobs run here
  size_t worker_queue = 1024;  // jobs that may wait; beyond that: busy
  std::optional<HubSettings> hub;
};

class Node {
 public:
  // Opens the warehouse (migrating it), binds every listener and server and
  // starts the services; the network runs once run() is called. Errors: kIo
  // (a port in use, a data dir that cannot be opened), kInvalidArgument
  // (settings), kUnsupported (a warehouse newer than this build).
  static Result<std::unique_ptr<Node>> create(NodeSettings settings);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Runs the network until stop(); then stops the worker pool and servers.
  void run();
  // Thread-safe; also what SIGINT/SIGTERM should call.
  void stop();

  const p2p::PeerId& peer_id() const;
  std::vector<p2p::Multiaddr> listen_addrs() const;
  std::string flight_uri() const;    // "" when off
  uint16_t http_port() const;        // 0 when not a hub
  uint16_t flight_sql_port() const;  // 0 when off
  bool is_hub() const;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace syndb::runtime
