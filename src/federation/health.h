// Health of one node as the hub sees it: a state machine over HealthPing
// outcomes with a circuit breaker (ARCHITECTURE.md, federation; seeds 001).
//   Unknown      new; excluded from queries until the first good ping
//   Healthy      answers within degraded_rtt_ms
//   Degraded     answers slowly, or has failed fewer than unreachable_after
//                pings in a row; still included, at lower priority
//   Unreachable  unreachable_after consecutive failures; excluded. The
//                circuit is open: instead of every interval, a single
//                half-open probe is sent after a backoff that doubles up to
//                probe_backoff_max_ms; a good probe closes the circuit.
// Pure logic, no I/O: unit-testable and shared by every node actor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "federation/registry.h"

namespace syndb::federation {

struct HealthConfig {
  uint32_t interval_ms = 2000;         // between pings while the circuit is closed
  uint32_t timeout_ms = 1500;          // a ping not answered by then failed
  uint32_t degraded_rtt_ms = 250;      // slower answers make a node Degraded
  uint32_t unreachable_after = 3;      // consecutive failures
  uint32_t probe_backoff_ms = 1000;    // first half-open probe delay
  uint32_t probe_backoff_max_ms = 30000;
};

struct Transition {
  HealthState from, to;
  std::string reason;
};

class HealthTracker {
 public:
  explicit HealthTracker(HealthConfig config = {}) : config_(config) {}
  HealthState state() const { return state_; }
  uint32_t consecutive_failures() const { return failures_; }
  // Records a ping answered after rtt_us; returns the transition, if any.
  std::optional<Transition> on_success(uint64_t rtt_us);
  // Records a failed ping (timeout, refused, reset); returns the transition, if any.
  std::optional<Transition> on_failure(const std::string& reason);
  // Milliseconds until the next ping: the interval, or the probe backoff while the circuit is open.
  uint32_t next_delay_ms() const;

 private:
  std::optional<Transition> move_to(HealthState to, std::string reason);
  HealthConfig config_;
  HealthState state_ = HealthState::kUnknown;
  uint32_t failures_ = 0;
  uint32_t backoff_ms_ = 0;
};

}  // namespace syndb::federation
