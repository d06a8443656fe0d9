// Feeds fuzz input to a protocol endpoint as the bytes a remote peer sent.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "pipe_stream.h"

namespace syndb::p2p::testing {

// Writes `data` then EOF into the peer end of a pipe, runs `endpoint` on the
// other end, and drives the io_context until nothing is left to do.
template <typename Endpoint>
void feed(const uint8_t* data, size_t size, Endpoint endpoint) {
  asio::io_context io;
  auto [remote, local] = make_pipe(io);
  Bytes input(data, data + size);
  asio::co_spawn(
      io,
      [](Stream& s, Bytes input) -> Task<void> {
        (void)co_await s.write(input);
        (void)co_await s.close_write();
      }(*remote, std::move(input)),
      asio::detached);
  endpoint(io, std::move(local));
  io.run();
}

}  // namespace syndb::p2p::testing
