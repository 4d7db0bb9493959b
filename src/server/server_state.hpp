// server/server_state.hpp — what every endpoint shares: the model, its capabilities, the slot
// pool, the metrics and the server's root Context (cancelled on shutdown). Internal.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "inference/capabilities.hpp"
#include "inference/context.hpp"
#include "inference/text_model.hpp"
#include "server/admission.hpp"
#include "server/api_error.hpp"
#include "server/metrics.hpp"
#include "server/request_parsing.hpp"
#include "server/server_options.hpp"
#include "server/worker_pool.hpp"

namespace inference::server {

struct ServerState {
  explicit ServerState(ServerOptions opts);

  ServerOptions options;
  std::shared_ptr<SlotPool> pool;
  Metrics metrics;
  Context root = Context::background().with_cancel();
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  int64_t created = 0;  ///< Unix seconds the server started (the model's `created`).

  // Set once by set_model() before `ready` becomes true; read-only afterwards.
  std::shared_ptr<TextModel> model;
  TokenizerModel* tokenizer = nullptr;       ///< the model's, when it has the capability
  TokenPromptModel* token_prompt = nullptr;  ///< the model's, when it has the capability
  ModelInfo info;
  std::string model_id;
  /// The adapters the model applies unmerged (AdapterModel; GET /lora-adapters lists them).
  std::vector<AdapterConfig> adapters;

  /// What a request without `lora` gets; starts at the load-time scales, POST /lora-adapters
  /// sets it.
  std::vector<float> adapter_scales() const;
  void set_adapter_scales(std::vector<float> scales);

  /// Pull the streams of running generations: one per slot (declared last: joined first).
  std::unique_ptr<WorkerPool> workers =
      std::make_unique<WorkerPool>(static_cast<size_t>(std::max(options.parallel, 1)));

  /// The model, or ApiError 503 (loading / shutting down) with the right message.
  TextModel& require_model() const;
  ParseLimits limits() const;

 private:
  mutable std::mutex adapter_mu_;
  std::vector<float> adapter_scales_;  // guarded by adapter_mu_
};

/// Unix time now, in seconds.
int64_t unix_now();
/// A random id suffix ("chatcmpl-" + this).
std::string random_id(size_t length = 24);
/// A fresh random sampling seed.
uint64_t random_seed();

}  // namespace inference::server
