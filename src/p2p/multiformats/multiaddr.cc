#include "p2p/multiformats/multiaddr.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

#include "p2p/multiformats/varint.h"

namespace syndb::p2p {
namespace {

enum class ValueKind { kNone, kIp4, kIp6, kPort, kDomain, kPeerId, kU64 };

struct Protocol {
  uint64_t code;
  std::string_view name;
  ValueKind kind;
};

constexpr std::array<Protocol, 17> kProtocols = {{
    {multicodec::kIp4, "ip4", ValueKind::kIp4},
    {multicodec::kTcp, "tcp", ValueKind::kPort},
    {multicodec::kUdp, "udp", ValueKind::kPort},
    {multicodec::kIp6, "ip6", ValueKind::kIp6},
    {multicodec::kDns, "dns", ValueKind::kDomain},
    {multicodec::kDns4, "dns4", ValueKind::kDomain},
    {multicodec::kDns6, "dns6", ValueKind::kDomain},
    {multicodec::kDnsaddr, "dnsaddr", ValueKind::kDomain},
    {multicodec::kP2p, "p2p", ValueKind::kPeerId},
    {multicodec::kP2pCircuit, "p2p-circuit", ValueKind::kNone},
    {multicodec::kQuicV1, "quic-v1", ValueKind::kNone},
    {multicodec::kQuic, "quic", ValueKind::kNone},
    {multicodec::kTls, "tls", ValueKind::kNone},
    {multicodec::kNoise, "noise", ValueKind::kNone},
    {multicodec::kWs, "ws", ValueKind::kNone},
    {multicodec::kWss, "wss", ValueKind::kNone},
    {multicodec::kMemory, "memory", ValueKind::kU64},  // 8 bytes big-endian (rust-multiaddr)
}};

const Protocol* find_by_code(uint64_t code) {
  for (const auto& p : kProtocols) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

const Protocol* find_by_name(std::string_view name) {
  if (name == "ipfs") name = "p2p";
  for (const auto& p : kProtocols) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// Fixed value size in bytes, or -1 for length-prefixed values.
int fixed_size(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNone:
      return 0;
    case ValueKind::kIp4:
      return 4;
    case ValueKind::kIp6:
      return 16;
    case ValueKind::kPort:
      return 2;
    case ValueKind::kU64:
      return 8;
    case ValueKind::kDomain:
    case ValueKind::kPeerId:
      return -1;
  }
  return 0;
}

bool valid_utf8(ByteSpan s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// Checks a dns*/dnsaddr name so that its text form round-trips.
const char* domain_problem(ByteSpan name) {
  if (name.empty()) return "empty name";
  for (uint8_t c : name) {
    if (c == '/') return "name contains '/'";
  }
  if (!valid_utf8(name)) return "name is not valid UTF-8";
  return nullptr;
}

std::string format_ip6(ByteSpan b) {
  uint16_t words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  char buf[64];
  // RFC 5952 section 5: IPv4-mapped addresses in mixed notation.
  if (words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0 && words[4] == 0 &&
      words[5] == 0xffff) {
    std::snprintf(buf, sizeof(buf), "::ffff:%u.%u.%u.%u", unsigned{b[12]}, unsigned{b[13]}, unsigned{b[14]},
                  unsigned{b[15]});
    return buf;
  }
  // Longest run (first on ties) of >= 2 zero words becomes "::" (4.2.1-4.2.3).
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof(buf), "%x", unsigned{words[i]});  // lowercase, no leading zeros (4.1, 4.3)
    out += buf;
  }
  return out;
}

std::string value_to_string(ValueKind kind, ByteSpan v) {
  switch (kind) {
    case ValueKind::kNone:
      return {};
    case ValueKind::kIp4:
      return std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]) + "." +
             std::to_string(v[3]);
    case ValueKind::kIp6:
      return format_ip6(v);
    case ValueKind::kPort:
      return std::to_string(v[0] << 8 | v[1]);
    case ValueKind::kU64: {
      uint64_t x = 0;
      for (int i = 0; i < 8; ++i) x = x << 8 | v[static_cast<size_t>(i)];
      return std::to_string(x);
    }
    case ValueKind::kDomain:
      return syndb::to_string(v);
    case ValueKind::kPeerId: {
      auto id = PeerId::from_bytes(v);  // validated when the Multiaddr was built
      return id.ok() ? id->to_string() : std::string("<invalid>");
    }
  }
  return {};
}

