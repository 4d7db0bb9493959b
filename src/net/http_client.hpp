// net/http_client.hpp — one HTTP request with a streamed response body, bounded by timeouts and
// cancelled by a Context. A thin layer over cpp-httplib that keeps its types out of every other
// file: callers see plain structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inference/context.hpp"
#include "net/url.hpp"

namespace inference::net {

struct HttpRequest {
  std::string method = "POST";
  std::string path;  ///< appended to the base URL's path ("/chat/completions")
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{5000};
  /// Longest silence while waiting for the response or the next body bytes: a server that
  /// hangs ends the request with TransportError::timeout after this.
  std::chrono::milliseconds read{120000};
};

enum class TransportError {
  none,
  connect,    ///< refused, unreachable, DNS failure
  timeout,    ///< connect or read timeout
  io,         ///< reset or closed mid-exchange
  cancelled,  ///< the Context was done or the body callback asked to stop
};

struct HttpResult {
  TransportError error = TransportError::none;
  std::string error_text;                      ///< what the transport said (no header values)
  int status = 0;                              ///< HTTP status, 0 if none was received
  std::map<std::string, std::string> headers;  ///< lowercase names
  std::string error_body;                      ///< the body of a non-2xx response (first 64 KiB)
};

/// Called with each chunk of a 2xx response body; return false to stop reading.
using BodyReceiver = std::function<bool(std::string_view)>;
/// Called once the response's status line and headers have arrived, before any body byte.
using HeadReceiver = std::function<void(int status)>;

/// Sends `request` to `base`. A 2xx body streams into `on_body`; any other body is kept in
/// error_body. When `ctx` is done the socket is shut down at once (also before the connection
/// exists), so a blocked read returns. Never throws for network failures. `on_head`, when set,
/// learns the status as soon as the head arrives (a streamed 2xx body may come much later).
HttpResult send_http(const Context& ctx, const BaseUrl& base, const HttpRequest& request,
                     const HttpTimeouts& timeouts, const BodyReceiver& on_body,
                     const HeadReceiver& on_head = {});

}  // namespace inference::net
