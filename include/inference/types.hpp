// inference/types.hpp — the plain value types of the contract: tokens, messages, options,
// results. Designated-initialiser friendly: `model.generate(ctx, "Hi", {.max_tokens = 64})`.
// A default (zero) value never changes behaviour when a field is added.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inference/error.hpp"

namespace inference {

/// One alternative at a position, with its log-probability (natural log).
struct TokenLogprob {
  int32_t id = -1;
  std::string text;
  float logprob = 0.0f;
};

/// One streamed piece. `id` is the real vocabulary id on every backend that can know it
/// (-1 where a remote server does not report ids). `text` is the detokenised piece; pieces of
/// one stream concatenate to the full decode (a multi-byte character is never split).
struct Token {
  int32_t id = -1;
  std::string text;
  std::optional<float> logprob;            ///< Set when GenerateConfig::logprobs > 0.
  std::vector<TokenLogprob> top_logprobs;  ///< The `logprobs` best alternatives, best first.
};

/// One tool call requested by the assistant (OpenAI `tool_calls`, Anthropic `tool_use`).
struct ToolCall {
  std::string id;         ///< Unique within the conversation.
  std::string name;       ///< The function's name.
  std::string arguments;  ///< The arguments as a JSON object, serialised.
};

/// One chat turn. role is "system", "user", "assistant" or "tool".
struct Message {
  std::string role;
  std::string content;
  std::vector<ToolCall> tool_calls;  ///< assistant turns that called tools
  std::string tool_call_id;          ///< role "tool": the call this result answers
  std::string name;                  ///< role "tool": the function's name (optional)
};

/// What a constrained generation must produce. The sampler only picks tokens that keep the
/// output a valid prefix of the language; generation cannot end before the output is complete.
struct OutputConstraint {
  enum class Kind {
    none,         ///< free text
    gbnf,         ///< `source` is a GBNF grammar (llama.cpp's format; start symbol `root`)
    json_schema,  ///< `source` is a JSON Schema document (JSON text)
    regex,        ///< `source` is a regular expression the whole output must match
    json,         ///< any JSON value (`source` ignored)
  };
  Kind kind = Kind::none;
  std::string source;
};

/// A bias added to one token's logit before sampling (OpenAI `logit_bias`).
struct LogitBias {
  int32_t id = -1;
  float bias = 0.0f;  ///< -100 bans the token in practice, +100 forces it.
};

/// One LoRA adapter and the scale it is applied with.
struct AdapterConfig {
  std::string path;    ///< PEFT or mlx-lm directory, or a GGUF LoRA file.
  float scale = 1.0f;  ///< Multiplies alpha/r (0 disables the adapter).
};

/// Sampling and stopping options for one generation. Defaults are greedy-free sampling off:
/// temperature 0 means greedy (argmax), and every filter is disabled at its default.
struct GenerateConfig {
  int32_t max_tokens = 256;          ///< Stop after this many generated tokens (<= 0: none).
  float temperature = 0.0f;          ///< 0 = greedy.
  int32_t top_k = 0;                 ///< 0 = off.
  float top_p = 1.0f;                ///< 1 = off.
  float min_p = 0.0f;                ///< 0 = off.
  float repeat_penalty = 1.0f;       ///< 1 = off (llama.cpp semantics).
  int32_t repeat_last_n = 64;        ///< Window of previous tokens the penalties look at.
  float presence_penalty = 0.0f;     ///< 0 = off (OpenAI semantics).
  float frequency_penalty = 0.0f;    ///< 0 = off (OpenAI semantics).
  std::vector<int32_t> stop_tokens;  ///< Extra token ids that end generation (not emitted).
  std::vector<std::string> stop;     ///< Strings that end generation; the stop text is not emitted.
  uint64_t seed = 0;                 ///< Same seed + same inputs => same tokens.
  bool return_logits = false;        ///< classify(): include the full logits row.
  int32_t logprobs = 0;              ///< > 0: attach the logprob and this many alternatives.
  bool ignore_eos = false;           ///< Keep generating past end-of-sequence tokens.
  OutputConstraint constraint;       ///< Grammar / JSON Schema / regex the output must follow.
  std::vector<LogitBias> logit_bias;  ///< Added to the logits before any other step.
  /// Per-request adapter scales by adapter index (AdapterModel::adapters() order), each
  /// replacing that adapter's load-time scale (0 = off); adapters past the end, or all when
  /// empty, keep the scales the model was loaded with.
  std::vector<float> adapter_scales;
};

/// Options for loading a model.
struct LoadConfig {
  std::string backend;         ///< Backend name; empty = default_backend().
  int32_t context_length = 0;  ///< 0 = the model's default, capped to a sensible size.
  int32_t gpu_layers = -1;     ///< -1 = all layers on the GPU (GPU backends only).
  int32_t parallel_slots = 1;  ///< Concurrent sequences the model can serve.
  int32_t threads = 0;         ///< 0 = one per physical core.
  std::string adapter_path;    ///< One more LoRA adapter, scale 1, before `adapters`.
  std::string kv_cache_type;   ///< "" = backend default ("f16" for native), or "f32", "q8_0".

