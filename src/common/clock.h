// Wall-clock time for records that leave the process (audit, tickets).
#pragma once

#include <chrono>
#include <cstdint>

namespace syndb {

// Milliseconds since the Unix epoch.
inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace syndb
