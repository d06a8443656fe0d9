#include "p2p/mss/multistream.h"

#include "p2p/multiformats/varint.h"

namespace syndb::p2p {

namespace {
constexpr std::string_view kNa = "na";
constexpr std::string_view kLs = "ls";

Task<Result<std::string>> read_message(Stream& s) {
  SYNDB_CO_ASSIGN_OR_RETURN(Bytes body, co_await read_length_prefixed(s, kMaxMssMessage));
  co_return mss_decode_body(body);
}

Task<Status> expect_header(Stream& s) {
  SYNDB_CO_ASSIGN_OR_RETURN(std::string header, co_await read_message(s));
  if (header != kMultistreamId) {
    co_return Error(ErrorCode::kProtocol, "multistream: unexpected header '" + header + "'");
  }
  co_return ok_status();
}
}  // namespace

Bytes mss_encode(std::string_view msg) {
  Bytes out;
  out.reserve(msg.size() + 3);
  put_uvarint(out, msg.size() + 1);
  append(out, as_bytes(msg));
  out.push_back('\n');
  return out;
}

Result<std::string> mss_decode_body(ByteSpan body) {
  if (body.empty() || body.back() != '\n') {
    return Error(ErrorCode::kProtocol, "multistream: message does not end in a newline");
  }
  std::string text = to_string(body.first(body.size() - 1));
  if (text.find('\n') != std::string::npos) {
    return Error(ErrorCode::kProtocol, "multistream: newline inside a message");
  }
  return text;
}

Task<Result<std::string>> mss_select(Stream& s, const std::vector<std::string>& protocols) {
  if (protocols.empty()) co_return Error(ErrorCode::kInvalidArgument, "multistream: no protocol to propose");
  Bytes first = mss_encode(kMultistreamId);
  append(first, mss_encode(protocols[0]));
  SYNDB_CO_RETURN_IF_ERROR(co_await s.write(first));
  SYNDB_CO_RETURN_IF_ERROR(co_await expect_header(s));
  for (size_t i = 0; i < protocols.size(); ++i) {
    if (i > 0) {
      const Bytes proposal = mss_encode(protocols[i]);
      SYNDB_CO_RETURN_IF_ERROR(co_await s.write(proposal));
    }
    SYNDB_CO_ASSIGN_OR_RETURN(std::string reply, co_await read_message(s));
    if (reply == protocols[i]) co_return reply;
    if (reply != kNa) {
      co_return Error(ErrorCode::kProtocol, "multistream: proposed '" + protocols[i] + "', peer answered '" +
                                                reply + "'");
    }
  }
  std::string list;
  for (const auto& p : protocols) list += (list.empty() ? "" : ", ") + p;
  co_return Error(ErrorCode::kUnsupported, "peer supports none of: " + list);
}

Task<Result<std::string>> mss_handle(Stream& s, const std::function<bool(std::string_view)>& supported,
                                     const std::vector<std::string>& supported_list) {
  const Bytes header = mss_encode(kMultistreamId);
  SYNDB_CO_RETURN_IF_ERROR(co_await s.write(header));
  SYNDB_CO_RETURN_IF_ERROR(co_await expect_header(s));
  // Bounded: a peer may not keep us negotiating forever.
  for (int round = 0; round < 64; ++round) {
    SYNDB_CO_ASSIGN_OR_RETURN(std::string proposal, co_await read_message(s));
    if (proposal == kLs) {
      Bytes inner;
      for (const auto& p : supported_list) append(inner, mss_encode(p));
      inner.push_back('\n');
      Bytes msg;
      put_uvarint(msg, inner.size());
      append(msg, inner);
      SYNDB_CO_RETURN_IF_ERROR(co_await s.write(msg));
      continue;
    }
    if (supported(proposal)) {
      const Bytes echo = mss_encode(proposal);
      SYNDB_CO_RETURN_IF_ERROR(co_await s.write(echo));
      co_return proposal;
    }
    const Bytes na = mss_encode(kNa);
    SYNDB_CO_RETURN_IF_ERROR(co_await s.write(na));
  }
  co_return Error(ErrorCode::kLimitExceeded, "multistream: too many proposals");
}

}  // namespace syndb::p2p
