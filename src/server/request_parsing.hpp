// server/request_parsing.hpp — request bodies of every endpoint → plain request structs.
//
// Pure functions over nlohmann::json (no sockets, no model): the fuzz target drives them
// directly. Every rejection is an ApiError 400 naming the field ("messages[1].content[0].type",
// "temperature"), never a crash. Values the request leaves out stay unset here; the endpoint
// fills them from the model (max_tokens from the context, a random seed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inference/types.hpp"
#include "server/json_fields.hpp"
#include "server/tool_request.hpp"

namespace inference::server {

/// Bounds a request is checked against.
struct ParseLimits {
  int32_t max_n = 8;       ///< Most choices per request (`n`).
  int32_t max_stop = 16;   ///< Most stop strings.
  int64_t vocab_size = 0;  ///< Token ids must be below it (0 = unknown: not checked).
  int32_t max_top_logprobs = 20;
  /// The scale of each LoRA adapter the model applies unmerged, as POST /lora-adapters last set
  /// them: what a request without `lora` gets (its size is the number of adapters).
  std::vector<float> adapter_scales;
};

/// The sampling and stopping fields shared by every generating endpoint.
struct SamplingRequest {
  GenerateConfig config;              ///< max_tokens and seed are filled in by the endpoint
  std::optional<int64_t> max_tokens;  ///< requested; nullopt = up to the context
  std::optional<uint64_t> seed;       ///< nullopt = a fresh random seed per choice
  bool stream = false;
};

/// One prompt of /v1/completions or /completion: text, or exact token ids.
struct PromptInput {
  std::string text;
  std::vector<int32_t> ids;
  bool is_tokens = false;
};

/// POST /v1/chat/completions.
struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  SamplingRequest sampling;
  int32_t n = 1;
  bool include_usage = false;  ///< stream_options.include_usage
  bool logprobs = false;
  int32_t top_logprobs = 0;
  ToolsRequest tools;
};

/// POST /v1/completions.
struct CompletionRequest {
  std::string model;
  std::vector<PromptInput> prompts;
  SamplingRequest sampling;
  int32_t n = 1;
  bool include_usage = false;
  bool echo = false;
  std::optional<int32_t> logprobs;  ///< legacy: number of alternatives (0 = chosen token only)
};

/// POST /v1/messages and /v1/messages/count_tokens (max_tokens not required there).
struct MessagesRequest {
  std::string model;
  std::vector<Message> messages;  ///< the system prompt first, when given
  SamplingRequest sampling;
  std::vector<std::string> stop_sequences;
  ToolsRequest tools;
};

/// POST /completion (llama-server's native endpoint).
struct LlamaCompletionRequest {
  PromptInput prompt;
  SamplingRequest sampling;
  int32_t n_probs = 0;
  bool return_tokens = false;
};

/// POST /tokenize.
struct TokenizeRequest {
  std::string content;
  bool add_special = false;
  bool parse_special = true;
  bool with_pieces = false;
};

ChatRequest parse_chat_request(const json& body, const ParseLimits& limits);
CompletionRequest parse_completion_request(const json& body, const ParseLimits& limits);
MessagesRequest parse_messages_request(const json& body, const ParseLimits& limits,
                                       bool count_tokens_only = false);
LlamaCompletionRequest parse_llama_completion_request(const json& body, const ParseLimits& limits);
TokenizeRequest parse_tokenize_request(const json& body);
std::vector<int32_t> parse_detokenize_request(const json& body, const ParseLimits& limits);
/// /apply-template: the OpenAI-style `messages`.
std::vector<Message> parse_template_request(const json& body);

// Shared pieces (sampling_fields.cpp), also used by the endpoint parsers.

/// OpenAI-style `messages` (string or text-part content; roles system, developer, user,
/// assistant, tool) at `path`.
std::vector<Message> parse_openai_messages(const json& messages, const std::string& path);
/// `stop`: a string or an array of strings.
std::vector<std::string> parse_stop(const json& body, const char* key, const ParseLimits& limits);
/// Token ids (an array of integers inside the vocabulary) at `path`.
std::vector<int32_t> parse_token_ids(const json& value, const std::string& path,
                                     const ParseLimits& limits);
/// OpenAI `logit_bias` ({"id": bias}) or llama.cpp's ([[id, bias|false], …]).
std::vector<LogitBias> parse_logit_bias(const json& value, const std::string& path,
                                        const ParseLimits& limits);
/// response_format / grammar / json_schema → the output constraint.
OutputConstraint parse_constraint(const json& body);

// LoRA (lora_fields.cpp).

/// `[{"id", "scale"}, …]` at `path` → one scale per adapter; adapters not listed get 0 (as in
/// llama-server). 400 naming the entry for an unknown or repeated id or a bad scale.
std::vector<float> parse_lora_scales(const json& list, const std::string& path, size_t n_adapters);
/// A generating request's `lora` → GenerateConfig::adapter_scales; without the field, the
/// server's current scales (limits.adapter_scales).
std::vector<float> parse_lora_field(const json& body, const ParseLimits& limits);

}  // namespace inference::server
