// tcp_echo_rtt: the "raw TCP echo" reference for syndb's ping RTT benchmark.
//
// A libp2p ping is a 32-byte payload echoed back over an encrypted, muxed
// stream. This program measures the same round trip over a bare TCP socket
// (TCP_NODELAY, no crypto, no framing), so bench/run.sh can report how much
// the libp2p stack adds on top of the kernel's loopback latency.
//
//   tcp_echo_rtt server PORT [BIND_ADDR]
//       Echoes every byte back on every connection until killed. PORT 0 picks
//       a free port. Prints "listening <port>" once the socket is listening.
//       BIND_ADDR defaults to 127.0.0.1.
//   tcp_echo_rtt client HOST PORT COUNT
//       Connects, then COUNT times: sends 32 bytes and waits for the 32-byte
//       echo. Prints "rtt_us=<int>" per round trip (std::chrono::steady_clock).
//
// Plain POSIX sockets and the C++ standard library only; build with
//   g++ -O2 -std=c++20 -pthread bench/tcp_echo_rtt.cc -o tcp_echo_rtt

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr std::size_t kPayload = 32;  // same size as a /ipfs/ping/1.0.0 payload

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "error: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void set_nodelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("setsockopt(TCP_NODELAY)");
}

// Writes all of buf; returns false if the peer went away.
bool write_all(int fd, const char* buf, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly len bytes; returns false on EOF or error.
bool read_exact(int fd, char* buf, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::recv(fd, buf, len, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// One connection: echo whatever arrives, as soon as it arrives.
void echo_loop(int fd) {
  set_nodelay(fd);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!write_all(fd, buf, static_cast<std::size_t>(n))) break;
  }
  ::close(fd);
}

int run_server(const char* port_str, const char* bind_addr) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port_str)));
  if (::inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
    std::fprintf(stderr, "error: bad IPv4 bind address %s\n", bind_addr);
    return 2;
  }
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (::listen(lfd, 64) != 0) die("listen");

  socklen_t len = sizeof addr;
  if (::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) die("getsockname");
  std::printf("listening %u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);

  for (;;) {
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    // A thread per connection so a stuck client cannot block the next one.
    std::thread(echo_loop, fd).detach();
  }
}

int run_client(const char* host, const char* port, long count) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host, port, &hints, &res); rc != 0) {
    std::fprintf(stderr, "error: getaddrinfo %s:%s: %s\n", host, port, gai_strerror(rc));
    return 1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) die("connect");
  set_nodelay(fd);

  char out[kPayload];
  char in[kPayload];
  for (std::size_t i = 0; i < kPayload; ++i) out[i] = static_cast<char>(i * 7 + 1);

  for (long i = 0; i < count; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!write_all(fd, out, kPayload)) die("send");
    if (!read_exact(fd, in, kPayload)) {
      std::fprintf(stderr, "error: connection closed before the echo arrived\n");
      return 1;
    }
    auto t1 = std::chrono::steady_clock::now();
    if (std::memcmp(in, out, kPayload) != 0) {
      std::fprintf(stderr, "error: echo mismatch\n");
      return 1;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
    std::printf("rtt_us=%lld\n", static_cast<long long>(us));
  }
  std::fflush(stdout);
  ::close(fd);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  tcp_echo_rtt server PORT [BIND_ADDR]\n"
               "  tcp_echo_rtt client HOST PORT COUNT\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && argc <= 4 && std::string(argv[1]) == "server") {
    return run_server(argv[2], argc == 4 ? argv[3] : "127.0.0.1");
  }
  if (argc == 5 && std::string(argv[1]) == "client") {
    char* end = nullptr;
    long count = std::strtol(argv[4], &end, 10);
    if (*end != '\0' || count < 1) return usage();
    return run_client(argv[2], argv[3], count);
  }
  return usage();
}
