#include "p2p/crypto/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "crypto.pb.h"

namespace syndb::p2p {
namespace {

void ensure_sodium() {
  static const int ready = sodium_init();  // thread-safe once; 1 = already done
  (void)ready;
}

constexpr size_t kMaxKeyFileSize = 64 * 1024;

bool parse_pb(google::protobuf::MessageLite& msg, ByteSpan bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return false;
  // The Partial variant plus IsInitialized: same check, without protobuf
  // logging an error line for every malformed message a peer sends.
  return msg.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) && msg.IsInitialized();
}

Bytes serialize_pb(const google::protobuf::MessageLite& msg) {
  Bytes out(msg.ByteSizeLong());
  msg.SerializeWithCachedSizesToArray(out.data());
  return out;
}

std::string errno_text(int err) { return std::strerror(err); }

// Closes an fd on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kSecp256k1:
      return "Secp256k1";
    case KeyType::kEcdsa:
      return "ECDSA";
  }
  return "unknown";
}

Bytes PublicKey::encode() const {
  pb::PublicKey msg;
  msg.set_type(static_cast<pb::KeyType>(type));
  msg.set_data(data.data(), data.size());
  return serialize_pb(msg);
}

Result<PublicKey> PublicKey::decode(ByteSpan bytes) {
  pb::PublicKey msg;
  // proto2 closed enum: an unknown Type lands in unknown fields, so the
  // required-field check rejects it too.
  if (!parse_pb(msg, bytes)) {
    return Error(ErrorCode::kProtocol,
                 "malformed PublicKey protobuf (missing Type/Data or unknown key type)");
  }
  PublicKey key{static_cast<KeyType>(msg.type()), Bytes(msg.data().begin(), msg.data().end())};
  if (key.type == KeyType::kEd25519 && key.data.size() != crypto_sign_PUBLICKEYBYTES) {
    return Error(ErrorCode::kProtocol,
                 "Ed25519 public key must be 32 bytes, got " + std::to_string(key.data.size()));
  }
  return key;
}

bool PublicKey::verify(ByteSpan message, ByteSpan signature) const {
  if (type != KeyType::kEd25519 || data.size() != crypto_sign_PUBLICKEYBYTES ||
      signature.size() != crypto_sign_BYTES) {
    return false;
  }
  ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), data.data()) == 0;
}

Ed25519PrivateKey Ed25519PrivateKey::generate() {
  ensure_sodium();
  Ed25519PrivateKey key;
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, key.sk_.data());
  return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::from_seed(ByteSpan seed32) {
  if (seed32.size() != kSeedSize) {
    return Error(ErrorCode::kInvalidArgument,
                 "Ed25519 seed must be 32 bytes, got " + std::to_string(seed32.size()));
  }
  ensure_sodium();
  Ed25519PrivateKey key;
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.sk_.data(), seed32.data());
  return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { sodium_memzero(sk_.data(), sk_.size()); }

PublicKey Ed25519PrivateKey::public_key() const {
  // libsodium's secret key is seed || public key.
  return PublicKey{KeyType::kEd25519, Bytes(sk_.begin() + kSeedSize, sk_.end())};
}

Bytes Ed25519PrivateKey::sign(ByteSpan message) const {
  ensure_sodium();
  Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk_.data());
  return sig;
}

Bytes Ed25519PrivateKey::seed() const { return Bytes(sk_.begin(), sk_.begin() + kSeedSize); }

