// Interop tests: build/syndb against real js-libp2p peers
// (tests/interop/js/peer.mjs), plus CLI contract and robustness checks.
//
// Every test starts its own processes on port 0 and writes its keys to its
// own mkdtemp directory. Processes are owned by Child, whose destructor sends
// SIGTERM (then SIGKILL) to the child's process group and reaps it, so nothing
// is leaked even when an assertion fails or a helper throws. There are no
// sleeps: tests wait for the `listening` / `ready` lines, and every wait has a
// deadline of at most 60 s.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

extern char** environ;

#ifndef SYNDB_BINARY
#error "SYNDB_BINARY must be defined (path to build/syndb)"
#endif
#ifndef SYNDB_SOURCE_DIR
#error "SYNDB_SOURCE_DIR must be defined (repository root)"
#endif

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using json = nlohmann::json;

// Upper bound for any single wait in this file.
constexpr auto kMaxWait = seconds(60);
// How long a child gets after SIGTERM before it is SIGKILLed (destructor).
constexpr auto kTermGrace = seconds(5);
// Returned by Child::Wait when the deadline passed (the child was killed).
constexpr int kTimedOut = -1000;

Clock::time_point DeadlineIn(Clock::duration d) {
  return Clock::now() + std::min<Clock::duration>(d, kMaxWait);
}

std::string SyndbBinary() { return SYNDB_BINARY; }

std::string JsPeer() { return std::string(SYNDB_SOURCE_DIR) + "/tests/interop/js/peer.mjs"; }

std::string NodeBinary() {
  const char* env = std::getenv("SYNDB_NODE_BIN");
  return env != nullptr && *env != '\0' ? env : "node";
}

