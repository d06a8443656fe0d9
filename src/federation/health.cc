#include "federation/health.h"

#include <algorithm>

namespace syndb::federation {

std::optional<Transition> HealthTracker::move_to(HealthState to, std::string reason) {
  if (to == state_) return std::nullopt;
  Transition t{state_, to, std::move(reason)};
  state_ = to;
  return t;
}

std::optional<Transition> HealthTracker::on_success(uint64_t rtt_us) {
  failures_ = 0;
  backoff_ms_ = 0;
  uint64_t rtt_ms = rtt_us / 1000;
  if (rtt_ms > config_.degraded_rtt_ms) {
    return move_to(HealthState::kDegraded, "slow: rtt " + std::to_string(rtt_ms) + " ms > " +
                                               std::to_string(config_.degraded_rtt_ms) + " ms");
  }
  std::string reason = state_ == HealthState::kUnreachable ? "half-open probe answered" : "ping answered";
  return move_to(HealthState::kHealthy, reason + " in " + std::to_string(rtt_us) + " us");
}

std::optional<Transition> HealthTracker::on_failure(const std::string& reason) {
  ++failures_;
  if (state_ == HealthState::kUnreachable) {
    backoff_ms_ = std::min(config_.probe_backoff_max_ms, std::max(config_.probe_backoff_ms, backoff_ms_ * 2));
    return std::nullopt;
  }
  if (failures_ >= config_.unreachable_after) {
    backoff_ms_ = config_.probe_backoff_ms;
    return move_to(HealthState::kUnreachable,
                   std::to_string(failures_) + " consecutive failures, last: " + reason + "; circuit open");
  }
  if (state_ == HealthState::kHealthy) {
    return move_to(HealthState::kDegraded, "ping failed (" + std::to_string(failures_) + "/" +
                                               std::to_string(config_.unreachable_after) + "): " + reason);
  }
  return std::nullopt;
}

uint32_t HealthTracker::next_delay_ms() const {
  return state_ == HealthState::kUnreachable ? backoff_ms_ : config_.interval_ms;
}

}  // namespace syndb::federation
