// backends/native/native_model.hpp — the native engine behind the TextModel contract.
//
// Concurrency: LoadConfig::parallel_slots KV-cache sequences form a slot pool, scheduled by a
// generation::BatchScheduler (continuous batching): every open stream, classify() prompt and
// batch_generate() item is a sequence of one shared batch, so each forward pass evaluates the
// next token of all of them at once. A call that finds every slot busy waits in a FIFO queue
// (up to LoadConfig::max_queued, then ErrorCode::unavailable).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/native/chat_prompt.hpp"
#include "engine/generation/batch_scheduler.hpp"
#include "inference/capabilities.hpp"
#include "inference/text_model.hpp"
#include "inference/tool_chat_model.hpp"
#include "inference/trainable_model.hpp"

namespace inference::train {
template <typename T>
class LoraTrainer;
}  // namespace inference::train

namespace inference::native {

class NativeModel final : public TextModel,
                          public TokenizerModel,
                          public AttentionInspector,
                          public TokenPromptModel,
                          public ServingStats,
                          public LogprobModel,
                          public ToolChatModel,
                          public AdapterModel,
                          public TrainableModel {
 public:
  /// `chat_template` replaces the model file's template when non-empty (Jinja source).
  explicit NativeModel(std::unique_ptr<engine::Engine> engine,
                       generation::SchedulerOptions options = {},
                       const std::string& chat_template = "");
  ~NativeModel() override;

  // TextModel
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

  // TokenizerModel (encode and decode are TrainableModel's too)
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string token_text(int32_t id) const override;
  int64_t vocab_size() const override { return info_.vocab_size; }
  std::string apply_chat_template(std::span<const Message> messages,
                                  bool add_generation_prompt = true) const override;

  // ToolChatModel
  std::string chat_template_source() const override;
  std::string apply_chat_template_with_tools(std::span<const Message> messages,
                                             const std::string& tools_json,
                                             bool add_generation_prompt = true) const override;
  TokenStream chat_with_tools(const Context& ctx, std::span<const Message> messages,
                              const std::string& tools_json,
                              const GenerateConfig& config = {}) override;

  // AttentionInspector
  AttentionSnapshot inspect_attention(const Context& ctx, std::string_view prompt) override;

  // ServingStats
  ServingState serving_state() const override { return scheduler_->serving_state(); }

  // LogprobModel (native_logprob.cpp)
  std::vector<ContinuationScore> score_continuations(
      const Context& ctx, std::span<const ScoreRequest> requests) override;

  // AdapterModel
  std::vector<AdapterConfig> adapters() const override { return adapters_; }

  // TrainableModel (native_trainable.cpp)
  void apply_lora(const LoraConfig& config) override;
  TrainStepResult train_step(std::span<const TrainExample> batch,
                             const TrainStepConfig& config = {}) override;
  double evaluate_loss(std::span<const TrainExample> examples) override;
  void save_adapter(const std::filesystem::path& dir) const override;
  /// The file the model was loaded from, which training reads again (the backend sets it).
  void set_training_source(std::filesystem::path model, int32_t threads);

 private:
  const tokenizer::Tokenizer& open_tokenizer() const;

  std::shared_ptr<generation::BatchScheduler> scheduler_;
  mutable std::mutex mu_;  // guards chat_prompt_ and tokenizer_ against close()
  ModelInfo info_;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;  // owned by the engine; null once closed
  std::optional<ChatPrompt> chat_prompt_;
  std::vector<AdapterConfig> adapters_;  // the engine's unmerged adapters (fixed at load)

  mutable std::mutex train_mu_;  // guards the training state below
  std::filesystem::path train_model_path_;
  int32_t train_threads_ = 0;
  std::unique_ptr<train::LoraTrainer<float>> trainer_;
  int64_t train_steps_ = 0;
};

}  // namespace inference::native
