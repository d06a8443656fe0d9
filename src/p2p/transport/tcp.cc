#include "p2p/transport/tcp.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace syndb::p2p {

namespace {
constexpr size_t kReadBuffer = 64 * 1024;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Multiaddr addr_or_empty(const tcp::socket& s, bool local) {
  boost::system::error_code ec;
  auto ep = local ? s.local_endpoint(ec) : s.remote_endpoint(ec);
  if (ec) return Multiaddr();
  return multiaddr_from_endpoint(ep);
}
}  // namespace

TcpStream::TcpStream(tcp::socket socket)
    : socket_(std::move(socket)), rbuf_(kReadBuffer), local_(addr_or_empty(socket_, true)),
      remote_(addr_or_empty(socket_, false)) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
}

Task<Result<size_t>> TcpStream::read_some(MutableByteSpan buf) {
  if (buf.empty()) co_return size_t{0};
  if (rpos_ == rend_) {
    if (buf.size() >= 16 * 1024) {  // large read: straight into the caller's buffer
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), kTuple);
      if (ec == asio::error::eof) co_return size_t{0};
      if (ec) co_return Error(ErrorCode::kIo, "tcp read: " + ec.message());
      co_return n;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(rbuf_), kTuple);
    if (ec == asio::error::eof) co_return size_t{0};
    if (ec) co_return Error(ErrorCode::kIo, "tcp read: " + ec.message());
    rpos_ = 0;
    rend_ = n;
  }
  size_t n = std::min(buf.size(), rend_ - rpos_);
  std::memcpy(buf.data(), rbuf_.data() + rpos_, n);
  rpos_ += n;
  co_return n;
}

Task<Status> TcpStream::write(ByteSpan data) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), kTuple);
  if (ec) co_return Error(ErrorCode::kIo, "tcp write: " + ec.message());
  co_return ok_status();
}

Task<Status> TcpStream::close_write() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return Error(ErrorCode::kIo, "tcp shutdown: " + ec.message());
  co_return ok_status();
}

void TcpStream::reset() {
  boost::system::error_code ec;
  socket_.close(ec);
}

Multiaddr multiaddr_from_endpoint(const tcp::endpoint& ep) {
  std::string s = ep.address().is_v4() ? "/ip4/" : "/ip6/";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    s = "/ip4/";
  }
  s += addr.to_string() + "/tcp/" + std::to_string(ep.port());
  auto r = Multiaddr::from_string(s);
  return r.ok() ? r.value() : Multiaddr();
}

namespace {
struct HostPort {
  uint64_t code = 0;
  std::string host;
  uint16_t port = 0;
};

Result<HostPort> split_tcp_multiaddr(const Multiaddr& addr) {
  auto comps = addr.components();
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument,
                 "not a TCP multiaddr (want /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/p2p/<id>]): " +
                     addr.to_string());
  };
  if (comps.size() < 2 || comps[1].code != multicodec::kTcp || comps[1].value.size() != 2) return bad();
  if (comps.size() > 3 || (comps.size() == 3 && comps[2].code != multicodec::kP2p)) return bad();
  HostPort hp;
  hp.code = comps[0].code;
  hp.port = static_cast<uint16_t>(comps[1].value[0] << 8 | comps[1].value[1]);
  const auto& v = comps[0].value;
  if (hp.code == multicodec::kIp4 && v.size() == 4) {
    asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), v.data(), 4);
    hp.host = asio::ip::address_v4(b).to_string();
  } else if (hp.code == multicodec::kIp6 && v.size() == 16) {
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), v.data(), 16);
    hp.host = asio::ip::address_v6(b).to_string();
  } else if (hp.code == multicodec::kDns || hp.code == multicodec::kDns4 || hp.code == multicodec::kDns6) {
    hp.host = to_string(v);
  } else {
    return bad();
  }
  return hp;
}
}  // namespace

