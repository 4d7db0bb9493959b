#include "server/server.hpp"

#include <httplib.h>

#include <arpa/inet.h>

#include <thread>

#include "inference/error.hpp"
#include "inference/log.hpp"
#include "server/auth.hpp"
#include "server/endpoints.hpp"
#include "server/http_util.hpp"
#include "server/server_state.hpp"
#include "server/worker_pool.hpp"

namespace inference::server {

namespace {

using HandlerFn = void (*)(ServerState&, const Req&, Res&);

// Route labels for infer_requests_total: known paths only, so arbitrary URLs cannot grow
// the metric without bound.
std::string endpoint_label(const std::string& path) {
  static const char* const kKnown[] = {"/v1/chat/completions",
                                       "/v1/completions",
                                       "/v1/models",
                                       "/v1/messages",
                                       "/v1/messages/count_tokens",
                                       "/v1/embeddings",
                                       "/chat/completions",
                                       "/completions",
                                       "/models",
                                       "/health",
                                       "/v1/health",
                                       "/tokenize",
                                       "/detokenize",
                                       "/apply-template",
                                       "/completion",
                                       "/props",
                                       "/slots",
                                       "/metrics",
                                       "/"};
  for (const char* known : kKnown)
    if (path == known) return known;
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  return "other";
}

// cpp-httplib's connection task queue on a WorkerPool: a connection is handled by the thread
// that went idle last, so the threads in use stay those the load needs (see worker_pool.hpp).
class HttpTaskQueue final : public httplib::TaskQueue {
 public:
  explicit HttpTaskQueue(size_t threads) : pool_(threads) {}
  void enqueue(std::function<void()> fn) override { pool_.post(std::move(fn)); }
  void shutdown() override { pool_.stop(); }

 private:
  WorkerPool pool_;
};

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : state(std::move(options)) {}

  void configure() {
    const ServerOptions& o = state.options;
    const size_t threads = o.http_threads > 0 ? static_cast<size_t>(o.http_threads)
                                              : static_cast<size_t>(o.parallel + o.max_queue + 16);
    http.new_task_queue = [threads] { return new HttpTaskQueue(threads); };
    http.set_payload_max_length(o.max_body_bytes);
    http.set_keep_alive_max_count(1000);
    http.set_default_headers({{"Access-Control-Allow-Origin", "*"}});
    http.set_logger([this](const Req& req, const Res& res) {
      state.metrics.request_done(endpoint_label(req.path), res.status);
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const Req& req, Res& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      const ApiStyle style = style_for_path(req.path);
      if (res.status == 413) {
        send_error(res, style,
                   ApiError(413, "the request body is larger than the server's limit of " +
                                     std::to_string(state.options.max_body_bytes) + " bytes"));
      } else if (res.status == 404) {
        send_error(res, style, ApiError(404, "no endpoint " + req.method + " " + req.path));
      } else {
        send_error(res, style, ApiError(res.status, "the HTTP request could not be handled"));
      }
      return httplib::Server::HandlerResponse::Handled;
    }));
    // CORS preflight: browsers ask before a cross-origin POST with JSON or an API key.
    http.Options(".*", [](const Req&, Res& res) {
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers",
                     "Content-Type, Authorization, x-api-key, anthropic-version");
      res.set_header("Access-Control-Max-Age", "86400");
    });

