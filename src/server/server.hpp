// server/server.hpp — the HTTP server over one TextModel: OpenAI (/v1/chat/completions,
// /v1/completions, /v1/models), Anthropic (/v1/messages), llama-server (/health, /completion,
// /tokenize, /detokenize, /apply-template, /props, /slots) and Prometheus /metrics.
//
//   Server server(options);
//   int port = server.bind();          // listening; /health says 503 "Loading model"
//   server.start();                    // serves on its own threads
//   server.set_model(load_model(...)); // ready: /health 200
//   ...
//   server.shutdown();                 // drain in-flight requests (bounded), then stop
//
// Serves any backend: the optional capabilities (TokenizerModel, TokenPromptModel) are used
// when the model has them (token counts, context checks, /tokenize, token prompts).
#pragma once

#include <memory>
#include <string>

#include "inference/text_model.hpp"
#include "server/server_options.hpp"

namespace inference::server {

struct ServerState;

class Server {
 public:
  explicit Server(ServerOptions options);
  /// Stops at once (no drain) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds options.host:options.port (port 0 = a free port) and returns the port. Throws
  /// inference::Error(unavailable) naming the address when it cannot bind.
  int bind();
  /// Serves on a background thread (call after bind()).
  void start();
  /// Makes the server ready with `model` (until then generation endpoints answer 503).
  /// `model` must have been loaded with parallel_slots >= options.parallel.
  void set_model(std::shared_ptr<TextModel> model);

  /// Stops taking requests (new ones get 503), lets in-flight requests finish for up to
  /// options.drain_timeout, cancels the rest, then stops listening. Returns true when every
  /// request finished within the drain time. Idempotent; thread-safe.
  bool shutdown();
  /// Blocks until the server has stopped.
  void wait();

  int port() const noexcept { return port_; }
  /// "http://host:port".
  std::string url() const;
  bool ready() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace inference::server
