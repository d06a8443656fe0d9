#include "p2p/yamux/session.h"

#include "test_util.h"

namespace syndb::p2p::yamux {
namespace {

using testing::make_pipe;
using testing::pattern;
using testing::run_all;
using testing::PipeStream;

struct Sessions {
  std::shared_ptr<Session> client, server;
  std::vector<std::shared_ptr<YamuxStream>> accepted;
  std::optional<Error> client_closed, server_closed;
};

void start(asio::io_context& io, Sessions& s, Config config = {}) {
  auto [a, b] = make_pipe(io);
  s.client = std::make_shared<Session>(std::move(a), true, config, io.get_executor());
  s.server = std::make_shared<Session>(std::move(b), false, config, io.get_executor());
  s.client->start([](auto) {}, [&s](const Error& e) { s.client_closed = e; });
  s.server->start([&s](std::shared_ptr<YamuxStream> st) { s.accepted.push_back(st); },
                  [&s](const Error& e) { s.server_closed = e; });
}

Task<void> echo_server(Sessions& s, size_t index_wait) {
  // Waits until the stream exists, then echoes until EOF.
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (s.accepted.size() <= index_wait) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
  }
  auto st = s.accepted[index_wait];
  Bytes buf(10000);
  for (;;) {
    auto n = co_await st->read_some(buf);
    if (!n.ok() || *n == 0) break;
    EXPECT_TRUE((co_await st->write(ByteSpan(buf.data(), *n))).ok());
  }
  EXPECT_TRUE((co_await st->close_write()).ok());
}

Task<void> echo_client(std::shared_ptr<YamuxStream> st, Bytes data, bool* ok) {
  Result<Bytes> got = Error(ErrorCode::kInternal, "");
  auto reader = [](std::shared_ptr<YamuxStream> st, Result<Bytes>* out) -> Task<void> {
    *out = co_await read_to_eof(*st, 64 << 20);
  };
  asio::co_spawn(co_await asio::this_coro::executor, reader(st, &got), asio::detached);
  EXPECT_TRUE((co_await st->write(data)).ok());
  EXPECT_TRUE((co_await st->close_write()).ok());
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!got.ok() && got.error().code() == ErrorCode::kInternal) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
  }
  *ok = got.ok() && *got == data;
}

TEST(Yamux, FrameHeaderRoundTripsAndRejectsBadVersion) {
  FrameHeader h{FrameType::kWindowUpdate, flags::kSyn | flags::kFin, 0x01020304, 0xA0B0C0D0};
  uint8_t buf[kHeaderSize];
  h.encode(buf);
  EXPECT_EQ(to_hex(ByteSpan(buf, kHeaderSize)), "00010005" "01020304" "a0b0c0d0");
  auto d = FrameHeader::decode(ByteSpan(buf, kHeaderSize));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->stream_id, h.stream_id);
  EXPECT_EQ(d->length, h.length);
  EXPECT_EQ(d->flags, h.flags);
  buf[0] = 1;
  EXPECT_EQ(FrameHeader::decode(ByteSpan(buf, kHeaderSize)).error().code(), ErrorCode::kProtocol);
  buf[0] = 0;
  buf[1] = 9;
  EXPECT_EQ(FrameHeader::decode(ByteSpan(buf, kHeaderSize)).error().code(), ErrorCode::kProtocol);
}

TEST(Yamux, ClientUsesOddIdsAndEchoesManyStreamsPastTheWindow) {
  asio::io_context io;
  Sessions s;
  Config cfg;
  cfg.max_window = kInitialWindow;  // force window updates: 1 MiB per stream through a 256 KiB window
  start(io, s, cfg);
  constexpr int kStreams = 8;
  bool ok[kStreams] = {};
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kStreams; ++i) {
    auto st = s.client->open_stream();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ((*st)->id() % 2, 1u);
    tasks.push_back(echo_server(s, i));
    tasks.push_back(echo_client(*st, pattern(1 << 20, i + 1), &ok[i]));
  }
  std::vector<Task<void>> all = std::move(tasks);
  // run until every echo finished, then close the session so io.run() returns
  asio::co_spawn(io, [](Sessions& s, bool* ok, int n) -> Task<void> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
      bool done = true;
      for (int i = 0; i < n; ++i) done = done && ok[i];
      if (done || s.client->closed()) break;
      t.expires_after(std::chrono::milliseconds(2));
      co_await t.async_wait(asio::use_awaitable);
    }
    s.client->close();
  }(s, ok, kStreams), asio::detached);
  run_all(io, std::move(all));
  for (int i = 0; i < kStreams; ++i) EXPECT_TRUE(ok[i]) << "stream " << i;
  EXPECT_EQ(s.accepted.size(), static_cast<size_t>(kStreams));
}

TEST(Yamux, ResetReachesThePeer) {
  asio::io_context io;
  Sessions s;
  start(io, s);
  auto st = s.client->open_stream();
  ASSERT_TRUE(st.ok());
  Result<size_t> read = Error(ErrorCode::kInternal, "");
  auto body = [](Sessions& s, std::shared_ptr<YamuxStream> st, Result<size_t>* read) -> Task<void> {
    const Bytes hello = pattern(10, 1);
    (void)co_await st->write(hello);
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (s.accepted.empty()) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    Bytes buf(10);
    EXPECT_TRUE((co_await read_exact(*s.accepted[0], buf)).ok());
    st->reset();
    *read = co_await s.accepted[0]->read_some(buf);
    s.client->close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body(s, *st, &read));
  run_all(io, std::move(tasks));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), ErrorCode::kReset);
}