// Parses the text value of one component; errors are kInvalidArgument.
Result<Bytes> value_from_string(const Protocol& p, std::string_view text) {
  const std::string shown(text.substr(0, 100));
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument, "invalid /" + std::string(p.name) + " value '" + shown + "'" +
                                                  (why.empty() ? "" : ": " + why));
  };
  switch (p.kind) {
    case ValueKind::kNone:
      return Bytes{};
    case ValueKind::kIp4:
    case ValueKind::kIp6: {
      const bool v4 = p.kind == ValueKind::kIp4;
      Bytes out(v4 ? 4 : 16);
      const std::string s(text);
      const int family = v4 ? AF_INET : AF_INET6;
      if (text.find('\0') != std::string_view::npos || inet_pton(family, s.c_str(), out.data()) != 1) {
        return bad(v4 ? "not a dotted-quad IPv4 address" : "not an IPv6 address");
      }
      return out;
    }
    case ValueKind::kPort: {
      if (text.empty() || text.size() > 5) return bad("port must be 0..65535");
      uint32_t port = 0;
      for (char c : text) {
        if (c < '0' || c > '9') return bad("port must be decimal digits");
        port = port * 10 + static_cast<uint32_t>(c - '0');
      }
      if (port > 65535) return bad("port must be 0..65535");
      return Bytes{static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port & 0xff)};
    }
    case ValueKind::kU64: {
      if (text.empty() || text.size() > 20) return bad("must be a decimal 64-bit number");
      uint64_t x = 0;
      for (char c : text) {
        if (c < '0' || c > '9') return bad("must be decimal digits");
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (x > (UINT64_MAX - d) / 10) return bad("must fit in 64 bits");
        x = x * 10 + d;
      }
      Bytes out(8);
      for (int i = 7; i >= 0; --i, x >>= 8) out[static_cast<size_t>(i)] = static_cast<uint8_t>(x & 0xff);
      return out;
    }
    case ValueKind::kDomain: {
      if (const char* problem = domain_problem(as_bytes(text))) return bad(problem);
      return Bytes(as_bytes(text).begin(), as_bytes(text).end());
    }
    case ValueKind::kPeerId: {
      auto id = PeerId::from_string(text);
      if (!id.ok()) return bad(id.error().message());
      return id->bytes();
    }
  }
  return bad("");
}

struct Parsed {
  const Protocol* protocol;
  size_t offset;  // where the component starts in the binary form
  ByteSpan value;
};

// Validates the binary form and splits it into components; errors are kProtocol.
Result<std::vector<Parsed>> parse_binary(ByteSpan in) {
  if (in.empty()) return Error(ErrorCode::kProtocol, "empty multiaddr");
  std::vector<Parsed> out;
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t start = pos;
    auto code = read_uvarint(in.subspan(pos));
    if (!code.ok()) {
      return Error(ErrorCode::kProtocol, "multiaddr: bad protocol code at offset " + std::to_string(pos) +
                                             ": " + code.error().message());
    }
    pos += code->second;
    const Protocol* p = find_by_code(code->first);
    if (p == nullptr) {
      return Error(ErrorCode::kProtocol, "multiaddr: unknown protocol code " + std::to_string(code->first) +
                                             " at offset " + std::to_string(start));
    }
    const std::string where = "multiaddr /" + std::string(p->name) + " at offset " + std::to_string(start);
    size_t size;
    if (const int fixed = fixed_size(p->kind); fixed >= 0) {
      size = static_cast<size_t>(fixed);
    } else {
      auto len = read_uvarint(in.subspan(pos));
      if (!len.ok()) {
        return Error(ErrorCode::kProtocol, where + ": bad value length: " + len.error().message());
      }
      pos += len->second;
      if (len->first > in.size() - pos) {
        return Error(ErrorCode::kProtocol, where + ": value length " + std::to_string(len->first) +
                                               " exceeds the remaining " + std::to_string(in.size() - pos) +
                                               " bytes");
      }
      size = static_cast<size_t>(len->first);
    }
    if (size > in.size() - pos) return Error(ErrorCode::kProtocol, where + ": truncated value");
    const ByteSpan value = in.subspan(pos, size);
    pos += size;
    if (p->kind == ValueKind::kDomain) {
      if (const char* problem = domain_problem(value)) {
        return Error(ErrorCode::kProtocol, where + ": " + problem);
      }
    } else if (p->kind == ValueKind::kPeerId) {
      auto id = PeerId::from_bytes(value);
      if (!id.ok()) return Error(ErrorCode::kProtocol, where + ": " + id.error().message());
    }
    out.push_back(Parsed{p, start, value});
  }
  return out;
}

