// Child processes: `syndb demo` and the benchmarks start hub and node
// processes with it, and the interop and integration tests everything they
// run. One helper (issue 12): Child, a process started with posix_spawn in
// its own process group, stdout on a pipe, stderr on a pipe or appended to a
// file, every wait bounded by a deadline, always reaped — the destructor
// sends SIGTERM to the group, then SIGKILL after kTermGrace.
// The constructor throws std::runtime_error when the process cannot start
// (spawn_child() below turns that into a Status).
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
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

extern char** environ;

namespace syndb {

class Child {
 public:
  // How long a child gets after SIGTERM before it is SIGKILLed (destructor).
  static constexpr auto kTermGrace = std::chrono::seconds(5);
  // Returned by Wait when the deadline passed (the child was killed).
  static constexpr int kTimedOut = -1000;

  // stderr_file: when not empty, the child's stderr is appended to this file
  // instead of a pipe (err() then stays empty; read the file).
  // own_process_group: the child leads a new process group (tests: the
  // whole group is signalled); false keeps it in ours, so a terminal's
  // Ctrl-C reaches it too (`syndb demo`).
  explicit Child(std::vector<std::string> argv, bool use_path = false, const std::string& stderr_file = "",
                 bool own_process_group = true)
      : argv_(std::move(argv)), stderr_file_(stderr_file), own_group_(own_process_group) {
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || (stderr_file.empty() && pipe2(err, O_CLOEXEC) != 0)) {
      int e = errno;
      for (int fd : {out[0], out[1], err[0], err[1]}) {
        if (fd >= 0) close(fd);
      }
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(e));
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    if (stderr_file.empty()) {
      posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    }

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group (so the whole group can be signalled), default
    // dispositions for the signals we care about, nothing blocked.
    sigset_t def;
    sigemptyset(&def);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&def, s);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, static_cast<short>((own_process_group ? POSIX_SPAWN_SETPGROUP : 0) |
                                                       POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));

    std::vector<char*> cargv;
    for (auto& a : argv_) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    pid_t pid = -1;
    int rc = use_path ? posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), environ)
                      : posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    if (err[1] >= 0) close(err[1]);
    if (rc != 0) {
      close(out[0]);
      if (err[0] >= 0) close(err[0]);
      throw std::runtime_error("posix_spawn " + argv_[0] + ": " + std::strerror(rc));
    }
    pid_ = pid;
    out_fd_ = out[0];
    err_fd_ = err[0];
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));  // -1 is tolerated (polling fallback)
    if (pidfd_ >= 0) fcntl(pidfd_, F_SETFD, FD_CLOEXEC);
  }

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  ~Child() {
    if (!reaped_) {
      Signal(SIGTERM);
      auto deadline = std::chrono::steady_clock::now() + kTermGrace;
      while (!reaped_ && std::chrono::steady_clock::now() < deadline) Pump(deadline);
      if (!reaped_) {
        if (own_group_) kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
      }
    }
    for (int fd : {out_fd_, err_fd_, pidfd_}) {
      if (fd >= 0) close(fd);
    }
  }

  pid_t pid() const { return pid_; }

  // Sends sig to the child's process group when it leads one, else to the
  // child (only while it is not reaped, so a recycled pid is never signalled).
  void Signal(int sig) {
    if (!reaped_) {
      if (!own_group_ || kill(-pid_, sig) != 0) kill(pid_, sig);
    }
  }

  // True while the child has not exited.
  bool Running() {
    CheckExited();
    return !reaped_;
  }

  // Next stdout line without '\n'; nullopt on EOF (a final unterminated line
  // is still returned) or when the deadline passes.
  std::optional<std::string> ReadLine(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      size_t nl = out_.find('\n', line_pos_);
      if (nl != std::string::npos) {
        std::string line = out_.substr(line_pos_, nl - line_pos_);
        line_pos_ = nl + 1;
        return line;
      }
      if (out_fd_ < 0) {
        if (line_pos_ < out_.size()) {
          std::string line = out_.substr(line_pos_);
          line_pos_ = out_.size();
          return line;
        }
        return std::nullopt;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      Pump(deadline);
    }
  }

  // Reads stdout lines until one starts with prefix. Throws (with everything
  // the child printed) on EOF or deadline.
  std::string WaitForLine(std::string_view prefix, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto line = ReadLine(deadline);
      if (!line) {
        throw std::runtime_error("no line starting with '" + std::string(prefix) + "' from " + Describe() +
                                 (out_fd_ < 0 ? " (stdout closed)" : " (deadline passed)"));
      }
      if (line->rfind(prefix, 0) == 0) return *line;
    }
  }

  // Drains both pipes and waits for the child to exit. Returns the exit code,
  // -signal if it was killed by a signal, or kTimedOut (after SIGKILL) if the
  // deadline passed first.
  int Wait(std::chrono::steady_clock::time_point deadline) {
    while (!reaped_ || out_fd_ >= 0 || err_fd_ >= 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        if (!reaped_) {
          timed_out_ = true;
          if (own_group_) kill(-pid_, SIGKILL);
          kill(pid_, SIGKILL);
          int status = 0;
          while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
          }
          reaped_ = true;
          status_ = status;
        }
        // Whatever is still buffered in the pipes is picked up below.
        DrainNonBlocking();
        break;
      }
      Pump(deadline);
    }
    if (timed_out_) return kTimedOut;
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
    return kTimedOut;
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  std::string Describe() const {
    std::string cmd;
    for (const auto& a : argv_) cmd += (cmd.empty() ? "" : " ") + a;
    std::string err = err_;
    if (!stderr_file_.empty()) err = "(in " + stderr_file_ + ")\n" + ReadFileTail(stderr_file_, 8000);
    return "`" + cmd + "`\n--- stdout ---\n" + out_ + "\n--- stderr ---\n" + err + "\n---";
  }

 private:
  void CheckExited() {
    if (reaped_) return;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = status;
    }
  }

  // Reads what is available on fd into buf; closes fd on EOF/error.
  static void ReadSome(int& fd, std::string& buf) {
    std::array<char, 65536> tmp{};
    ssize_t n = read(fd, tmp.data(), tmp.size());
    if (n > 0) {
      buf.append(tmp.data(), static_cast<size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      close(fd);
      fd = -1;
    }
  }

  void DrainNonBlocking() {
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<int*> which;
      std::vector<std::string*> bufs;
      if (out_fd_ >= 0) {
        fds.push_back({out_fd_, POLLIN, 0});
        which.push_back(&out_fd_);
        bufs.push_back(&out_);
      }
      if (err_fd_ >= 0) {
        fds.push_back({err_fd_, POLLIN, 0});
        which.push_back(&err_fd_);
        bufs.push_back(&err_);
      }
      if (fds.empty()) return;
      int r = poll(fds.data(), fds.size(), 0);
      if (r <= 0) return;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) ReadSome(*which[i], *bufs[i]);
      }
    }
  }

  // One poll round over stdout, stderr and the pidfd, bounded by deadline.
  void Pump(std::chrono::steady_clock::time_point deadline) {
    CheckExited();
    std::vector<pollfd> fds;
    int out_idx = -1;
    int err_idx = -1;
    int pid_idx = -1;
    if (out_fd_ >= 0) {
      out_idx = static_cast<int>(fds.size());
      fds.push_back({out_fd_, POLLIN, 0});
    }
    if (err_fd_ >= 0) {
      err_idx = static_cast<int>(fds.size());
      fds.push_back({err_fd_, POLLIN, 0});
    }
    if (!reaped_ && pidfd_ >= 0) {
      pid_idx = static_cast<int>(fds.size());
      fds.push_back({pidfd_, POLLIN, 0});
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left < 0) left = 0;
    // Without a pidfd, an exit with the pipes still open (held by a
    // grandchild) is only noticed by re-checking waitpid periodically.
    if (!reaped_ && pidfd_ < 0) left = std::min<long long>(left, 20);
    if (fds.empty()) {
      // Only reachable without a pidfd: wait a little, then re-check waitpid.
      if (!reaped_) {
        poll(nullptr, 0, static_cast<int>(std::min<long long>(left, 20)));
        CheckExited();
      }
      return;
    }
    int r = poll(fds.data(), fds.size(), static_cast<int>(left));
    if (r <= 0) {
      CheckExited();
      return;
    }
    if (out_idx >= 0 && fds[out_idx].revents != 0) ReadSome(out_fd_, out_);
    if (err_idx >= 0 && fds[err_idx].revents != 0) ReadSome(err_fd_, err_);
    if (pid_idx >= 0 && fds[pid_idx].revents != 0) CheckExited();
  }

  // The last max_bytes of a file ("" when it cannot be read).
  static std::string ReadFileTail(const std::string& path, size_t max_bytes) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string text;
    std::array<char, 65536> buf{};
    for (;;) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf.data(), static_cast<size_t>(n));
    }
    close(fd);
    return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
  }

  std::vector<std::string> argv_;
  std::string stderr_file_;
  bool own_group_ = true;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  bool timed_out_ = false;
  int status_ = 0;
  std::string out_;
  std::string err_;
  size_t line_pos_ = 0;
};

// A named child for spawn_child / stop_child (the demo's and benchmarks' use).
struct ChildProcess {
  std::string name;
  std::unique_ptr<Child> proc;
};

// Starts `argv` (argv[0] is a path) with stderr appended to `log`, then reads
// stdout lines until one starts with `until` (the child is ready), for at
// most 120 s; returns the lines read. Errors: kIo when the child cannot be
// started, exits first or stays silent (the message names `log`).
Result<std::vector<std::string>> spawn_child(ChildProcess& child, const std::vector<std::string>& argv,
                                             const std::filesystem::path& log, const std::string& until);

// SIGTERM, up to 5 s to exit, then SIGKILL; reaps the child. Idempotent.
void stop_child(ChildProcess& child);

// The rest of the first line in `lines` starting with `prefix`; "" if none.
std::string line_field(const std::vector<std::string>& lines, const std::string& prefix);

}  // namespace syndb
