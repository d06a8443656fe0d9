// Watchdog: resets a Stream unless disarmed in time. Bounds a handshake, a
// negotiation or a request without threading cancellation through every await.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "p2p/stream.h"

namespace syndb::p2p {

// Resets `target` unless disarmed before `ms` elapse: bounds a handshake or a
// negotiation without threading cancellation through every await.
class Watchdog {
 public:
  // ms: milliseconds until `target` is reset.
  Watchdog(asio::io_context& io, uint32_t ms, Stream* target)
      : timer_(io, std::chrono::milliseconds(ms)), state_(std::make_shared<State>(State{target, false})) {
    timer_.async_wait([state = state_](const boost::system::error_code& ec) {
      if (ec || state->target == nullptr) return;
      state->fired = true;
      state->target->reset();
    });
  }
  ~Watchdog() { disarm(); }
  void disarm() {
    state_->target = nullptr;
    timer_.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    Stream* target;
    bool fired;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace syndb::p2p
