#include "server/response_format.hpp"

#include "server/sse.hpp"

namespace inference::server {

const char* openai_finish_reason(FinishReason reason) {
  return reason == FinishReason::length ? "length" : "stop";
}

const char* anthropic_stop_reason(FinishReason reason) {
  switch (reason) {
    case FinishReason::length:
      return "max_tokens";
    case FinishReason::stop:
      return "stop_sequence";
    default:
      return "end_turn";
  }
}

const char* llama_stop_type(FinishReason reason) {
  switch (reason) {
    case FinishReason::eos:
    case FinishReason::stop_token:
      return "eos";
    case FinishReason::stop:
      return "word";
    case FinishReason::length:
      return "limit";
    default:
      return "none";
  }
}

nlohmann::json chat_logprob(const Token& token, int top) {
  nlohmann::json alternatives = nlohmann::json::array();
  for (size_t i = 0; i < token.top_logprobs.size() && static_cast<int>(i) < top; ++i) {
    const TokenLogprob& alt = token.top_logprobs[i];
    alternatives.push_back(
        {{"token", alt.text}, {"logprob", alt.logprob}, {"bytes", utf8_bytes(alt.text)}});
  }
  return {{"token", token.text},
          {"logprob", token.logprob.value_or(0.0f)},
          {"bytes", utf8_bytes(token.text)},
          {"top_logprobs", alternatives}};
}

nlohmann::json openai_usage(const UsageTotals& usage) {
  nlohmann::json u = {{"prompt_tokens", usage.prompt_tokens},
                      {"completion_tokens", usage.completion_tokens},
                      {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
  u["prompt_tokens_details"] = {{"cached_tokens", usage.cached_tokens}};
  return u;
}

}  // namespace inference::server
