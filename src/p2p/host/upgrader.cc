#include "p2p/host/upgrader.h"

#include "p2p/mss/multistream.h"
#include "p2p/noise/noise.h"
#include "p2p/watchdog.h"
#include "p2p/yamux/frame.h"

namespace syndb::p2p {

namespace {

// One protocol agreed in either multistream-select role.
Task<Result<std::string>> agree(Stream& s, bool initiator, std::string_view protocol) {
  const std::vector<std::string> list{std::string(protocol)};
  // (GCC 12 miscompiles co_await inside ?:, hence the if/else.)
  if (initiator) co_return co_await mss_select(s, list);
  co_return co_await mss_handle(
      s, [protocol](std::string_view p) { return p == protocol; }, list);
}

}  // namespace

Task<Result<SecuredConnection>> upgrade_connection(asio::io_context& io, std::unique_ptr<Stream> raw,
                                                   const std::string& remote, const Ed25519PrivateKey& identity,
                                                   UpgradeRoles roles, std::optional<PeerId> expected,
                                                   uint32_t timeout_ms) {
  Watchdog wd(io, timeout_ms, raw.get());
  auto fail = [&](const Error& e) {
    return wd.fired() ? Error(ErrorCode::kTimeout, "handshake with " + remote + " timed out") : e;
  };
  auto sec = co_await agree(*raw, roles.mss_initiator, kNoiseProtocolId);
  if (!sec.ok()) co_return fail(sec.error());
  auto noise = co_await noise_handshake(std::move(raw), identity, roles.noise_initiator, expected);
  if (!noise.ok()) co_return fail(noise.error());
  auto secure = std::move(noise).value();
  auto mux = co_await agree(*secure, roles.mss_initiator, yamux::kProtocolId);
  if (!mux.ok()) co_return fail(mux.error());
  wd.disarm();
  SecuredConnection out{nullptr, secure->remote_peer(), secure->remote_key(), *mux, roles.yamux_client};
  out.stream = std::move(secure);
  co_return out;
}

}  // namespace syndb::p2p
