// multistream-select 1.0 (libp2p/specs connections/README.md#multistream-select,
// multiformats/multistream-select): protocol negotiation on a raw connection
// or a fresh stream. Message = uvarint(len incl. '\n') || utf8 || '\n',
// at most 1024 bytes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/stream.h"

namespace syndb::p2p {

inline constexpr std::string_view kMultistreamId = "/multistream/1.0.0";
inline constexpr size_t kMaxMssMessage = 1024;

// Encodes one message: uvarint(len(msg)+1) || msg || '\n'.
Bytes mss_encode(std::string_view msg);
// Decodes one complete message (as read_length_prefixed returned its body);
// kProtocol when the trailing '\n' is missing or the text has another '\n'.
Result<std::string> mss_decode_body(ByteSpan body);

// Dialer role: proposes each protocol in turn (the header and the first
// proposal go out in one write, without waiting for the peer's header) and
// returns the one the peer accepted. kUnsupported when it answered `na` to all.
Task<Result<std::string>> mss_select(Stream& s, const std::vector<std::string>& protocols);

// Listener role: answers the dialer's proposals; returns the first one for
// which `supported` is true. `ls` is answered with `supported_list`.
// Pipelined data after the accepted proposal stays unread in `s`.
Task<Result<std::string>> mss_handle(Stream& s, const std::function<bool(std::string_view)>& supported,
                                     const std::vector<std::string>& supported_list);

}  // namespace syndb::p2p