std::vector<std::string> SplitLines(std::string_view text) {
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

size_t CountMatching(std::string_view text, const std::regex& re) {
  size_t n = 0;
  for (const auto& line : SplitLines(text)) {
    if (std::regex_match(line, re)) ++n;
  }
  return n;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// "/ip4/127.0.0.1/tcp/1234/..." -> 1234
int TcpPort(const std::string& addr) {
  static const std::regex re(R"(^/ip4/127\.0\.0\.1/tcp/(\d+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(addr, m, re)) throw std::runtime_error("not a loopback tcp multiaddr: " + addr);
  return std::stoi(m[1].str());
}

// ---------------------------------------------------------------------------
// Child process with piped stdout/stderr.

class Child {
 public:
  explicit Child(std::vector<std::string> argv, bool use_path = false) : argv_(std::move(argv)) {
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
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
    posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);

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
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> cargv;
    for (auto& a : argv_) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    pid_t pid = -1;
    int rc = use_path ? posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), environ)
                      : posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
      close(out[0]);
      close(err[0]);
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
      auto deadline = Clock::now() + kTermGrace;
      while (!reaped_ && Clock::now() < deadline) Pump(deadline);
      if (!reaped_) {
        kill(-pid_, SIGKILL);
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

  // Sends sig to the child's process group (only while it is not reaped, so a
  // recycled pid is never signalled).
  void Signal(int sig) {
    if (!reaped_) {
      if (kill(-pid_, sig) != 0) kill(pid_, sig);
    }
  }

  // True while the child has not exited.
  bool Running() {
    CheckExited();
    return !reaped_;
  }

  // Next stdout line without '\n'; nullopt on EOF (a final unterminated line
  // is still returned) or when the deadline passes.
  std::optional<std::string> ReadLine(Clock::time_point deadline) {
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
      if (Clock::now() >= deadline) return std::nullopt;
      Pump(deadline);
    }
  }

  // Reads stdout lines until one starts with prefix. Throws (with everything
  // the child printed) on EOF or deadline.
  std::string WaitForLine(std::string_view prefix, Clock::time_point deadline) {
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
  int Wait(Clock::time_point deadline) {
    while (!reaped_ || out_fd_ >= 0 || err_fd_ >= 0) {
      if (Clock::now() >= deadline) {
        if (!reaped_) {
          timed_out_ = true;
          kill(-pid_, SIGKILL);
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
    return "`" + cmd + "`\n--- stdout ---\n" + out_ + "\n--- stderr ---\n" + err_ + "\n---";
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
  void Pump(Clock::time_point deadline) {
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
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
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

  std::vector<std::string> argv_;
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

struct RunResult {
  int code = kTimedOut;
  std::string out;
  std::string err;
  std::string desc;  // command line and output, for assertion messages
};

RunResult Run(std::vector<std::string> argv, Clock::duration timeout = kMaxWait, bool use_path = false) {
  Child c(std::move(argv), use_path);
  RunResult r;
  r.code = c.Wait(DeadlineIn(timeout));
  r.out = c.out();
  r.err = c.err();
  r.desc = c.Describe() + "\nexit: " + (r.code == kTimedOut ? std::string("timed out") : std::to_string(r.code));
  return r;
}

RunResult RunSyndb(std::vector<std::string> args, Clock::duration timeout = kMaxWait) {
  args.insert(args.begin(), SyndbBinary());
  return Run(std::move(args), timeout);
}

RunResult RunJs(std::vector<std::string> args, Clock::duration timeout = kMaxWait) {
  args.insert(args.begin(), {NodeBinary(), JsPeer()});
  return Run(std::move(args), timeout, /*use_path=*/true);
}

// Parses the last non-empty stdout line as a JSON object.
json LastJson(const RunResult& r) {
  auto lines = SplitLines(r.out);
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) throw std::runtime_error("no JSON output from " + r.desc);
  try {
    json j = json::parse(lines.back());
    if (!j.is_object()) throw std::runtime_error("not an object");
    return j;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("bad JSON (") + e.what() + ") from " + r.desc);
  }
}

bool Contains(const json& arr, const std::string& s) {
  if (!arr.is_array()) return false;
  return std::any_of(arr.begin(), arr.end(), [&](const json& v) { return v.is_string() && v.get<std::string>() == s; });
}

// A listening peer: the process and the address it printed.
struct Listener {
  std::unique_ptr<Child> proc;
  std::string addr;     // full, with /p2p/<id>
  std::string peer_id;  // the /p2p component
  std::string bare;     // without /p2p
  int port = 0;
};

Listener ParseListening(std::unique_ptr<Child> proc, const std::string& line) {
  // "listening <multiaddr>/p2p/<peerid>"
  static const std::regex re(R"(^listening (/\S+)/p2p/(\S+)$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) {
    throw std::runtime_error("unexpected listening line '" + line + "' from " + proc->Describe());
  }
  Listener l;
  l.bare = m[1].str();
  l.peer_id = m[2].str();
  l.addr = l.bare + "/p2p/" + l.peer_id;
  l.port = TcpPort(l.bare);
  l.proc = std::move(proc);
  return l;
}

// ---------------------------------------------------------------------------
// Raw TCP client for the garbage tests.

class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      int e = errno;
      close(fd_);
      throw std::runtime_error("connect to port " + std::to_string(port) + ": " + std::strerror(e));
    }
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() { Close(); }

  // Sends everything (the peer may legitimately reset the connection early,
  // so errors are returned, not thrown). MSG_NOSIGNAL: no SIGPIPE.
  bool SendAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until at least `want` bytes, EOF/error, or deadline.
  std::string ReadUpTo(size_t want, Clock::time_point deadline) {
    std::string got;
    while (got.size() < want) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      std::array<char, 4096> buf{};
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      got.append(buf.data(), static_cast<size_t>(n));
    }
    return got;
  }

  // True once the peer closes or resets the connection (data is discarded);
  // false if it is still open at the deadline.
  bool WaitClosed(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      std::array<char, 4096> buf{};
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
    }
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// ---------------------------------------------------------------------------
// Fixture: a per-test temp dir for keys, and helpers to start peers.

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/syndb-interop-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr) << "mkdtemp: " << std::strerror(errno);
    dir_ = buf.data();
  }

  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string KeyPath(const std::string& name) const { return dir_ + "/" + name; }

  // `syndb keygen --out <dir>/<name>`; returns the printed peer id.
  std::string Keygen(const std::string& name) {
    auto r = RunSyndb({"keygen", "--out", KeyPath(name)});
    if (r.code != 0) throw std::runtime_error("keygen failed: " + r.desc);
    std::string id = Trim(r.out);
    if (id.empty() || id.find('\n') != std::string::npos) throw std::runtime_error("keygen output: " + r.desc);
    return id;
  }

  // Starts `syndb node` with a fresh key and waits for its listening line.
  Listener StartSyndbNode(const std::string& key_name = "node.key") {
    std::string key = KeyPath(key_name);
    if (!std::filesystem::exists(key)) Keygen(key_name);
    auto proc = std::make_unique<Child>(
        std::vector<std::string>{SyndbBinary(), "node", "--key", key, "--listen", "/ip4/127.0.0.1/tcp/0"});
    std::string line = proc->WaitForLine("listening ", DeadlineIn(seconds(30)));
    return ParseListening(std::move(proc), line);
  }

  // Starts the js peer's `listen` and waits for `ready`.
  Listener StartJsNode() {
    auto proc = std::make_unique<Child>(std::vector<std::string>{NodeBinary(), JsPeer(), "listen"}, true);
    auto deadline = DeadlineIn(seconds(60));
    std::string first = proc->WaitForLine("listening ", deadline);
    proc->WaitForLine("ready", deadline);
    return ParseListening(std::move(proc), first);
  }

  std::string dir_;
};

const std::regex kRttUs(R"(^rtt_us=\d+$)");
const std::regex kRttMs(R"(^rtt_ms=\d+$)");
constexpr uint64_t k32MiB = 32ull * 1024 * 1024;
constexpr uint64_t k64MiB = 64ull * 1024 * 1024;

// ---------------------------------------------------------------------------
// 1-2. ping both ways

TEST_F(InteropTest, JsPingsSyndbNode) {
  Listener node = StartSyndbNode();
  auto r = RunJs({"ping", node.addr, "--count", "3"});
  ASSERT_EQ(r.code, 0) << r.desc;
  EXPECT_EQ(CountMatching(r.out, kRttMs), 3u) << r.desc;
  EXPECT_TRUE(node.proc->Running()) << node.proc->Describe();
}

TEST_F(InteropTest, SyndbPingsJsNode) {
  Listener js = StartJsNode();
  auto r = RunSyndb({"ping", js.addr, "--count", "3"});
  ASSERT_EQ(r.code, 0) << r.desc;
  EXPECT_EQ(CountMatching(r.out, kRttUs), 3u) << r.desc;
  EXPECT_EQ(SplitLines(r.out).size(), 3u) << r.desc;
}

// ---------------------------------------------------------------------------
// 3-4. identify both ways

TEST_F(InteropTest, IdentifyJsSeesSyndb) {
  Listener node = StartSyndbNode();
  auto id = RunSyndb({"id", "--key", KeyPath("node.key")});
  ASSERT_EQ(id.code, 0) << id.desc;
  const std::string expected_id = Trim(id.out);
  EXPECT_EQ(node.peer_id, expected_id);

  auto r = RunJs({"identify", node.addr});
  ASSERT_EQ(r.code, 0) << r.desc;
  json j = LastJson(r);
  SCOPED_TRACE(r.desc);

  ASSERT_TRUE(j["peerId"].is_string());
  EXPECT_EQ(j["peerId"].get<std::string>(), expected_id);

  ASSERT_TRUE(j["publicKeyHex"].is_string());
  const std::string pk = j["publicKeyHex"].get<std::string>();
  // protobuf PublicKey{Type=Ed25519(1), Data=32 bytes}: 08 01 12 20 <32 bytes>
  EXPECT_EQ(pk.rfind("08011220", 0), 0u) << pk;
  EXPECT_EQ(pk.size(), 2u * (4 + 32)) << pk;

  for (const char* proto : {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/perf/1.0.0"}) {
    EXPECT_TRUE(Contains(j["protocols"], proto)) << proto;
  }
  EXPECT_TRUE(Contains(j["listenAddrs"], node.bare)) << node.bare;
}

TEST_F(InteropTest, IdentifySyndbSeesJs) {
  Listener js = StartJsNode();
  auto r = RunSyndb({"identify", js.addr});
  ASSERT_EQ(r.code, 0) << r.desc;
  json j = LastJson(r);
  SCOPED_TRACE(r.desc);

  ASSERT_TRUE(j["peerId"].is_string());
  EXPECT_EQ(j["peerId"].get<std::string>(), js.peer_id);
  for (const char* proto : {"/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"}) {
    EXPECT_TRUE(Contains(j["protocols"], proto)) << proto;
  }
  EXPECT_TRUE(Contains(j["listenAddrs"], js.bare)) << js.bare;
  ASSERT_TRUE(j["agentVersion"].is_string());
  EXPECT_EQ(j["agentVersion"].get<std::string>().rfind("js-libp2p", 0), 0u);
  ASSERT_TRUE(j["publicKeyHex"].is_string());
  EXPECT_EQ(j["publicKeyHex"].get<std::string>().rfind("08011220", 0), 0u);
}

// ---------------------------------------------------------------------------
// 5. echo: 16 concurrent yamux streams on one connection, 64 MiB in total

TEST_F(InteropTest, Echo16StreamsOverOneConnection) {
  Listener node = StartSyndbNode();
  auto r = RunJs({"echo", node.addr, "--streams", "16", "--bytes", std::to_string(k64MiB)});
  ASSERT_EQ(r.code, 0) << r.desc;
  json j = LastJson(r);
  SCOPED_TRACE(r.desc);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["streams"], 16);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), k64MiB);
  EXPECT_TRUE(node.proc->Running()) << node.proc->Describe();
}

