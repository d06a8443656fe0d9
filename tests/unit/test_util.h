// Test helpers: an in-memory Stream pair, a way to run coroutines to completion,
// and byte-string builders (hex, pattern).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "p2p/event.h"
#include "p2p/stream.h"
#include "pipe_stream.h"

namespace syndb::p2p::testing {

// Runs the coroutines on `io` until all work finishes; rethrows an exception
// from any. A 30 s watchdog fails the test instead of hanging CI.
inline void run_all(asio::io_context& io, std::vector<Task<void>> tasks) {
  std::exception_ptr failure;
  size_t remaining = tasks.size();
  asio::steady_timer watchdog(io, std::chrono::seconds(30));
  watchdog.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    ADD_FAILURE() << "test coroutines did not finish within 30 s";
    io.stop();
  });
  for (auto& t : tasks) {
    asio::co_spawn(io, std::move(t), [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
      if (--remaining == 0) watchdog.cancel();
    });
  }
  if (tasks.empty()) watchdog.cancel();
  io.run();
  io.restart();
  if (failure) std::rethrow_exception(failure);
}

// Bytes from a hex string; a test failure when it is not valid hex.
inline Bytes hex(std::string_view h) {
  bool ok = false;
  Bytes out = from_hex(h, &ok);
  EXPECT_TRUE(ok) << h;
  return out;
}

inline Bytes pattern(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t x = seed | 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

}  // namespace syndb::p2p::testing