    get("/health", handle_health, /*auth=*/false);
    get("/v1/health", handle_health, false);
    get("/v1/models", handle_models);
    get("/models", handle_models);
    get(R"(/v1/models/(.+))", handle_model);
    post("/v1/chat/completions", handle_chat_completions);
    post("/chat/completions", handle_chat_completions);
    post("/v1/completions", handle_completions);
    post("/completions", handle_completions);
    post("/v1/messages", handle_messages);
    post("/v1/messages/count_tokens", handle_count_tokens);
    post("/tokenize", handle_tokenize);
    post("/detokenize", handle_detokenize);
    post("/apply-template", handle_apply_template);
    post("/completion", handle_llama_completion);
    get("/props", handle_props);
    get("/slots", handle_slots);
    get("/metrics", handle_metrics);
    get("/lora-adapters", handle_lora_adapters);
    post("/lora-adapters", handle_set_lora_adapters);
    for (const char* path : {"/v1/embeddings", "/embeddings"})
      http.Post(path, guarded(ApiStyle::openai, [this](const Req& req, Res&) {
                  check_auth(req);
                  throw ApiError(404,
                                 "embeddings are not available: this server serves a text "
                                 "generation model (decoder); there is no embedding endpoint",
                                 "", "not_found");
                }));
    if (!o.index_html.empty())
      http.Get("/", [this](const Req&, Res& res) {
        res.set_content(state.options.index_html, "text/html; charset=utf-8");
      });
  }

  void check_auth(const Req& req) const {
    if (state.options.api_key.empty()) return;
    if (api_key_matches(req.get_header_value("Authorization"), req.get_header_value("x-api-key"),
                        state.options.api_key))
      return;
    throw ApiError(401,
                   "invalid or missing API key: send 'Authorization: Bearer <key>' or "
                   "'x-api-key: <key>'",
                   "", "invalid_api_key");
  }

  HttpHandler wrap(HandlerFn fn, bool auth) {
    return [this, fn, auth](const Req& req, Res& res) {
      guarded(style_for_path(req.path), [this, fn, auth](const Req& rq, Res& rs) {
        if (auth) check_auth(rq);
        fn(state, rq, rs);
      })(req, res);
    };
  }
  void get(const char* pattern, HandlerFn fn, bool auth = true) {
    http.Get(pattern, wrap(fn, auth));
  }
  void post(const char* pattern, HandlerFn fn, bool auth = true) {
    http.Post(pattern, wrap(fn, auth));
  }

  bool drain() {
    state.draining = true;
    const auto deadline = std::chrono::steady_clock::now() + state.options.drain_timeout;
    bool drained = false;
    while (true) {
      if (state.pool->busy() == 0 && state.pool->queued() == 0) {
        drained = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    state.root.cancel();  // whatever still runs ends at its next token
    return drained;
  }

  void stop() {
    std::lock_guard lock(stop_mutex);
    state.root.cancel();
    http.stop();  // closes the listener; the pool finishes the responses in progress
    if (listener.joinable()) listener.join();
  }

  ServerState state;
  httplib::Server http;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  std::mutex stop_mutex;
  std::mutex shutdown_mutex;
  bool shut_down = false;
  bool drained = true;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->configure();
}

Server::~Server() {
  impl_->stop();
}

int Server::bind() {
  const ServerOptions& o = impl_->state.options;
  int port = -1;
  if (o.port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
  } else if (impl_->http.bind_to_port(o.host, o.port)) {
    port = o.port;
  }
  if (port <= 0)
    throw Error(ErrorCode::unavailable, "cannot listen on " + o.host + ":" +
                                            std::to_string(o.port) +
                                            " (address in use, or not an address of this machine)");
  port_ = port;
  return port;
}

void Server::start() {
  if (port_ <= 0) throw Error(ErrorCode::invalid_argument, "Server::start() before bind()");
  impl_->listener = std::thread([this] {
    if (!impl_->http.listen_after_bind())
      log(LogLevel::error, "server: the listener stopped unexpectedly");
    impl_->listener_done = true;
  });
  // listen_after_bind() marks the server running on its thread: wait for it, so a caller that
  // shuts down right away does not race the listener's start.
  while (!impl_->http.is_running() && !impl_->listener_done.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Server::set_model(std::shared_ptr<TextModel> model) {
  ServerState& s = impl_->state;
  s.tokenizer = dynamic_cast<TokenizerModel*>(model.get());
  s.token_prompt = dynamic_cast<TokenPromptModel*>(model.get());
  if (auto* adapters = dynamic_cast<AdapterModel*>(model.get())) s.adapters = adapters->adapters();
  std::vector<float> scales;
  for (const AdapterConfig& a : s.adapters) scales.push_back(a.scale);
  s.set_adapter_scales(std::move(scales));
  s.info = model->info();
  s.model_id = s.options.model_id.empty() ? (s.info.name.empty() ? "model" : s.info.name)
                                          : s.options.model_id;
  s.model = std::move(model);
  s.ready = true;
}

bool Server::shutdown() {
  std::lock_guard lock(impl_->shutdown_mutex);
  if (!impl_->shut_down) {
    impl_->shut_down = true;
    impl_->drained = impl_->drain();
    impl_->stop();
  }
  return impl_->drained;
}

void Server::wait() {
  while (impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->listener.joinable()) impl_->listener.join();
}

std::string Server::url() const {
  const std::string& host = impl_->state.options.host;
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port_);
}

bool Server::ready() const {
  return impl_->state.ready.load();
}

}  // namespace inference::server
