#include "backends/http/http_model.hpp"

#include <fstream>

#include "backends/remote/anthropic_protocol.hpp"
#include "backends/remote/load_options.hpp"
#include "backends/remote/openai_protocol.hpp"
#include "backends/remote/remote_call.hpp"
#include "backends/remote/remote_stream.hpp"
#include "inference/error.hpp"

namespace inference::http {

using nlohmann::json;

LoadConfig read_pool_file(const std::string& path, LoadConfig config) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::not_found, "cannot open the pool file " + path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::invalid_argument, "pool file " + path + ": " + why);
  };
  if (!j.is_object()) throw bad("expected a JSON object");
  auto text = [&](const char* key) -> std::string {
    if (!j.contains(key)) return {};
    if (!j[key].is_string()) throw bad(std::string("'") + key + "' must be a string");
    return j[key].get<std::string>();
  };
  if (j.contains("urls")) {
    if (!j["urls"].is_array()) throw bad("'urls' must be an array of strings");
    std::vector<std::string> urls;
    for (const auto& u : j["urls"]) {
      if (!u.is_string()) throw bad("'urls' must be an array of strings");
      urls.push_back(u.get<std::string>());
    }
    config.endpoints.insert(config.endpoints.begin(), urls.begin(), urls.end());
  }
  if (config.remote_model.empty()) config.remote_model = text("model");
  if (config.api_key_env.empty()) config.api_key_env = text("api_key_env");
  if (std::string api = text("api"); !api.empty()) config.options.emplace("api", api);
  if (j.contains("options")) {
    if (!j["options"].is_object()) throw bad("'options' must be an object");
    for (const auto& [key, value] : j["options"].items())
      config.options.emplace(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return config;
}

HttpModelOptions http_options(const std::string& first_url, const LoadConfig& config) {
  HttpModelOptions o;
  if (!first_url.empty()) o.urls.push_back(first_url);
  for (const auto& u : config.endpoints)
    if (std::find(o.urls.begin(), o.urls.end(), u) == o.urls.end()) o.urls.push_back(u);
  if (o.urls.empty())
    throw Error(ErrorCode::invalid_argument,
                "the http backend needs a server URL (the model argument or endpoints)");
  if (auto it = config.options.find("api"); it != config.options.end()) {
    if (it->second == "openai")
      o.api = Api::openai;
    else if (it->second == "anthropic")
      o.api = Api::anthropic;
    else
      throw Error(ErrorCode::invalid_argument,
                  "option api='" + it->second + "': expected openai or anthropic");
  }
  o.api_key = remote::resolve_api_key(config);
  o.remote_model = config.remote_model;
  remote::read_call_options(config, o.timeouts, o.retry);
  o.pool.failure_threshold =
      static_cast<int32_t>(remote::int_option(config, "failure_threshold", 3, 1, 1000));
  o.pool.health_interval = std::chrono::milliseconds(
      remote::int_option(config, "health_interval_ms", 5000, 0, 86'400'000));
  if (auto it = config.options.find("health_path"); it != config.options.end())
    o.pool.health_path = it->second;
  o.concurrency = static_cast<int32_t>(
      remote::int_option(config, "concurrency", std::max(1, config.parallel_slots) * 4, 1, 1024));
  return o;
}

namespace {

std::vector<std::pair<std::string, std::string>> auth_headers(const HttpModelOptions& o) {
  std::vector<std::pair<std::string, std::string>> h;
  if (o.api == Api::anthropic) {
    h.emplace_back("anthropic-version", "2023-06-01");
    if (!o.api_key.empty()) h.emplace_back("x-api-key", o.api_key);
  } else if (!o.api_key.empty()) {
    h.emplace_back("Authorization", "Bearer " + o.api_key);
  }
  return h;
}

}  // namespace

HttpModel::HttpModel(HttpModelOptions options) : options_(std::move(options)) {
  pool_ = std::make_shared<remote::EndpointPool>(options_.urls, options_.pool,
                                                 auth_headers(options_), options_.api_key);
  pool_->timeouts = options_.timeouts;
  pool_->retry = options_.retry;
  if (options_.remote_model.empty()) {
    // The first model the server lists (GET /models, OpenAI and Anthropic alike).
    net::HttpRequest list;
    list.method = "GET";
    list.path = "/models";
    json models = remote::call_json(Context::background(), *pool_, list);
    if (!models.contains("data") || !models["data"].is_array() || models["data"].empty() ||
        !models["data"][0].contains("id"))
      throw Error(ErrorCode::invalid_model,
                  options_.urls.front() + "/models lists no model; name one with remote_model");
    options_.remote_model = models["data"][0]["id"].get<std::string>();
  }
  info_.architecture = "remote";
  info_.name = options_.remote_model;
  info_.backend = "http";
}

HttpModel::~HttpModel() {
  close();
}

void HttpModel::close() {
  if (closed_.exchange(true)) return;
  pool_->stop();
}

void HttpModel::check_open() const {
  if (closed_.load()) throw Error(ErrorCode::unavailable, "the model was closed");
}

TokenStream HttpModel::start(const Context& ctx, const std::string& path, json body,
                             const GenerateConfig& config, remote::ChunkDecoder decode) {
  return remote::start_remote_stream(
      ctx, pool_, remote::stream_request(path, body.dump(), config, std::move(decode), last_));
}

TokenStream HttpModel::generate(const Context& ctx, std::string_view prompt,
                                const GenerateConfig& config) {
  try {
    check_open();
    if (options_.api == Api::anthropic)
      throw Error(ErrorCode::unsupported,
                  "the Anthropic Messages API has no raw-prompt completion: use chat()");
    return start(ctx, "/completions",
                 remote::openai::completion_request(options_.remote_model, prompt, config), config,
                 remote::openai::decode_event);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

TokenStream HttpModel::chat(const Context& ctx, std::span<const Message> messages,
                            const GenerateConfig& config) {
  try {
    check_open();
    if (options_.api == Api::anthropic)
      return start(ctx, "/messages",
                   remote::anthropic::messages_request(options_.remote_model, messages, config),
                   config, remote::anthropic::decode_event);
    return start(ctx, "/chat/completions",
                 remote::openai::chat_request(options_.remote_model, messages, config), config,
                 remote::openai::decode_event);
  } catch (const Error& e) {
    return TokenStream(e.status());
  }
}

std::vector<ClassifyResult> HttpModel::classify(const Context& ctx,
                                                std::span<const std::string> prompts,
                                                const GenerateConfig& config) {
  check_open();
  if (options_.api == Api::anthropic)
    throw Error(ErrorCode::unsupported, "classify needs logprobs, which Anthropic does not give");
  if (config.return_logits)
    throw Error(ErrorCode::unsupported,
                "return_logits: an OpenAI server returns top_logprobs, not the full logits row");
  GenerateConfig one = config;
  one.max_tokens = 1;
  one.logprobs = std::max(1, config.logprobs);
  json base = remote::openai::completion_request(options_.remote_model, "", one);
  base["stream"] = false;
  base.erase("stream_options");
  return remote::classify_each(prompts.size(), options_.concurrency * pool_->size(), [&](size_t i) {
    json body = base;
    body["prompt"] = prompts[i];
    net::HttpRequest req;
    req.path = "/completions";
    req.body = body.dump();
    return remote::openai::first_completion_token(remote::call_json(ctx, *pool_, req));
  });
}

std::vector<BatchResult> HttpModel::batch_generate(const Context& ctx,
                                                   std::span<const std::string> prompts,
                                                   const GenerateConfig& config) {
  check_open();
  return remote::generate_each(prompts, options_.concurrency * pool_->size(),
                               [&](const std::string& p) { return generate(ctx, p, config); });
}

GenerateMetrics HttpModel::metrics() const {
  return last_.metrics();
}

Status HttpModel::err() const {
  return last_.status();
}

}  // namespace inference::http
