#include "p2p/host/request_response.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "p2p/watchdog.h"

namespace syndb::p2p {

void serve_requests(Host& host, RequestResponseConfig config, ResponseHandler handler, RequestGate gate) {
  const std::string protocol = config.protocol;
  host.set_stream_handler(protocol, [&host, config, handler, gate](NegotiatedStream ns) -> Task<void> {
    if (gate && !gate(*ns.connection)) {
      ns.stream->reset();
      co_return;
    }
    Watchdog wd(host.io(), config.timeout_ms, ns.stream.get());
    auto request = co_await read_length_prefixed(*ns.stream, config.max_request);
    wd.disarm();
    if (!request.ok()) {
      spdlog::debug("{}: bad request from {}: {}", config.protocol, ns.connection->remote_peer.to_string(),
                    request.error().to_string());
      ns.stream->reset();
      co_return;
    }
    auto response = co_await handler(std::move(request).value(), *ns.connection);
    if (!response.ok() || response->size() > config.max_response) {
      ns.stream->reset();
      co_return;
    }
    Watchdog wd2(host.io(), config.timeout_ms, ns.stream.get());
    Status st = co_await write_length_prefixed(*ns.stream, *response);
    if (st.ok()) st = co_await ns.stream->close_write();
    wd2.disarm();
    if (!st.ok()) ns.stream->reset();
  });
}

Task<Result<Bytes>> send_request(Host& host, std::shared_ptr<Connection> conn, const RequestResponseConfig& config,
                                 ByteSpan request, uint32_t timeout_ms) {
  if (request.size() > config.max_request) {
    co_return Error(ErrorCode::kLimitExceeded,
                    config.protocol + ": request of " + std::to_string(request.size()) + " bytes is over the limit");
  }
  const std::vector<std::string> protos{config.protocol};
  const auto start = std::chrono::steady_clock::now();
  auto opened = co_await host.new_stream(conn, protos, timeout_ms);
  if (!opened.ok()) co_return opened.error();
  auto ns = std::move(opened).value();
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const uint32_t left = timeout_ms > elapsed.count() ? timeout_ms - static_cast<uint32_t>(elapsed.count()) : 1;
  Watchdog wd(host.io(), left, ns.stream.get());
  Status st = co_await write_length_prefixed(*ns.stream, request);
  if (st.ok()) st = co_await ns.stream->close_write();
  Result<Bytes> body = Error(ErrorCode::kInternal, "");
  if (st.ok()) body = co_await read_length_prefixed(*ns.stream, config.max_response);
  wd.disarm();
  if (wd.fired()) {
    ns.stream->reset();
    co_return Error(ErrorCode::kTimeout,
                    "no " + config.protocol + " response within " + std::to_string(timeout_ms) + " ms");
  }
  if (!st.ok()) {
    ns.stream->reset();
    co_return st.error();
  }
  if (!body.ok()) {
    ns.stream->reset();
    co_return body.error();
  }
  co_return std::move(body).value();
}

}  // namespace syndb::p2p
