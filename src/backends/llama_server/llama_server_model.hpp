// backends/llama_server/llama_server_model.hpp — a TextModel served by a llama-server child
// process: raw prompts go to /completion (token ids and n_probs), chat to
// /v1/chat/completions (the server applies the model's template).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "backends/llama_server/server_supervisor.hpp"
#include "backends/remote/chunk_update.hpp"
#include "inference/text_model.hpp"

namespace inference::llama_server {

class LlamaServerModel final : public TextModel {
 public:
  /// Starts the server and waits until it is healthy. Throws Error.
  LlamaServerModel(std::shared_ptr<ServerSupervisor> supervisor, ModelInfo info,
                   int32_t concurrency);
  ~LlamaServerModel() override;

  TokenStream generate(const Context& ctx, std::string_view prompt,
                       const GenerateConfig& config = {}) override;
  TokenStream chat(const Context& ctx, std::span<const Message> messages,
                   const GenerateConfig& config = {}) override;
  std::vector<ClassifyResult> classify(const Context& ctx, std::span<const std::string> prompts,
                                       const GenerateConfig& config = {}) override;
  std::vector<BatchResult> batch_generate(const Context& ctx, std::span<const std::string> prompts,
                                          const GenerateConfig& config = {}) override;
  std::string model_type() const override { return info_.architecture; }
  ModelInfo info() const override { return info_; }
  GenerateMetrics metrics() const override;
  Status err() const override;
  void close() override;

  /// The server's pid (-1 when none runs): fault tests kill it.
  pid_t server_pid() { return supervisor_->pid(); }

 private:
  struct Recorder {
    std::mutex mutex;
    GenerateMetrics metrics;
    Status status;
  };
  TokenStream start(const Context& ctx, const std::string& path, const std::string& body,
                    const GenerateConfig& config, remote::ChunkDecoder decode, bool ids_known);
  void check_open() const;

  std::shared_ptr<ServerSupervisor> supervisor_;
  ModelInfo info_;
  int32_t concurrency_;
  std::shared_ptr<Recorder> recorder_ = std::make_shared<Recorder>();
  std::atomic<bool> closed_{false};
};

}  // namespace inference::llama_server