// ---------------------------------------------------------------------------
// 6. perf both ways, 32 MiB up and 32 MiB down

void ExpectPerfJson(const RunResult& r, uint64_t up, uint64_t down) {
  json j = LastJson(r);
  SCOPED_TRACE(r.desc);
  ASSERT_TRUE(j["upload_bytes"].is_number());
  ASSERT_TRUE(j["download_bytes"].is_number());
  EXPECT_EQ(j["upload_bytes"].get<uint64_t>(), up);
  EXPECT_EQ(j["download_bytes"].get<uint64_t>(), down);
  ASSERT_TRUE(j["seconds"].is_number());
  EXPECT_GT(j["seconds"].get<double>(), 0.0);
  EXPECT_TRUE(j["upload_MBps"].is_number());
  EXPECT_TRUE(j["download_MBps"].is_number());
}

TEST_F(InteropTest, PerfJsClientSyndbServer) {
  Listener node = StartSyndbNode();
  auto r = RunJs({"perf", node.addr, "--upload", std::to_string(k32MiB), "--download", std::to_string(k32MiB)});
  ASSERT_EQ(r.code, 0) << r.desc;
  ExpectPerfJson(r, k32MiB, k32MiB);
}

TEST_F(InteropTest, PerfSyndbClientJsServer) {
  Listener js = StartJsNode();
  auto r = RunSyndb({"perf", js.addr, "--upload", std::to_string(k32MiB), "--download", std::to_string(k32MiB)});
  ASSERT_EQ(r.code, 0) << r.desc;
  ExpectPerfJson(r, k32MiB, k32MiB);
}

