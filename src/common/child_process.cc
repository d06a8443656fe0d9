#include "common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace syndb {

Result<std::vector<std::string>> spawn_child(ChildProcess& child, const std::vector<std::string>& argv,
                                             const std::filesystem::path& log, const std::string& until) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error(ErrorCode::kIo, "pipe failed");
  pid_t pid = fork();
  if (pid < 0) return Error(ErrorCode::kIo, "fork failed");
  if (pid == 0) {
    dup2(fds[1], 1);
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  child.pid = pid;
  child.out = fdopen(fds[0], "r");
  std::vector<std::string> lines;
  char line[1024];
  while (child.out && fgets(line, sizeof(line), child.out)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    lines.push_back(s);
    if (s.rfind(until, 0) == 0) return lines;
  }
  return Error(ErrorCode::kIo, child.name + " exited before it was ready; see " + log.string());
}

void stop_child(ChildProcess& c) {
  if (c.pid > 0) {
    kill(c.pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(c.pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (waitpid(c.pid, &status, WNOHANG) == 0) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, &status, 0);
    }
    c.pid = -1;
  }
  if (c.out) fclose(c.out);
  c.out = nullptr;
}

std::string line_field(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines) {
    if (l.rfind(prefix, 0) == 0) return l.substr(prefix.size());
  }
  return "";
}

}  // namespace syndb
