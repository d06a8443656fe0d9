// Event: wakes coroutines waiting for a condition on a single-threaded
// io_context (a condition variable without a mutex).
//
// Usage: `while (!ready) co_await ev.wait();` on one side, `ev.notify_all()`
// on the other. No wakeup is lost because the condition is checked and the
// wait begins without a suspension in between. Implemented as a steady_timer
// that never expires and is cancelled to wake waiters.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "p2p/stream.h"

namespace syndb::p2p {

class Event {
 public:
  explicit Event(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  Task<void> wait() { co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable)); }
  void notify_all() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace syndb::p2p
