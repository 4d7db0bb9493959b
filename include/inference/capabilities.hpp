// inference/capabilities.hpp — optional interfaces a TextModel may also implement.
// Find them with dynamic_cast: `if (auto* tok = dynamic_cast<TokenizerModel*>(model.get()))`.
// They are never added as virtuals to TextModel, so backends without them stay valid.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "inference/types.hpp"

namespace inference {

/// Access to the model's own tokenizer and chat template. Thread-safe (read-only state).
class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  /// Token ids of `text`. add_special: BOS/EOS per the model's rules. parse_special: text of
  /// control tokens (e.g. "<|im_start|>") becomes those tokens; otherwise it is plain text.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                                      bool parse_special = false) const = 0;
  /// The text of `ids` (special tokens rendered as their text).
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  /// The piece of one token as it appears in decoded text.
  virtual std::string token_text(int32_t id) const = 0;
  virtual int64_t vocab_size() const = 0;
  /// The prompt text the model's chat template renders for `messages`.
  virtual std::string apply_chat_template(std::span<const Message> messages,
                                          bool add_generation_prompt = true) const = 0;
};

/// Generation from exact token ids (`infer run --tokens`, verification tools), which a text
/// prompt cannot express.
class TokenPromptModel {
 public:
  virtual ~TokenPromptModel() = default;
  /// Streams a continuation of exactly these ids (no BOS is added). Errors end the stream.
  virtual TokenStream generate_tokens(const Context& ctx, std::span<const int32_t> prompt,
                                      const GenerateConfig& config = {}) = 0;
};

/// Post-RoPE queries and keys of a prompt, for attention analysis tools.
struct AttentionSnapshot {
  int32_t n_layers = 0;
  int32_t n_heads = 0;     ///< Query heads.
  int32_t n_kv_heads = 0;  ///< Key heads (GQA).
  int32_t n_tokens = 0;
  int32_t head_dim = 0;
  std::vector<int32_t> tokens;
  /// [layer][head][token][dim], row-major.
  std::vector<float> queries;
  /// [layer][kv_head][token][dim], row-major.
  std::vector<float> keys;
};

class AttentionInspector {
 public:
  virtual ~AttentionInspector() = default;
  /// Runs one prefill of `prompt` and returns its post-RoPE Q and K for every layer and head.
  virtual AttentionSnapshot inspect_attention(const Context& ctx, std::string_view prompt) = 0;
};

/// One continuation to score: the log-probability of `continuation` given `context`.
struct ScoreRequest {
  std::string context;       ///< Conditioning text (BOS is added per the model's rules).
  std::string continuation;  ///< The text whose tokens are scored.
};

/// What score_continuations() returns per request.
struct ContinuationScore {
  std::vector<int32_t> tokens;  ///< The continuation's token ids (as tokenised after context).
  std::vector<float> logprobs;  ///< log P(token | everything before it), one per token.
  double total = 0.0;           ///< Sum of `logprobs`.
  bool greedy = false;          ///< Every continuation token was the argmax (lm-eval is_greedy).
  Status status;                ///< Per-request error; the other fields are empty on error.
};

/// Prompt log-probabilities: score a given continuation without generating (perplexity,
/// multiple choice, `infer logits`). The continuation is tokenised as part of context +
/// continuation, so token boundaries are those the model would see; its tokens are those that
/// start at or after the end of the context text.
class LogprobModel {
 public:
  virtual ~LogprobModel() = default;
  /// One result per request, in order; batched where the backend can. Throws only for a
  /// failure of the whole call (closed model); per-request errors are in `status`.
  virtual std::vector<ContinuationScore> score_continuations(
      const Context& ctx, std::span<const ScoreRequest> requests) = 0;
};

/// LoRA adapters loaded unmerged with the model (LoadConfig::adapters, adapter_path first),
/// which GenerateConfig::adapter_scales selects per call: requests with different adapters can
/// share one base model and one batch.
class AdapterModel {
 public:
  virtual ~AdapterModel() = default;
  /// The adapters in GenerateConfig::adapter_scales order, each with the scale it was loaded
  /// with (used by a call that gives no scale for it). Empty when none are loaded, or when they
  /// were merged into the weights (LoadConfig::merge_adapters): those cannot change per call.
  virtual std::vector<AdapterConfig> adapters() const = 0;
};

/// One KV-cache slot of a batching backend, as llama-server's /slots reports it.
struct SlotState {
  int32_t id = 0;
  bool is_processing = false;  ///< a sequence holds the slot (prefilling or decoding)
  int64_t n_ctx_used = 0;      ///< cache cells the slot holds (cached prefix included)
  int64_t n_ctx = 0;           ///< cells the slot can hold
};

/// What a batching backend is doing now: for /metrics, /slots and admission decisions.
struct ServingState {
  std::vector<SlotState> slots;
  int64_t queued = 0;          ///< calls waiting for a free slot
  int64_t active = 0;          ///< sequences holding slots
  int64_t kv_cells_used = 0;   ///< sum of n_ctx_used
  int64_t kv_cells_total = 0;  ///< sum of n_ctx
  uint64_t steps = 0;          ///< forward passes run so far
  uint64_t step_tokens = 0;    ///< tokens evaluated by those passes
};

/// Live serving figures of a backend that schedules many sequences (native). Thread-safe and
/// cheap: it never waits for a running forward pass.
class ServingStats {
 public:
  virtual ~ServingStats() = default;
  virtual ServingState serving_state() const = 0;
};

}  // namespace inference
