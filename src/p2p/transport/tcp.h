// TCP transport over Boost.Asio: dial and listen on /ip4|ip6|dns|dns4|dns6/…/tcp/<port>
// multiaddrs (TcpTransport, the swarm's Transport for /tcp), and TcpStream,
// the raw connection the upgrader secures and multiplexes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "p2p/multiformats/multiaddr.h"
#include "p2p/stream.h"
#include "p2p/transport/transport.h"

namespace syndb::p2p {

using asio::ip::tcp;

// A connected TCP socket with a 64 KiB read buffer (so small protocol reads
// do not each cost a system call). Not thread-safe; one reader, one writer.
class TcpStream : public Stream {
 public:
  explicit TcpStream(tcp::socket socket);
  Task<Result<size_t>> read_some(MutableByteSpan buf) override;
  Task<Status> write(ByteSpan data) override;
  Task<Status> close_write() override;
  void reset() override;

  Multiaddr local_addr() const { return local_; }
  Multiaddr remote_addr() const { return remote_; }

 private:
  tcp::socket socket_;
  Bytes rbuf_;
  size_t rpos_ = 0, rend_ = 0;
  Multiaddr local_, remote_;
};

// /ip4/a.b.c.d/tcp/p or /ip6/…/tcp/p for an endpoint.
Multiaddr multiaddr_from_endpoint(const tcp::endpoint& ep);
// The endpoint of an /ip4|ip6/…/tcp/… multiaddr (a trailing /p2p/… is allowed).
// dns names are not resolved here: kInvalidArgument.
Result<tcp::endpoint> endpoint_from_multiaddr(const Multiaddr& addr);

// Dials /ip4|ip6|dns|dns4|dns6/…/tcp/<port>[/p2p/…]. Errors: kInvalidArgument
// for other multiaddrs, kIo with the OS reason when the connection fails.
Task<Result<std::unique_ptr<TcpStream>>> tcp_dial(const Multiaddr& addr);

// The Transport for /tcp: raw connections (TcpStream), upgraded by the swarm.
// An IPv6 listener is IPv6-only; SO_REUSEADDR is set, SO_REUSEPORT is not.
class TcpTransport : public Transport {
 public:
  explicit TcpTransport(asio::io_context& io) : io_(io) {}
  ~TcpTransport() override;
  std::string_view name() const override { return "tcp"; }
  bool handles(const Multiaddr& addr) const override;
  Result<Multiaddr> listen(const Multiaddr& addr, AcceptHandler on_accept) override;
  Task<Result<TransportConnection>> dial(const Multiaddr& addr) override;
  void close() override;

 private:
  Task<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, AcceptHandler on_accept,
                         std::shared_ptr<bool> alive);
  asio::io_context& io_;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndb::p2p
