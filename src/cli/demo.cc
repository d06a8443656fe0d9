// `syndb demo`: until the federation exists, starts two `syndb node`
// processes on loopback, then pings, identifies and runs perf between them.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace syndb::cli {

namespace {

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string addr;
};

// Starts `argv0 node --key key --listen /ip4/127.0.0.1/tcp/0` and reads its first `listening` line.
bool start_node(const std::string& argv0, const std::string& key, Child& child) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(argv0.c_str(), argv0.c_str(), "node", "--key", key.c_str(), "--listen", "/ip4/127.0.0.1/tcp/0",
          "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  child.pid = pid;
  child.out = fdopen(fds[0], "r");
  char line[512];
  if (!child.out || !fgets(line, sizeof(line), child.out)) return false;
  std::string s(line);
  if (s.rfind("listening ", 0) != 0) return false;
  child.addr = s.substr(10, s.find_last_not_of("\r\n") - 9);
  return true;
}

void stop(Child& c) {
  if (c.pid > 0) {
    kill(c.pid, SIGTERM);
    waitpid(c.pid, nullptr, 0);
    c.pid = -1;
  }
  if (c.out) fclose(c.out);
  c.out = nullptr;
}

int run_self(const std::string& argv0, const std::vector<std::string>& args) {
  std::string cmd = argv0;
  for (const auto& a : args) cmd += " '" + a + "'";
  return std::system(cmd.c_str());
}

}  // namespace

int run_demo(const DemoOptions& o, const char* argv0_c) {
  std::string argv0 = std::filesystem::canonical("/proc/self/exe").string();
  (void)argv0_c;
  auto dir = std::filesystem::temp_directory_path() / ("syndb-demo-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  Child a, b;
  int rc = 0;
  for (auto* c : {&a, &b}) {
    std::string key = (dir / (c == &a ? "a.key" : "b.key")).string();
    if (run_self(argv0, {"keygen", "--out", key}) != 0 || !start_node(argv0, key, *c)) {
      std::fprintf(stderr, "syndb demo: could not start a node\n");
      rc = 1;
      break;
    }
    std::printf("node %c: %s\n", c == &a ? 'A' : 'B', c->addr.c_str());
  }
  std::fflush(stdout);
  if (rc == 0) {
    std::printf("\n$ syndb ping %s --count 3\n", b.addr.c_str());
    std::fflush(stdout);
    rc = run_self(argv0, {"ping", b.addr, "--count", "3"});
    std::printf("\n$ syndb perf %s --upload 10000000 --download 100000000\n", a.addr.c_str());
    std::fflush(stdout);
    if (rc == 0) rc = run_self(argv0, {"perf", a.addr, "--upload", "10000000", "--download", "100000000"});
  }
  if (rc == 0 && o.keep) {
    std::printf("\nnodes running; press Ctrl-C to stop\n");
    std::fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
  }
  stop(a);
  stop(b);
  std::filesystem::remove_all(dir);
  return rc == 0 ? 0 : 1;
}

}  // namespace syndb::cli
