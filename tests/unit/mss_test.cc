#include "p2p/mss/multistream.h"

#include "test_util.h"

namespace syndb::p2p {
namespace {

using testing::make_pipe;
using testing::run_all;

TEST(Multistream, EncodesWithLengthAndNewline) {
  EXPECT_EQ(to_hex(mss_encode("na")), "036e610a");
  EXPECT_EQ(to_hex(mss_encode("ls")), "036c730a");
  Bytes header = mss_encode(kMultistreamId);
  EXPECT_EQ(header[0], 19);
  EXPECT_EQ(header.back(), '\n');
}

TEST(Multistream, DecodeRejectsMissingNewline) {
  EXPECT_EQ(mss_decode_body(as_bytes("/noise")).error().code(), ErrorCode::kProtocol);
  EXPECT_EQ(mss_decode_body(as_bytes("a\nb\n")).error().code(), ErrorCode::kProtocol);
  EXPECT_EQ(*mss_decode_body(as_bytes("/noise\n")), "/noise");
}

Task<void> select(Stream& s, std::vector<std::string> protos, Result<std::string>* out) {
  *out = co_await mss_select(s, protos);
  if (!out->ok()) (void)co_await s.close_write();  // lets the listener see EOF
}

Task<void> handle(Stream& s, std::vector<std::string> supported, Result<std::string>* out) {
  auto is_supported = [&](std::string_view p) {
    return std::find(supported.begin(), supported.end(), p) != supported.end();
  };
  *out = co_await mss_handle(s, is_supported, supported);
}

TEST(Multistream, NegotiatesAfterNa) {
  asio::io_context io;
  auto [a, b] = make_pipe(io);
  Result<std::string> chosen = Error(ErrorCode::kInternal, ""), accepted = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(select(*a, {"/yamux/2.0.0", "/yamux/1.0.0"}, &chosen));
  tasks.push_back(handle(*b, {"/yamux/1.0.0"}, &accepted));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(chosen.ok()) << chosen.error().to_string();
  EXPECT_EQ(*chosen, "/yamux/1.0.0");
  EXPECT_EQ(*accepted, "/yamux/1.0.0");
}

Task<void> write_raw(Stream& s, Bytes data) {
  (void)co_await s.write(data);
  (void)co_await s.close_write();
}

TEST(Multistream, NoCommonProtocolIsUnsupported) {
  asio::io_context io;
  auto [a, b] = make_pipe(io);
  Result<std::string> chosen = Error(ErrorCode::kInternal, ""), accepted = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(select(*a, {"/a/1", "/b/1"}, &chosen));
  tasks.push_back(handle(*b, {"/c/1"}, &accepted));
  // The listener keeps waiting for proposals; closing the dialer's side ends it.
  run_all(io, std::move(tasks));
  EXPECT_EQ(chosen.error().code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(accepted.ok());
}

TEST(Multistream, PipelinedDataStaysUnread) {
  asio::io_context io;
  auto [a, b] = make_pipe(io);
  Bytes pipelined = mss_encode(kMultistreamId);
  append(pipelined, mss_encode("/echo/1.0.0"));
  append(pipelined, as_bytes("hello"));
  Result<std::string> accepted = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(write_raw(*a, pipelined));
  tasks.push_back(handle(*b, {"/echo/1.0.0"}, &accepted));
  run_all(io, std::move(tasks));
  ASSERT_TRUE(accepted.ok());
  Result<Bytes> rest = Error(ErrorCode::kInternal, "");
  auto read_rest = [](Stream& s, Result<Bytes>* out) -> Task<void> { *out = co_await read_to_eof(s, 100); };
  std::vector<Task<void>> t2;
  t2.push_back(read_rest(*b, &rest));
  run_all(io, std::move(t2));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(to_string(*rest), "hello");
}

TEST(Multistream, GarbageHeaderIsProtocolError) {
  asio::io_context io;
  auto [a, b] = make_pipe(io);
  Bytes garbage = mss_encode("/not-multistream/9");
  Result<std::string> accepted = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(write_raw(*a, garbage));
  tasks.push_back(handle(*b, {"/echo/1.0.0"}, &accepted));
  run_all(io, std::move(tasks));
  EXPECT_EQ(accepted.error().code(), ErrorCode::kProtocol);
}

TEST(Multistream, OversizedMessageIsRejected) {
  asio::io_context io;
  auto [a, b] = make_pipe(io);
  Bytes big = mss_encode(std::string(2000, 'x'));
  Result<std::string> accepted = Error(ErrorCode::kInternal, "");
  std::vector<Task<void>> tasks;
  tasks.push_back(write_raw(*a, big));
  tasks.push_back(handle(*b, {"/echo/1.0.0"}, &accepted));
  run_all(io, std::move(tasks));
  EXPECT_EQ(accepted.error().code(), ErrorCode::kLimitExceeded);
}

}  // namespace
}  // namespace syndb::p2p