// ---------------------------------------------------------------------------
// 7-8. CLI error contract

TEST_F(InteropTest, WrongPeerIdFails) {
  Listener node = StartSyndbNode();
  const std::string other = Keygen("other.key");
  ASSERT_NE(other, node.peer_id);
  auto r = RunSyndb({"ping", "/ip4/127.0.0.1/tcp/" + std::to_string(node.port) + "/p2p/" + other, "--count", "1"});
  EXPECT_EQ(r.code, 1) << r.desc;
  EXPECT_EQ(CountMatching(r.out, kRttUs), 0u) << r.desc;
  auto err = SplitLines(r.err);
  ASSERT_EQ(err.size(), 1u) << r.desc;
  EXPECT_FALSE(Trim(err[0]).empty()) << r.desc;
  // The node must not be harmed by a dialer that rejects it.
  EXPECT_TRUE(node.proc->Running()) << node.proc->Describe();
}

TEST_F(InteropTest, UsageErrorsExit2) {
  {
    auto r = RunSyndb({"ping", "not-a-multiaddr"});
    EXPECT_EQ(r.code, 2) << r.desc;
    auto err = SplitLines(r.err);
    ASSERT_EQ(err.size(), 1u) << r.desc;
    EXPECT_FALSE(Trim(err[0]).empty()) << r.desc;
    EXPECT_TRUE(r.out.empty()) << r.desc;
  }
  {
    auto r = RunSyndb({"frobnicate"});
    EXPECT_EQ(r.code, 2) << r.desc;
    EXPECT_FALSE(Trim(r.err).empty()) << r.desc;
  }
}

