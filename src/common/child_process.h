// Child processes for `syndb demo` and the benchmarks: start a `syndb`
// subcommand, wait until it prints its ready line, stop it cleanly.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace syndb {

struct ChildProcess {
  std::string name;
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
};

// Starts `argv` (argv[0] is a path) with stdout on a pipe and stderr appended
// to `log`, then reads stdout lines until one starts with `until` (the child
// is ready); returns the lines read. Errors: kIo when the child cannot be
// started or exits first (the message names `log`).
Result<std::vector<std::string>> spawn_child(ChildProcess& child, const std::vector<std::string>& argv,
                                             const std::filesystem::path& log, const std::string& until);

// SIGTERM, up to 5 s to exit, then SIGKILL; reaps the child. Idempotent.
void stop_child(ChildProcess& child);

// The rest of the first line in `lines` starting with `prefix`; "" if none.
std::string line_field(const std::vector<std::string>& lines, const std::string& prefix);

}  // namespace syndb
