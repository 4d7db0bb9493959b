// server/server_options.hpp — how `infer serve` (or an embedding program) configures the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace inference::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  ///< Loopback unless told otherwise.
  int port = 8080;                 ///< 0 = any free port (see Server::port()).
  /// Concurrent generations; give the model the same LoadConfig::parallel_slots.
  int32_t parallel = 4;
  int32_t max_queue = 64;            ///< Requests waiting for a slot before 429.
  int32_t max_n = 8;                 ///< Most choices per request (`n`).
  size_t max_body_bytes = 8u << 20;  ///< Larger request bodies get 413.
  std::string api_key;               ///< Non-empty: required on every endpoint but /health.
  std::string model_id;              ///< The name served in /v1/models and responses.
  std::string model_path;            ///< Reported by /props.
  /// On shutdown, how long in-flight requests may finish before they are cancelled.
  std::chrono::milliseconds drain_timeout{10000};
  int32_t http_threads = 0;  ///< 0 = parallel + max_queue + 16 (waiting requests hold one).
  /// The page served at GET / (the chat page); empty = no page. Served without the API key,
  /// like /health: the page itself asks for the key.
  std::string index_html;
};

}  // namespace inference::server
