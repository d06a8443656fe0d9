// In-memory Stream pair for tests and fuzz targets (no gtest dependency):
// the memory transport's pipes (p2p/transport/memory.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "p2p/transport/memory.h"

namespace syndb::p2p::testing {

using PipeStream = MemoryStream;

inline std::pair<std::unique_ptr<PipeStream>, std::unique_ptr<PipeStream>> make_pipe(asio::io_context& io) {
  return make_memory_pipe(io.get_executor());
}

}  // namespace syndb::p2p::testing