Bytes Ed25519PrivateKey::encode() const {
  pb::PrivateKey msg;
  msg.set_type(pb::Ed25519);
  msg.set_data(sk_.data(), sk_.size());
  Bytes out = serialize_pb(msg);
  sodium_memzero(msg.mutable_data()->data(), msg.data().size());
  return out;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::decode(ByteSpan bytes) {
  pb::PrivateKey msg;
  if (!parse_pb(msg, bytes)) {
    return Error(ErrorCode::kInvalidArgument, "malformed PrivateKey protobuf");
  }
  // Wipe the protobuf's copy of the secret on every exit path.
  struct Wipe {
    pb::PrivateKey& m;
    ~Wipe() { sodium_memzero(m.mutable_data()->data(), m.data().size()); }
  } wipe{msg};
  if (msg.type() != pb::Ed25519) {
    return Error(ErrorCode::kUnsupported, std::string("unsupported private key type ") +
                                              key_type_name(static_cast<KeyType>(msg.type())) +
                                              " (only Ed25519)");
  }
  const std::string& d = msg.data();
  const auto* raw = reinterpret_cast<const uint8_t*>(d.data());
  if (d.size() != kSecretKeySize && d.size() != kSecretKeySize + crypto_sign_PUBLICKEYBYTES) {
    return Error(ErrorCode::kInvalidArgument,
                 "Ed25519 private key must be 64 or 96 bytes, got " + std::to_string(d.size()));
  }
  if (d.size() == kSecretKeySize + crypto_sign_PUBLICKEYBYTES &&
      sodium_memcmp(raw + kSeedSize, raw + kSecretKeySize, crypto_sign_PUBLICKEYBYTES) != 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "legacy 96-byte Ed25519 private key has mismatched public keys");
  }
  auto key = from_seed(ByteSpan(raw, kSeedSize));
  if (!key.ok()) return key.error();
  if (sodium_memcmp(key->sk_.data() + kSeedSize, raw + kSeedSize, crypto_sign_PUBLICKEYBYTES) != 0) {
    return Error(ErrorCode::kInvalidArgument, "Ed25519 private key's public half does not match its seed");
  }
  return key;
}

bool Ed25519PrivateKey::operator==(const Ed25519PrivateKey& other) const {
  return sodium_memcmp(sk_.data(), other.sk_.data(), sk_.size()) == 0;
}

Status save_key_file(const std::string& path, const Ed25519PrivateKey& key, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Error(ErrorCode::kInvalidArgument, "key file " + path + " already exists");
    return Error(ErrorCode::kIo, "cannot create key file " + path + ": " + errno_text(err));
  }
  FdCloser closer{fd};
  if (::fchmod(fd, 0600) != 0) {
    return Error(ErrorCode::kIo, "cannot chmod key file " + path + ": " + errno_text(errno));
  }
  Bytes data = key.encode();
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      sodium_memzero(data.data(), data.size());
      return Error(ErrorCode::kIo, "cannot write key file " + path + ": " + errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  sodium_memzero(data.data(), data.size());
  if (::fsync(fd) != 0) {
    return Error(ErrorCode::kIo, "cannot sync key file " + path + ": " + errno_text(errno));
  }
  closer.fd = -1;
  if (::close(fd) != 0) {
    return Error(ErrorCode::kIo, "cannot close key file " + path + ": " + errno_text(errno));
  }
  return ok_status();
}

Result<Ed25519PrivateKey> load_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Error(ErrorCode::kNotFound, "key file " + path + " does not exist");
    return Error(ErrorCode::kIo, "cannot open key file " + path + ": " + errno_text(err));
  }
  FdCloser closer{fd};
  Bytes data;
  data.reserve(kMaxKeyFileSize);  // no reallocation, so no stray copies of the secret
  uint8_t chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      sodium_memzero(data.data(), data.size());
      return Error(ErrorCode::kIo, "cannot read key file " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    if (data.size() + static_cast<size_t>(n) > kMaxKeyFileSize) {
      sodium_memzero(data.data(), data.size());
      sodium_memzero(chunk, sizeof(chunk));
      return Error(ErrorCode::kInvalidArgument, path + " is not a libp2p private key: larger than 64 KiB");
    }
    data.insert(data.end(), chunk, chunk + n);
  }
  sodium_memzero(chunk, sizeof(chunk));
  auto key = Ed25519PrivateKey::decode(data);
  sodium_memzero(data.data(), data.size());
  if (!key.ok()) {
    if (key.error().code() == ErrorCode::kUnsupported) return key.error().wrap(path);
    return Error(ErrorCode::kInvalidArgument,
                 path + " is not a libp2p private key: " + key.error().message());
  }
  return key;
}

}  // namespace syndb::p2p
