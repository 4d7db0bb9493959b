// backends/http/http_model.hpp — a TextModel served by one or more OpenAI-compatible (or
// Anthropic Messages) servers.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/remote/chunk_update.hpp"
#include "backends/remote/endpoint_pool.hpp"
#include "backends/remote/model_support.hpp"
#include "inference/text_model.hpp"

namespace inference::http {

enum class Api { openai, anthropic };

struct HttpModelOptions {
  Api api = Api::openai;
  std::vector<std::string> urls;
  std::string api_key;
  std::string remote_model;  ///< "" = the first model the server lists
  net::HttpTimeouts timeouts;
  net::RetryPolicy retry;
  remote::PoolOptions pool;
  int32_t concurrency = 4;  ///< requests in flight per endpoint for classify/batch_generate
};

/// A pool described by a small JSON file, merged into `config` (fields the config already sets
/// win): {"urls": ["http://a/v1", …], "model": "name", "api_key_env": "VAR", "api": "openai",
/// "options": {"timeout_ms": "60000", …}}. Throws Error(invalid_argument / not_found) naming
/// the file and the field.
LoadConfig read_pool_file(const std::string& path, LoadConfig config);

/// Reads LoadConfig (+ options map) into HttpModelOptions; throws Error(invalid_argument)
/// naming the bad option, or naming the API key variable when it is unset (never its value).
HttpModelOptions http_options(const std::string& first_url, const LoadConfig& config);

class HttpModel final : public TextModel {
 public:
  /// Connects lazily, except to learn the model name when none is given. Throws Error.
  explicit HttpModel(HttpModelOptions options);
  ~HttpModel() override;

  TokenStream generate(const Context& ctx, std::string_view prompt,
                       const GenerateConfig& config = {}) override;
  TokenStream chat(const Context& ctx, std::span<const Message> messages,
                   const GenerateConfig& config = {}) override;
  std::vector<ClassifyResult> classify(const Context& ctx, std::span<const std::string> prompts,
                                       const GenerateConfig& config = {}) override;
  std::vector<BatchResult> batch_generate(const Context& ctx, std::span<const std::string> prompts,
                                          const GenerateConfig& config = {}) override;
  std::string model_type() const override { return "remote"; }
  ModelInfo info() const override { return info_; }
  GenerateMetrics metrics() const override;
  Status err() const override;
  void close() override;

  /// The pool's endpoints (tests, diagnostics).
  std::vector<remote::EndpointState> endpoints() const { return pool_->state(); }

 private:
  TokenStream start(const Context& ctx, const std::string& path, nlohmann::json body,
                    const GenerateConfig& config, remote::ChunkDecoder decode);
  void check_open() const;

  HttpModelOptions options_;
  std::shared_ptr<remote::EndpointPool> pool_;
  remote::LastRequest last_;
  ModelInfo info_;
  std::atomic<bool> closed_{false};
};

}  // namespace inference::http
