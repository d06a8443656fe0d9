// Process helper shared by the interop (tests/interop) and integration
// (tests/integration) tests: Child, a child process with piped stdout and piped
// (or file) stderr, in its own process group, that is always reaped; Run and
// RunSyndb for one-shot commands. stderr may go to a file instead of a pipe
// (for long-running daemons whose logs nobody drains; a full pipe would block
// the child's logger).
//
// Child's destructor sends SIGTERM (then SIGKILL after kTermGrace) to the
// child's process group and reaps it, so nothing is leaked even when an
// assertion fails or a helper throws. Every wait has a deadline.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/child_process.h"

#ifndef SYNDB_BINARY
#error "SYNDB_BINARY must be defined (path to build/syndb)"
#endif
#ifndef SYNDB_SOURCE_DIR
#error "SYNDB_SOURCE_DIR must be defined (repository root)"
#endif

namespace syndb::itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Upper bound for any single wait.
inline constexpr auto kMaxWait = seconds(60);
// Returned by Child::Wait when the deadline passed (the child was killed).
inline constexpr int kTimedOut = syndb::Child::kTimedOut;

inline Clock::time_point DeadlineIn(Clock::duration d) {
  return Clock::now() + std::min<Clock::duration>(d, kMaxWait);
}

inline std::string SyndbBinary() { return SYNDB_BINARY; }

inline std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// ---------------------------------------------------------------------------
// Child process with piped stdout and piped (or file) stderr.

// The one child-process helper (src/common/child_process.h).
using Child = syndb::Child;

struct RunResult {
  int code = kTimedOut;
  std::string out;
  std::string err;
  std::string desc;  // command line and output, for assertion messages
};

inline RunResult Run(std::vector<std::string> argv, Clock::duration timeout = kMaxWait, bool use_path = false) {
  Child c(std::move(argv), use_path);
  RunResult r;
  r.code = c.Wait(DeadlineIn(timeout));
  r.out = c.out();
  r.err = c.err();
  r.desc = c.Describe() + "\nexit: " + (r.code == kTimedOut ? std::string("timed out") : std::to_string(r.code));
  return r;
}

inline RunResult RunSyndb(std::vector<std::string> args, Clock::duration timeout = kMaxWait) {
  args.insert(args.begin(), SyndbBinary());
  return Run(std::move(args), timeout);
}

}  // namespace syndb::itest
