#include "common/child_process.h"

namespace syndb {

Result<std::vector<std::string>> spawn_child(ChildProcess& child, const std::vector<std::string>& argv,
                                             const std::filesystem::path& log, const std::string& until) {
  try {
    child.proc = std::make_unique<Child>(argv, false, log.string(), /*own_process_group=*/false);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kIo, "cannot start " + child.name + ": " + e.what());
  }
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (auto line = child.proc->ReadLine(deadline)) {
    lines.push_back(*line);
    if (line->rfind(until, 0) == 0) return lines;
  }
  return Error(ErrorCode::kIo, child.name + " exited or stayed silent before it was ready; see " + log.string());
}

void stop_child(ChildProcess& child) { child.proc.reset(); }

std::string line_field(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines) {
    if (l.rfind(prefix, 0) == 0) return l.substr(prefix.size());
  }
  return "";
}

}  // namespace syndb
