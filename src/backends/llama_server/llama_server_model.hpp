// backends/llama_server/llama_server_model.hpp — a TextModel served by a llama-server child
// process: raw prompts go to /completion (token ids and n_probs), chat to
// /v1/chat/completions (the server applies the model's template).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "backends/llama_server/server_supervisor.hpp"
#include "backends/remote/chunk_update.hpp"
#include "backends/remote/model_support.hpp"
#include "inference/capabilities.hpp"
#include "inference/text_model.hpp"

namespace inference::llama_server {

/// Also a TokenizerModel (llama-server's /tokenize, /detokenize, /apply-template) and a
/// TokenPromptModel (/completion takes a prompt of token ids).
class LlamaServerModel final : public TextModel, public TokenizerModel, public TokenPromptModel {
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

  // TokenPromptModel
  TokenStream generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                              const GenerateConfig& config = {}) override;

  // TokenizerModel (each call is a request to the server)
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string token_text(int32_t id) const override;
  int64_t vocab_size() const override { return info_.vocab_size; }
  std::string apply_chat_template(std::span<const Message> messages,
                                  bool add_generation_prompt = true) const override;

  /// The server's pid (-1 when none runs): fault tests kill it.
  pid_t server_pid() { return supervisor_->pid(); }

 private:
  TokenStream start(const Context& ctx, const std::string& path, const std::string& body,
                    const GenerateConfig& config, remote::ChunkDecoder decode, bool ids_known);
  void check_open() const;

  std::shared_ptr<ServerSupervisor> supervisor_;
  ModelInfo info_;
  int32_t concurrency_;
  remote::LastRequest last_;
  std::atomic<bool> closed_{false};
};

}  // namespace inference::llama_server