// ---------------------------------------------------------------------------
// 9. robustness

TEST_F(InteropTest, NodeSurvivesGarbage) {
  Listener node = StartSyndbNode();

  // 4 KiB of random bytes instead of a multistream header.
  std::string garbage(4096, '\0');
  std::mt19937 rng(0x5eed);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& c : garbage) c = static_cast<char>(byte(rng));
  RawSocket junk(node.port);
  junk.SendAll(garbage);  // may fail half-way if the node resets early; that is fine
  // The node rejects it (it may first send its own multistream header).
  EXPECT_TRUE(junk.WaitClosed(DeadlineIn(seconds(15)))) << "node kept a garbage connection open";

  // A valid multistream-select header (varint length 19 + "/multistream/1.0.0\n"),
  // then nothing: the connection stalls mid-negotiation.
  const std::string header = std::string("\x13") + "/multistream/1.0.0\n";
  RawSocket stall(node.port);
  ASSERT_TRUE(stall.SendAll(header));
  // The node, as listener, answers with its own header.
  std::string reply = stall.ReadUpTo(header.size(), DeadlineIn(seconds(10)));
  EXPECT_EQ(reply.substr(0, header.size()), header);

  // While both sockets are open, the node still serves a real peer.
  {
    auto r = RunSyndb({"ping", node.addr, "--count", "2"});
    ASSERT_EQ(r.code, 0) << r.desc << "\nnode: " << node.proc->Describe();
    EXPECT_EQ(CountMatching(r.out, kRttUs), 2u) << r.desc;
  }

  junk.Close();
  stall.Close();

  // And after they are gone.
  {
    auto r = RunSyndb({"ping", node.addr, "--count", "2"});
    ASSERT_EQ(r.code, 0) << r.desc << "\nnode: " << node.proc->Describe();
    EXPECT_EQ(CountMatching(r.out, kRttUs), 2u) << r.desc;
  }
  {
    auto r = RunJs({"ping", node.addr, "--count", "1"});
    ASSERT_EQ(r.code, 0) << r.desc << "\nnode: " << node.proc->Describe();
  }
  EXPECT_TRUE(node.proc->Running()) << node.proc->Describe();
}

TEST_F(InteropTest, NodeExitsCleanlyOnSigterm) {
  Listener node = StartSyndbNode();
  // Make sure it is actually serving before it is told to stop.
  auto r = RunSyndb({"ping", node.addr, "--count", "1"});
  ASSERT_EQ(r.code, 0) << r.desc;

  node.proc->Signal(SIGTERM);
  int code = node.proc->Wait(DeadlineIn(seconds(15)));
  EXPECT_EQ(code, 0) << node.proc->Describe();
}

TEST_F(InteropTest, NodeExitsCleanlyOnSigtermWithOpenConnection) {
  Listener node = StartSyndbNode();
  // A connection stalled in multistream-select must not block shutdown.
  RawSocket stall(node.port);
  ASSERT_TRUE(stall.SendAll(std::string("\x13") + "/multistream/1.0.0\n"));
  stall.ReadUpTo(20, DeadlineIn(seconds(10)));

  node.proc->Signal(SIGTERM);
  int code = node.proc->Wait(DeadlineIn(seconds(15)));
  EXPECT_EQ(code, 0) << node.proc->Describe();
}

}  // namespace