void encode_component(Bytes& out, const Protocol& p, ByteSpan value) {
  put_uvarint(out, p.code);
  if (fixed_size(p.kind) < 0) put_uvarint(out, value.size());
  append(out, value);
}

}  // namespace

Result<Multiaddr> Multiaddr::from_string(std::string_view text) {
  const std::string shown(text.substr(0, 200));
  auto fail = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument, "multiaddr '" + shown + "': " + why);
  };
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "empty multiaddr");
  if (text[0] != '/') return fail("must start with '/'");
  std::string_view body = text.substr(1);
  if (!body.empty() && body.back() == '/') body.remove_suffix(1);
  if (body.empty()) return fail("no protocols");

  std::vector<std::string_view> parts;
  for (;;) {
    const size_t slash = body.find('/');
    parts.push_back(body.substr(0, slash));
    if (slash == std::string_view::npos) break;
    body.remove_prefix(slash + 1);
  }

  Bytes out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view name = parts[i];
    if (name.empty()) return fail("empty protocol name (\"//\")");
    const Protocol* p = find_by_name(name);
    if (p == nullptr) return fail("unknown protocol '" + std::string(name.substr(0, 100)) + "'");
    Bytes value;
    if (p->kind != ValueKind::kNone) {
      if (i + 1 >= parts.size() || parts[i + 1].empty()) {
        return fail("missing value for /" + std::string(p->name));
      }
      auto v = value_from_string(*p, parts[++i]);
      if (!v.ok()) return fail(v.error().message());
      value = std::move(*v);
    }
    encode_component(out, *p, value);
  }
  return Multiaddr(std::move(out));
}

Result<Multiaddr> Multiaddr::from_bytes(ByteSpan bytes) {
  auto parsed = parse_binary(bytes);
  if (!parsed.ok()) return parsed.error();
  return Multiaddr(Bytes(bytes.begin(), bytes.end()));
}

std::string Multiaddr::to_string() const {
  if (bytes_.empty()) return {};
  auto parsed = parse_binary(bytes_);
  if (!parsed.ok()) return "<invalid multiaddr>";  // unreachable: bytes_ is validated on construction
  std::string out;
  for (const auto& c : *parsed) {
    out += '/';
    out += c.protocol->name;
    if (c.protocol->kind != ValueKind::kNone) {
      out += '/';
      out += value_to_string(c.protocol->kind, c.value);
    }
  }
  return out;
}

std::vector<Multiaddr::Component> Multiaddr::components() const {
  std::vector<Component> out;
  if (bytes_.empty()) return out;
  auto parsed = parse_binary(bytes_);
  if (!parsed.ok()) return out;
  out.reserve(parsed->size());
  for (const auto& c : *parsed) {
    out.push_back(Component{c.protocol->code, Bytes(c.value.begin(), c.value.end())});
  }
  return out;
}

Multiaddr Multiaddr::encapsulate(const Multiaddr& other) const {
  Bytes out = bytes_;
  append(out, other.bytes_);
  return Multiaddr(std::move(out));
}

std::optional<PeerId> Multiaddr::peer_id() const {
  if (bytes_.empty()) return std::nullopt;
  auto parsed = parse_binary(bytes_);
  if (!parsed.ok() || parsed->back().protocol->code != multicodec::kP2p) return std::nullopt;
  auto id = PeerId::from_bytes(parsed->back().value);
  if (!id.ok()) return std::nullopt;
  return std::move(*id);
}

Multiaddr Multiaddr::without_peer_id() const {
  if (bytes_.empty()) return *this;
  auto parsed = parse_binary(bytes_);
  if (!parsed.ok() || parsed->back().protocol->code != multicodec::kP2p) return *this;
  return Multiaddr(
      Bytes(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(parsed->back().offset)));
}

}  // namespace syndb::p2p