Result<tcp::endpoint> endpoint_from_multiaddr(const Multiaddr& addr) {
  SYNDB_ASSIGN_OR_RETURN(auto hp, split_tcp_multiaddr(addr));
  if (hp.code != multicodec::kIp4 && hp.code != multicodec::kIp6) {
    return Error(ErrorCode::kInvalidArgument, "listen addresses need an IP, not a DNS name: " + addr.to_string());
  }
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp.host, ec);
  if (ec) return Error(ErrorCode::kInvalidArgument, "bad IP in " + addr.to_string());
  return tcp::endpoint(ip, hp.port);
}

Task<Result<std::unique_ptr<TcpStream>>> tcp_dial(const Multiaddr& addr) {
  SYNDB_CO_ASSIGN_OR_RETURN(auto hp, split_tcp_multiaddr(addr));
  auto ex = co_await asio::this_coro::executor;
  tcp::socket socket(ex);
  if (hp.code == multicodec::kIp4 || hp.code == multicodec::kIp6) {
    auto ep = tcp::endpoint(asio::ip::make_address(hp.host), hp.port);
    auto [ec] = co_await socket.async_connect(ep, kTuple);
    if (ec) co_return Error(ErrorCode::kIo, "cannot connect to " + addr.to_string() + ": " + ec.message());
  } else {
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(hp.host, std::to_string(hp.port), kTuple);
    if (rec) co_return Error(ErrorCode::kIo, "cannot resolve " + hp.host + ": " + rec.message());
    tcp::resolver::results_type filtered;
    std::vector<tcp::endpoint> eps;
    for (const auto& r : results) {
      if (hp.code == multicodec::kDns4 && !r.endpoint().address().is_v4()) continue;
      if (hp.code == multicodec::kDns6 && !r.endpoint().address().is_v6()) continue;
      eps.push_back(r.endpoint());
    }
    if (eps.empty()) co_return Error(ErrorCode::kIo, "no suitable address for " + hp.host);
    auto [ec, ep] = co_await asio::async_connect(socket, eps, kTuple);
    if (ec) co_return Error(ErrorCode::kIo, "cannot connect to " + addr.to_string() + ": " + ec.message());
  }
  co_return std::make_unique<TcpStream>(std::move(socket));
}

TcpTransport::~TcpTransport() {
  *alive_ = false;
  close();
}

bool TcpTransport::handles(const Multiaddr& addr) const { return split_tcp_multiaddr(addr).ok(); }

Result<Multiaddr> TcpTransport::listen(const Multiaddr& addr, AcceptHandler on_accept) {
  SYNDB_ASSIGN_OR_RETURN(auto ep, endpoint_from_multiaddr(addr));
  auto acceptor = std::make_shared<tcp::acceptor>(io_);
  boost::system::error_code ec;
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot listen on " + addr.to_string() + ": " + ec.message());
  acceptors_.push_back(acceptor);
  asio::co_spawn(io_, accept_loop(acceptor, std::move(on_accept), alive_), asio::detached);
  return multiaddr_from_endpoint(acceptor->local_endpoint());
}

Task<void> TcpTransport::accept_loop(std::shared_ptr<tcp::acceptor> acceptor, AcceptHandler on_accept,
                                     std::shared_ptr<bool> alive) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kTuple);
    if (!*alive || !acceptor->is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // e.g. EMFILE: wait a little instead of spinning; the next accept may succeed.
      asio::steady_timer pause(io_, std::chrono::milliseconds(10));
      co_await pause.async_wait(kTuple);
      if (!*alive) co_return;
      continue;
    }
    TransportConnection c;
    auto raw = std::make_unique<TcpStream>(std::move(socket));
    c.local = raw->local_addr();
    c.remote = raw->remote_addr();
    c.raw = std::move(raw);
    on_accept(std::move(c));
  }
}

Task<Result<TransportConnection>> TcpTransport::dial(const Multiaddr& addr) {
  SYNDB_CO_ASSIGN_OR_RETURN(auto raw, co_await tcp_dial(addr));
  TransportConnection c;
  c.local = raw->local_addr();
  c.remote = raw->remote_addr();
  c.raw = std::move(raw);
  co_return c;
}

void TcpTransport::close() {
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  acceptors_.clear();
}

}  // namespace syndb::p2p
