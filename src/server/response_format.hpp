// server/response_format.hpp — small pieces of the response wire formats shared by endpoints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inference/types.hpp"

namespace inference::server {

/// OpenAI finish_reason: "stop" (end of text, stop string or token) or "length".
const char* openai_finish_reason(FinishReason reason);
/// Anthropic stop_reason: "end_turn", "stop_sequence" or "max_tokens".
const char* anthropic_stop_reason(FinishReason reason);
/// llama-server stop_type: "eos", "word", "limit" or "none".
const char* llama_stop_type(FinishReason reason);

/// One entry of OpenAI chat `logprobs.content`: token, logprob, bytes and the `top` best
/// alternatives. Requires token.logprob.
nlohmann::json chat_logprob(const Token& token, int top);

/// Prompt tokens and generated tokens summed over the choices of one request.
struct UsageTotals {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
};

/// OpenAI `usage` object.
nlohmann::json openai_usage(const UsageTotals& usage);

}  // namespace inference::server