TEST(Yamux, HalfCloseKeepsTheOtherDirectionOpen) {
  asio::io_context io;
  Sessions s;
  start(io, s);
  auto st = s.client->open_stream();
  ASSERT_TRUE(st.ok());
  Result<Bytes> reply = Error(ErrorCode::kInternal, "");
  auto body = [](Sessions& s, std::shared_ptr<YamuxStream> st, Result<Bytes>* reply) -> Task<void> {
    const Bytes question = pattern(100, 2);
    (void)co_await st->write(question);
    (void)co_await st->close_write();
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (s.accepted.empty()) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    auto got = co_await read_to_eof(*s.accepted[0], 1000);  // server sees EOF after 100 bytes
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got->size(), 100u);
    const Bytes answer = pattern(5000, 3);
    EXPECT_TRUE((co_await s.accepted[0]->write(answer)).ok());  // still writable after the peer's FIN
    (void)co_await s.accepted[0]->close_write();
    *reply = co_await read_to_eof(*st, 10000);
    s.client->close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body(s, *st, &reply));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(reply.ok()) << reply.error().to_string();
  EXPECT_EQ(*reply, pattern(5000, 3));
}

TEST(Yamux, StreamLimitResetsTheExtraStream) {
  asio::io_context io;
  Sessions s;
  Config server_cfg;
  server_cfg.max_streams = 2;
  auto [a, b] = make_pipe(io);
  s.client = std::make_shared<Session>(std::move(a), true, Config{}, io.get_executor());
  s.server = std::make_shared<Session>(std::move(b), false, server_cfg, io.get_executor());
  s.client->start([](auto) {}, [](const Error&) {});
  s.server->start([&s](std::shared_ptr<YamuxStream> st) { s.accepted.push_back(st); }, [](const Error&) {});
  std::vector<std::shared_ptr<YamuxStream>> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(*s.client->open_stream());
  Result<size_t> third = Error(ErrorCode::kInternal, "");
  auto body = [](Sessions& s, std::shared_ptr<YamuxStream> st, Result<size_t>* out) -> Task<void> {
    Bytes buf(1);
    *out = co_await st->read_some(buf);
    s.client->close();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body(s, streams[2], &third));
  run_all(io, std::move(tasks));
  EXPECT_EQ(s.accepted.size(), 2u);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), ErrorCode::kReset);
}

Task<void> write_raw(Stream& s, Bytes data) { (void)co_await s.write(data); }

TEST(Yamux, PeerExceedingTheWindowLosesTheConnection) {
  asio::io_context io;
  auto [raw, b] = make_pipe(io);
  Config cfg;
  cfg.max_window = kInitialWindow;
  auto server = std::make_shared<Session>(std::move(b), false, cfg, io.get_executor());
  std::optional<Error> closed;
  server->start([](auto) {}, [&](const Error& e) { closed = e; });
  // SYN for stream 1 then one Data frame larger than the 256 KiB initial window.
  Bytes frames;
  FrameHeader{FrameType::kWindowUpdate, flags::kSyn, 1, 0}.append_to(frames);
  FrameHeader{FrameType::kData, 0, 1, kInitialWindow + 1}.append_to(frames);
  frames.resize(frames.size() + kInitialWindow + 1);
  std::vector<Task<void>> tasks;
  tasks.push_back(write_raw(*raw, frames));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), ErrorCode::kProtocol);
  EXPECT_TRUE(server->closed());
}

TEST(Yamux, GarbageHeaderClosesTheSessionOnly) {
  asio::io_context io;
  auto [raw, b] = make_pipe(io);
  auto server = std::make_shared<Session>(std::move(b), false, Config{}, io.get_executor());
  std::optional<Error> closed;
  server->start([](auto) {}, [&](const Error& e) { closed = e; });
  std::vector<Task<void>> tasks;
  tasks.push_back(write_raw(*raw, Bytes(12, 0xff)));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), ErrorCode::kProtocol);
}

TEST(Yamux, AnswersPings) {
  asio::io_context io;
  auto [raw, b] = make_pipe(io);
  auto server = std::make_shared<Session>(std::move(b), false, Config{}, io.get_executor());
  server->start([](auto) {}, [](const Error&) {});
  Bytes reply(kHeaderSize);
  auto body = [](Stream& raw, Bytes* reply) -> Task<void> {
    Bytes ping;
    FrameHeader{FrameType::kPing, flags::kSyn, 0, 0xC0FFEE}.append_to(ping);
    (void)co_await raw.write(ping);
    EXPECT_TRUE((co_await read_exact(raw, *reply)).ok());
    raw.reset();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body(*raw, &reply));
  run_all(io, std::move(tasks));
  auto h = FrameHeader::decode(reply);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, FrameType::kPing);
  EXPECT_EQ(h->flags, flags::kAck);
  EXPECT_EQ(h->length, 0xC0FFEEu);
}

}  // namespace
}  // namespace syndb::p2p::yamux
