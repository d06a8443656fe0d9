// TCP transport over Boost.Asio: dial and listen on /ip4|ip6|dns|dns4|dns6/…/tcp/<port>
// multiaddrs, and TcpStream, the raw connection the Noise upgrade runs over.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "p2p/multiformats/multiaddr.h"
#include "p2p/stream.h"

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

}  // namespace syndb::p2p
