// POST /v1/chat/completions and /v1/completions bodies, as the OpenAI API documents them.
#include <limits>

#include "server/request_parsing.hpp"

namespace inference::server {

namespace {

constexpr int64_t kMaxTokensField = std::numeric_limits<int32_t>::max();

// temperature, top_p, penalties, seed, stop, logit_bias, stream and the llama.cpp extensions
// (top_k, min_p, repeat_penalty) that llama-server also accepts on the OpenAI endpoints.
SamplingRequest parse_openai_sampling(const json& body, const ParseLimits& limits,
                                      float default_temperature) {
  SamplingRequest s;
  GenerateConfig& g = s.config;
  g.temperature =
      static_cast<float>(get_number(body, "temperature", 0.0, 2.0).value_or(default_temperature));
  g.top_p = static_cast<float>(get_number(body, "top_p", 0.0, 1.0).value_or(1.0));
  // OpenAI accepts top_p 0 (keep only the most likely token); the sampler wants a mass > 0.
  if (g.top_p <= 0.0f) g.top_p = 1e-6f;
  g.top_k = static_cast<int32_t>(get_integer(body, "top_k", 0, 1 << 24).value_or(0));
  g.min_p = static_cast<float>(get_number(body, "min_p", 0.0, 1.0).value_or(0.0));
  g.presence_penalty =
      static_cast<float>(get_number(body, "presence_penalty", -2.0, 2.0).value_or(0.0));
  g.frequency_penalty =
      static_cast<float>(get_number(body, "frequency_penalty", -2.0, 2.0).value_or(0.0));
  g.repeat_penalty =
      static_cast<float>(get_number(body, "repeat_penalty", 0.0, 10.0).value_or(1.0));
  if (g.repeat_penalty <= 0.0f)
    throw bad_field("repeat_penalty", "'repeat_penalty' must be greater than 0 (1 = off)");
  if (auto seed = get_integer(body, "seed", std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max()))
    s.seed = static_cast<uint64_t>(*seed);
  g.stop = parse_stop(body, "stop", limits);
  // A llama-server extension its OpenAI endpoints accept too (benchmarks use it).
  g.ignore_eos = get_bool(body, "ignore_eos").value_or(false);
  if (const json* bias = find_field(body, "logit_bias"))
    g.logit_bias = parse_logit_bias(*bias, "logit_bias", limits);
  g.constraint = parse_constraint(body);
  g.adapter_scales = parse_lora_field(body, limits);  // llama-server's extension
  s.stream = get_bool(body, "stream").value_or(false);
  return s;
}

int32_t parse_n(const json& body, const ParseLimits& limits) {
  return static_cast<int32_t>(get_integer(body, "n", 1, limits.max_n).value_or(1));
}

bool parse_stream_options(const json& body, bool stream) {
  const json* options = find_field(body, "stream_options");
  if (!options) return false;
  if (!stream)
    throw bad_field("stream_options", "'stream_options' is only allowed when 'stream' is true");
  expect_object(*options, "stream_options");
  return get_bool(*options, "include_usage", "stream_options").value_or(false);
}

}  // namespace

ChatRequest parse_chat_request(const json& body, const ParseLimits& limits) {
  ChatRequest r;
  r.model = get_string(body, "model").value_or("");
  const json* messages = find_field(body, "messages");
  if (!messages) throw bad_field("messages", "'messages' is required");
  r.messages = parse_openai_messages(*messages, "messages");
  check_openai_tool_history(*messages, r.messages);
  r.tools = parse_openai_tools(body);
  // OpenAI's documented default temperature is 1.
  r.sampling = parse_openai_sampling(body, limits, 1.0f);
  r.sampling.max_tokens = get_integer(body, "max_tokens", 1, kMaxTokensField);
  if (auto mct = get_integer(body, "max_completion_tokens", 1, kMaxTokensField))
    r.sampling.max_tokens = mct;  // the newer name wins when both are given
  r.n = parse_n(body, limits);
  r.include_usage = parse_stream_options(body, r.sampling.stream);
  r.logprobs = get_bool(body, "logprobs").value_or(false);
  if (auto top = get_integer(body, "top_logprobs", 0, limits.max_top_logprobs)) {
    if (!r.logprobs)
      throw bad_field("top_logprobs", "'top_logprobs' requires 'logprobs' to be true");
    r.top_logprobs = static_cast<int32_t>(*top);
  }
  return r;
}

CompletionRequest parse_completion_request(const json& body, const ParseLimits& limits) {
  CompletionRequest r;
  r.model = get_string(body, "model").value_or("");
  const json* prompt = find_field(body, "prompt");
  if (!prompt) throw bad_field("prompt", "'prompt' is required");
  if (prompt->is_string()) {
    r.prompts.push_back({prompt->get<std::string>(), {}, false});
  } else if (prompt->is_array()) {
    if (prompt->empty()) throw bad_field("prompt", "'prompt' must not be an empty array");
    if ((*prompt)[0].is_number()) {  // one prompt of token ids
      r.prompts.push_back({{}, parse_token_ids(*prompt, "prompt", limits), true});
    } else {
      if (prompt->size() > static_cast<size_t>(limits.max_n))
        throw bad_field("prompt", "'prompt' has " + std::to_string(prompt->size()) +
                                      " prompts; at most " + std::to_string(limits.max_n) +
                                      " are allowed per request");
      for (size_t i = 0; i < prompt->size(); ++i) {
        const json& p = (*prompt)[i];
        const std::string at = index_path("prompt", i);
        if (p.is_string()) {
          r.prompts.push_back({p.get<std::string>(), {}, false});
        } else if (p.is_array()) {
          r.prompts.push_back({{}, parse_token_ids(p, at, limits), true});
        } else {
          throw bad_field(
              at, "'" + at + "' must be a string or an array of token ids, got " + type_name(p));
        }
      }
    }
  } else {
    throw bad_field("prompt", "'prompt' must be a string, an array of strings or token ids, got " +
                                  type_name(*prompt));
  }
  for (size_t i = 0; i < r.prompts.size(); ++i)
    if (r.prompts[i].is_tokens && r.prompts[i].ids.empty())
      throw bad_field(r.prompts.size() == 1 ? "prompt" : index_path("prompt", i),
                      "a token prompt must not be empty");
  // The legacy endpoint's default temperature is 1, like chat.
  r.sampling = parse_openai_sampling(body, limits, 1.0f);
  // The legacy API's default is 16 tokens; llama-server and vLLM generate to the context
  // instead. We follow the OpenAI documentation the SDKs are written against.
  r.sampling.max_tokens = get_integer(body, "max_tokens", 0, kMaxTokensField);
  if (!find_field(body, "max_tokens")) r.sampling.max_tokens = 16;
  r.n = parse_n(body, limits);
  if (static_cast<int64_t>(r.n) * static_cast<int64_t>(r.prompts.size()) > limits.max_n)
    throw bad_field("n", "'n' x the number of prompts is " +
                             std::to_string(r.n * static_cast<int32_t>(r.prompts.size())) +
                             "; at most " + std::to_string(limits.max_n) + " choices per request");
  if (auto best_of = get_integer(body, "best_of", 1, limits.max_n); best_of && *best_of != r.n)
    throw bad_field("best_of", "'best_of' other than 'n' is not supported");
  r.include_usage = parse_stream_options(body, r.sampling.stream);
  r.echo = get_bool(body, "echo").value_or(false);
  if (auto lp = get_integer(body, "logprobs", 0, limits.max_top_logprobs))
    r.logprobs = static_cast<int32_t>(*lp);
  if (r.echo && r.logprobs)
    throw bad_field("echo",
                    "'echo' together with 'logprobs' (prompt log-probabilities) is not "
                    "supported by this server");
  if (auto suffix = get_string(body, "suffix"); suffix && !suffix->empty())
    throw bad_field("suffix", "'suffix' (insertion) is not supported by this server");
  return r;
}

std::vector<Message> parse_template_request(const json& body) {
  const json* messages = find_field(body, "messages");
  if (!messages) throw bad_field("messages", "'messages' is required");
  return parse_openai_messages(*messages, "messages");
}

}  // namespace inference::server
