// llama-server's own endpoints: /completion, /tokenize, /detokenize.
#include <limits>

#include "server/request_parsing.hpp"

namespace inference::server {

LlamaCompletionRequest parse_llama_completion_request(const json& body, const ParseLimits& limits) {
  LlamaCompletionRequest r;
  const json* prompt = find_field(body, "prompt");
  if (!prompt) throw bad_field("prompt", "'prompt' is required");
  if (prompt->is_string()) {
    r.prompt.text = prompt->get<std::string>();
  } else if (prompt->is_array()) {
    r.prompt.ids = parse_token_ids(*prompt, "prompt", limits);
    r.prompt.is_tokens = true;
    if (r.prompt.ids.empty()) throw bad_field("prompt", "'prompt' must not be empty");
  } else {
    throw bad_field(
        "prompt", "'prompt' must be a string or an array of token ids, got " + type_name(*prompt));
  }
  SamplingRequest& s = r.sampling;
  GenerateConfig& g = s.config;
  // llama-server's defaults.
  g.temperature = static_cast<float>(get_number(body, "temperature", 0.0, 100.0).value_or(0.8));
  g.top_k = static_cast<int32_t>(get_integer(body, "top_k", 0, 1 << 24).value_or(40));
  g.top_p = static_cast<float>(get_number(body, "top_p", 0.0, 1.0).value_or(0.95));
  if (g.top_p <= 0.0f) g.top_p = 1e-6f;  // 0 = the most likely token only
  g.min_p = static_cast<float>(get_number(body, "min_p", 0.0, 1.0).value_or(0.05));
  g.repeat_penalty =
      static_cast<float>(get_number(body, "repeat_penalty", 0.0, 10.0).value_or(1.0));
  if (g.repeat_penalty <= 0.0f)
    throw bad_field("repeat_penalty", "'repeat_penalty' must be greater than 0 (1 = off)");
  g.repeat_last_n =
      static_cast<int32_t>(get_integer(body, "repeat_last_n", -1, 1 << 24).value_or(64));
  g.presence_penalty =
      static_cast<float>(get_number(body, "presence_penalty", -2.0, 2.0).value_or(0.0));
  g.frequency_penalty =
      static_cast<float>(get_number(body, "frequency_penalty", -2.0, 2.0).value_or(0.0));
  g.ignore_eos = get_bool(body, "ignore_eos").value_or(false);
  g.stop = parse_stop(body, "stop", limits);
  if (const json* bias = find_field(body, "logit_bias"))
    g.logit_bias = parse_logit_bias(*bias, "logit_bias", limits);
  g.constraint = parse_constraint(body);
  g.adapter_scales = parse_lora_field(body, limits);
  if (auto seed = get_integer(body, "seed", -1, std::numeric_limits<int64_t>::max());
      seed && *seed >= 0)
    s.seed = static_cast<uint64_t>(*seed);  // -1 = random, as in llama-server
  // n_predict: -1 (or absent) = until the context is full.
  if (auto n = get_integer(body, "n_predict", -1, std::numeric_limits<int32_t>::max());
      n && *n >= 0)
    s.max_tokens = *n;
  s.stream = get_bool(body, "stream").value_or(false);
  r.n_probs =
      static_cast<int32_t>(get_integer(body, "n_probs", 0, limits.max_top_logprobs).value_or(0));
  r.return_tokens = get_bool(body, "return_tokens").value_or(false);
  return r;
}

TokenizeRequest parse_tokenize_request(const json& body) {
  TokenizeRequest r;
  const auto content = get_string(body, "content");
  if (!content) throw bad_field("content", "'content' is required");
  r.content = *content;
  r.add_special = get_bool(body, "add_special").value_or(false);
  r.parse_special = get_bool(body, "parse_special").value_or(true);
  r.with_pieces = get_bool(body, "with_pieces").value_or(false);
  return r;
}

std::vector<int32_t> parse_detokenize_request(const json& body, const ParseLimits& limits) {
  const json* tokens = find_field(body, "tokens");
  if (!tokens) throw bad_field("tokens", "'tokens' is required");
  return parse_token_ids(*tokens, "tokens", limits);
}

}  // namespace inference::server
