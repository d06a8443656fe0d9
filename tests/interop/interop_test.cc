// Interop tests: build/syndb against real js-libp2p peers
// (tests/interop/js/peer.mjs), plus CLI contract and robustness checks.
//
// Every test starts its own processes on port 0 and writes its keys to its
// own mkdtemp directory. Processes are owned by Child, whose destructor sends
// SIGTERM (then SIGKILL) to the child's process group and reaps it, so nothing
// is leaked even when an assertion fails or a helper throws. There are no
// sleeps: tests wait for the `listening` / `ready` lines, and every wait has a
// deadline of at most 60 s.

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
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
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.h"
#include "test_fs.h"

namespace syndb::itest {
namespace {

using json = nlohmann::json;

std::string JsPeer() { return std::string(SYNDB_SOURCE_DIR) + "/tests/interop/js/peer.mjs"; }

std::string NodeBinary() {
  const char* env = std::getenv("SYNDB_NODE_BIN");
  return env != nullptr && *env != '\0' ? env : "node";
}

size_t CountMatching(std::string_view text, const std::regex& re) {
  size_t n = 0;
  for (const auto& line : SplitLines(text)) {
    if (std::regex_match(line, re)) ++n;
  }
  return n;
}

// "/ip4/127.0.0.1/tcp/1234/..." -> 1234
int TcpPort(const std::string& addr) {
  static const std::regex re(R"(^/ip4/127\.0\.0\.1/tcp/(\d+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(addr, m, re)) throw std::runtime_error("not a loopback tcp multiaddr: " + addr);
  return std::stoi(m[1].str());
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

class InteropTest : public test_support::TempDirTest {
 protected:
  InteropTest() : TempDirTest("syndb-interop-") {}

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
}  // namespace syndb::itest
