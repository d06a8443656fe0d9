// http_request: a small synchronous HTTP/1.1 client (Boost.Beast) for the
// CLI (`syndb federation status --hub URL`) and tests. Plain http:// only;
// one request per connection (Connection: close).
//
// Thread-safety: reentrant; each call uses its own io_context and socket.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace syndb::api {

// The largest response body http_request reads, and the largest result
// POST /v1/query builds (larger ones stream over Flight SQL), in bytes.
constexpr size_t kMaxResponseBody = 64u << 20;

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // lowercase names
};

// Sends `method url` (url = http://host[:port]/path?query; host may be a
// name, an IPv4 address or [IPv6]; port defaults to 80) with `body` (sent as
// application/json when not empty) and returns the response, whatever its
// status. `accept`: the Accept header (default any). Errors: kInvalidArgument for a URL that does not parse or is not
// http://; kIo (naming the URL) when the host does not resolve, refuses the
// connection or the exchange fails; kTimeout when the whole exchange takes
// longer than timeout_ms; kLimitExceeded for a response body over 64 MiB.
Result<HttpResponse> http_request(const std::string& method, const std::string& url, const std::string& body = "",
                                  uint32_t timeout_ms = 10000, const std::string& accept = "");

// Polls GET <hub_http>/v1/federation/clusters every 200 ms until at least
// `clusters` clusters are Healthy and either hold datasets or are the hub's
// own node. Errors: kTimeout after timeout_ms.
Status wait_for_healthy_clusters(const std::string& hub_http, size_t clusters, uint32_t timeout_ms);

}  // namespace syndb::api