  /// LoRA adapters applied on top of the base weights (in addition to adapter_path).
  std::vector<AdapterConfig> adapters;
  /// Merge the adapters into float copies of the weights they touch at load (faster decode,
  /// more memory, no per-request scales) instead of applying them unmerged.
  bool merge_adapters = false;
  /// Most calls waiting for a free slot; beyond it a call fails at once with
  /// ErrorCode::unavailable. 0 = unbounded (a waiting call still ends at its Context's deadline).
  int32_t max_queued = 0;

  // Remote backends (http, llama_server).
  std::vector<std::string> endpoints;  ///< Base URLs (http: a pool when more than one).
  std::string api_key;                 ///< The key itself (never logged) …
  std::string api_key_env;             ///< … or the environment variable that holds it.
  std::string remote_model;            ///< The served model's name ("" = first listed).
  std::string executable;              ///< llama_server: the server binary ("" = env, PATH).
  /// Backend-specific options (documented by each backend), e.g. {"timeout_ms", "60000"}.
  std::map<std::string, std::string> options;
};

/// Why a stream ended.
enum class FinishReason {
  none,        ///< still running (or never started)
  eos,         ///< the model produced an end-of-generation token
  stop,        ///< a stop string matched (the stop text is not emitted)
  stop_token,  ///< one of GenerateConfig::stop_tokens was produced
  length,      ///< max_tokens reached, or the context is full
  cancelled,   ///< the Context was cancelled or the consumer closed the stream early
  deadline,    ///< the Context's deadline passed
  error,       ///< a backend error (see TokenStream::err())
};

/// "eos", "stop", "stop_token", "length", "cancelled", "deadline", "error" or "none".
inline const char* to_string(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::eos:
      return "eos";
    case FinishReason::stop:
      return "stop";
    case FinishReason::stop_token:
      return "stop_token";
    case FinishReason::length:
      return "length";
    case FinishReason::cancelled:
      return "cancelled";
    case FinishReason::deadline:
      return "deadline";
    case FinishReason::error:
      return "error";
    case FinishReason::none:
      break;
  }
  return "none";
}

/// What classify() returns per prompt: the most likely next token after one prefill.
struct ClassifyResult {
  Token token;                ///< Argmax (or sampled, if temperature > 0) next token.
  std::vector<float> logits;  ///< The full row over the vocabulary, when return_logits.
  Status status;              ///< Per-prompt error; the other fields are empty on error.
};

/// What batch_generate() returns per prompt.
struct BatchResult {
  std::string text;           ///< Concatenated token texts.
  std::vector<Token> tokens;  ///< The generated tokens.
  Status status;              ///< Per-prompt error (partial output is kept).
};

/// Timing and memory of the last finished generation (or the model's totals; see metrics()).
struct GenerateMetrics {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  std::chrono::nanoseconds prefill_duration{0};
  std::chrono::nanoseconds decode_duration{0};
  double prefill_tokens_per_second = 0.0;
  double decode_tokens_per_second = 0.0;
  uint64_t peak_memory_bytes = 0;    ///< Peak bytes the model held (weights + cache + scratch).
  uint64_t active_memory_bytes = 0;  ///< Bytes held now.
  /// From the call to the first streamed token (queueing + prefill + first sample).
  std::chrono::nanoseconds time_to_first_token{0};
  /// Bytes read from memory per decoded token (weights + KV cache), when the backend knows it;
  /// decode GB/s = bytes_per_token × decode_tokens_per_second.
  uint64_t bytes_per_token = 0;
  /// Prompt tokens served from a cached prefix (not recomputed).
  int64_t cached_prompt_tokens = 0;
  FinishReason finish_reason = FinishReason::none;
  /// The stop string (GenerateConfig::stop) that ended the generation, when finish_reason is
  /// `stop` and the backend knows which one matched; "" otherwise.
  std::string stop_string;
};

/// Static facts about a loaded model.
struct ModelInfo {
  std::string architecture;  ///< "llama", "qwen2", "qwen3", "gemma3", …
  std::string name;          ///< general.name or the directory/file name.
  std::string backend;       ///< The backend that loaded it.
  std::string quantization;  ///< e.g. "Q4_K - Medium", "F16", "mlx-4bit".
  int64_t vocab_size = 0;
  int64_t n_layers = 0;
  int64_t hidden_size = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t context_length = 0;  ///< The context this instance was loaded with.
  int64_t train_context_length = 0;
  uint64_t parameter_count = 0;
  uint64_t file_size = 0;
};

}  // namespace inference
