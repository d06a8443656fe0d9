// ResourceManager: what peers may make this host hold — connections, streams
// and buffered memory — in the manner of go-libp2p's resource manager, with
// one rule on top: federation members (and protected peers) draw on budgets
// of their own, so strangers can never lock members out (issue 12).
//
//   handshakes      inbound connections not yet upgraded (TCP accepted, Noise
//                   or multistream in progress): at most `handshakes`; when
//                   full, the oldest in progress is aborted (a stalled one
//                   is the likely culprit, a live handshake takes ms).
//   per class       members / strangers: upgraded connections, memory (all
//                   the class's connections together), memory per
//                   connection, yamux streams and write queue per connection.
//   system          memory of both classes together.
//
// Memory is reserved by the yamux sessions (stream receive windows) in a
// MemoryBudget tree: system → class → connection. Single-threaded: the
// host's io_context thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "p2p/rcmgr/memory_budget.h"

namespace syndb::p2p {

enum class PeerClass { kMember, kStranger };
const char* peer_class_name(PeerClass c);

struct ClassLimits {
  size_t connections;              // upgraded connections, both directions
  uint64_t memory;                 // bytes, every connection of the class together
  uint64_t memory_per_connection;  // bytes
  size_t streams_per_connection;
  size_t write_queue_per_connection;  // bytes queued for sending before writers wait
};

struct ResourceLimits {
  uint64_t memory = 2ull << 30;  // bytes: system scope (2 GiB)
  size_t handshakes = 64;        // inbound upgrades in progress
  ClassLimits members{1024, 2ull << 30, 64ull << 20, 256, 4u << 20};
  ClassLimits strangers{64, 64ull << 20, 4ull << 20, 16, 256u << 10};
};

class ResourceManager {
 public:
  explicit ResourceManager(ResourceLimits limits = {});

  const ResourceLimits& limits() const { return limits_; }
  const ClassLimits& limits(PeerClass c) const { return c == PeerClass::kMember ? limits_.members : limits_.strangers; }

  // Counts a new upgraded connection of class c; false (nothing counted)
  // when the class is at its limit.
  bool admit_connection(PeerClass c);
  // Counts an outbound connection we chose to make, even past the limit.
  void force_connection(PeerClass c);
  void connection_closed(PeerClass c);
  // A fresh per-connection budget under the class's (and the system's).
  std::shared_ptr<MemoryBudget> connection_budget(PeerClass c);

  void handshake_started() { ++handshakes_; }
  void handshake_finished() { --handshakes_; }
  void handshake_aborted() { ++handshakes_aborted_; }
  size_t handshakes() const { return handshakes_; }

  struct ClassStats {
    size_t connections = 0;
    uint64_t memory_used = 0, memory_limit = 0, memory_refused = 0;
    uint64_t connections_refused = 0;
  };
  ClassStats stats(PeerClass c) const;
  uint64_t handshakes_aborted() const { return handshakes_aborted_; }
  uint64_t memory_used() const { return system_->used(); }
  // Prometheus text lines (syndb_p2p_…), for /metrics.
  std::string metrics_text() const;

 private:
  struct Class {
    std::shared_ptr<MemoryBudget> memory;
    size_t connections = 0;
    uint64_t refused = 0;
  };
  Class& of(PeerClass c) { return c == PeerClass::kMember ? members_ : strangers_; }
  const Class& of(PeerClass c) const { return c == PeerClass::kMember ? members_ : strangers_; }

  ResourceLimits limits_;
  std::shared_ptr<MemoryBudget> system_;
  Class members_, strangers_;
  size_t handshakes_ = 0;
  uint64_t handshakes_aborted_ = 0;
};

}  // namespace syndb::p2p
