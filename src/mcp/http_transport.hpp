// The Streamable HTTP transport (MCP 2025-03-26 and later): POST /mcp carries client messages
// and answers with JSON or an SSE stream (replies plus the progress and log notifications of
// those calls), GET /mcp opens the server's own SSE stream, DELETE /mcp ends a session.
// Sessions are named by the Mcp-Session-Id header. Browser origins other than loopback are
// refused (DNS rebinding), and a bearer token is required to bind anywhere but loopback.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "mcp/session.hpp"

namespace inference::mcp {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8765;                           ///< 0 = any free port (see HttpServer::port())
  std::string bearer_token;                  ///< required of clients when not empty
  std::vector<std::string> allowed_origins;  ///< exact Origin values allowed besides loopback
  std::size_t max_sessions = 32;  ///< at the limit the idle session used longest ago goes
  std::string path = "/mcp";
};

/// Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

/// Whether a browser Origin header value may talk to the server: absent (not a browser),
/// a loopback origin, or one of `allowed`.
bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed);

class HttpServer {
 public:
  /// Throws Error(invalid_argument) when options.host is not loopback and no bearer token is set.
  HttpServer(std::shared_ptr<const ServerDefinition> server, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds the listening socket; throws Error(unavailable) naming host and port on failure.
  void bind();
  /// The bound port (after bind()).
  int port() const { return port_; }
  /// Serves until stop(); every session is ended (its calls cancelled) before it returns.
  void run();
  /// Thread-safe; run() returns soon after.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace inference::mcp
