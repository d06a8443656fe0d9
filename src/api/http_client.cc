#include "api/http_client.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

namespace syndb::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

struct ParsedUrl {
  std::string host;       // without brackets
  std::string port;       // digits
  std::string authority;  // for the Host header, as written
  std::string target;     // /path?query
};

// An absolute http:// URL (RFC 3986, parsed by Boost.URL): no user info, a
// host, a port in 1..65535 (default 80); the fragment is dropped.
Result<ParsedUrl> parse_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("bad URL \"{}\": {}", url, why));
  };
  auto u = boost::urls::parse_uri(boost::urls::string_view(url.data(), url.size()));
  if (!u) return bad("expected http://host[:port]/path (" + u.error().message() + ")");
  if (u->scheme_id() != boost::urls::scheme::http) return bad("only http:// URLs are supported");
  if (!u->has_authority() || u->encoded_host().empty()) return bad("no host");
  if (u->has_userinfo()) return bad("user info is not supported");
  ParsedUrl out;
  out.authority = std::string(u->encoded_host_and_port());
  out.host = u->host_type() == boost::urls::host_type::ipv6 ? u->host_ipv6_address().to_string()
                                                            : std::string(u->encoded_host_address());
  if (!u->has_port()) {
    out.port = "80";
  } else {
    const std::string_view port = u->port();
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return bad(fmt::format("bad port \"{}\"", port));
    }
    out.port = std::to_string(value);
  }
  // (Boost 1.81 reads "host:80a/x" as port 80 and path "a/x": a path after an authority must start with '/'.)
  const std::string_view target = u->encoded_target();
  if (!target.empty() && target.front() != '/' && target.front() != '?') return bad("junk after the port");
  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  return out;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<HttpResponse> http_request(const std::string& method, const std::string& url, const std::string& body,
                                  uint32_t timeout_ms, const std::string& accept) {
  SYNDB_ASSIGN_OR_RETURN(ParsedUrl u, parse_url(url));
  if (!is_token(method)) return Error(ErrorCode::kInvalidArgument, fmt::format("bad HTTP method \"{}\"", method));

  asio::io_context io{1};
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  asio::steady_timer deadline(io, std::chrono::milliseconds(timeout_ms));
  bool timed_out = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    resolver.cancel();
    boost::system::error_code ignored;
    stream.socket().cancel(ignored);
    stream.socket().close(ignored);
  });

  std::optional<Result<HttpResponse>> result;
  auto fail = [&](const std::string& what, const boost::system::error_code& ec) -> Result<HttpResponse> {
    if (timed_out) {
      return Error(ErrorCode::kTimeout, fmt::format("{} {}: no response within {} ms", method, url, timeout_ms));
    }
    return Error(ErrorCode::kIo, fmt::format("{} {}: {}: {}", method, url, what, ec.message()));
  };

  auto exchange = [&]() -> asio::awaitable<Result<HttpResponse>> {
    auto [rec, endpoints] = co_await resolver.async_resolve(u.host, u.port, asio::as_tuple(asio::use_awaitable));
    if (rec) co_return fail("resolve " + u.host, rec);
    auto [cec, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) co_return fail("connect", cec);

    http::request<http::string_body> req;
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(u.target);
    req.version(11);
    req.set(http::field::host, u.authority);
    req.set(http::field::user_agent, "syndb");
    req.set(http::field::accept, accept.empty() ? "*/*" : accept);
    req.keep_alive(false);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return fail("send request", wec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    auto [rdec, rn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rdec == http::error::body_limit) {
      co_return Error(ErrorCode::kLimitExceeded,
                      fmt::format("{} {}: response body over {} bytes", method, url, kMaxResponseBody));
    }
    if (rdec) co_return fail("read response", rdec);
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return out;
  };

  auto run = [&]() -> asio::awaitable<void> { result.emplace(co_await exchange()); };
  asio::co_spawn(io, run(), [&](std::exception_ptr e) {
    deadline.cancel();
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        result.emplace(Error(ErrorCode::kInternal, fmt::format("{} {}: {}", method, url, ex.what())));
      } catch (...) {
        result.emplace(Error(ErrorCode::kInternal, fmt::format("{} {}: unknown failure", method, url)));
      }
    }
  });
  io.run();
  if (!result) return Error(ErrorCode::kInternal, fmt::format("{} {}: request did not complete", method, url));
  return std::move(*result);
}

Status wait_for_healthy_clusters(const std::string& hub_http, size_t clusters, uint32_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto resp = http_request("GET", hub_http + "/v1/federation/clusters", "", 2000);
    if (resp.ok() && resp->status == 200) {
      auto j = nlohmann::json::parse(resp->body, nullptr, false);
      size_t ready = 0;
      if (!j.is_discarded() && j.contains("clusters")) {
        for (const auto& c : j["clusters"]) {
          bool has_data = c.value("local", false) || !c.value("datasets", nlohmann::json::array()).empty();
          if (c.value("state", "") == "Healthy" && has_data) ++ready;
        }
      }
      if (ready >= clusters) return ok_status();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(ErrorCode::kTimeout, "the federation at " + hub_http + " did not have " + std::to_string(clusters) +
                                            " healthy clusters within " + std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace syndb::api
