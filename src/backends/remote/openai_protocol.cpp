#include "backends/remote/openai_protocol.hpp"

#include "inference/error.hpp"

namespace inference::remote::openai {
namespace {

using nlohmann::json;

void add_sampling(json& body, const GenerateConfig& c, bool chat) {
  if (c.max_tokens > 0) body["max_tokens"] = c.max_tokens;
  body["temperature"] = c.temperature;
  if (c.top_p < 1.0f) body["top_p"] = c.top_p;
  if (c.top_k > 0) body["top_k"] = c.top_k;
  if (c.min_p > 0.0f) body["min_p"] = c.min_p;
  if (c.repeat_penalty != 1.0f) {
    body["repeat_penalty"] = c.repeat_penalty;      // llama.cpp
    body["repetition_penalty"] = c.repeat_penalty;  // vLLM
    body["repeat_last_n"] = c.repeat_last_n;
  }
  if (c.presence_penalty != 0.0f) body["presence_penalty"] = c.presence_penalty;
  if (c.frequency_penalty != 0.0f) body["frequency_penalty"] = c.frequency_penalty;
  // OpenAI-compatible servers (ours included) take a signed 64-bit seed: a larger one (a random
  // seed a proxy drew) is folded into that range, deterministically.
  if (c.seed != 0) body["seed"] = static_cast<int64_t>(c.seed & 0x7FFF'FFFF'FFFF'FFFFull);
  if (!c.stop.empty()) body["stop"] = c.stop;
  if (c.ignore_eos) body["ignore_eos"] = true;
  if (!c.logit_bias.empty()) {
    json bias = json::object();
    for (const auto& b : c.logit_bias) bias[std::to_string(b.id)] = b.bias;
    body["logit_bias"] = bias;
  }
  if (c.logprobs > 0) {
    if (chat) {
      body["logprobs"] = true;
      body["top_logprobs"] = c.logprobs;
    } else {
      body["logprobs"] = c.logprobs;
    }
  }
  switch (c.constraint.kind) {
    case OutputConstraint::Kind::none:
      break;
    case OutputConstraint::Kind::gbnf:
      body["grammar"] = c.constraint.source;         // llama.cpp
      body["guided_grammar"] = c.constraint.source;  // vLLM
      break;
    case OutputConstraint::Kind::json_schema: {
      json schema = json::parse(c.constraint.source, nullptr, false);
      if (schema.is_discarded())
        throw Error(ErrorCode::invalid_argument, "constraint: the JSON Schema is not valid JSON");
      body["response_format"] = {{"type", "json_schema"},
                                 {"json_schema", {{"name", "output"}, {"schema", schema}}}};
      if (!chat) body["json_schema"] = schema;  // llama.cpp /completions
      break;
    }
    case OutputConstraint::Kind::regex:
      body["guided_regex"] = c.constraint.source;  // vLLM
      break;
    case OutputConstraint::Kind::json:
      body["response_format"] = {{"type", "json_object"}};
      break;
  }
  if (!c.stop_tokens.empty())
    throw Error(ErrorCode::unsupported,
                "stop_tokens: an OpenAI-compatible stream does not carry token ids; use stop "
                "strings");
  if (!c.adapter_scales.empty())
    throw Error(ErrorCode::unsupported, "adapter_scales cannot be sent to an OpenAI server");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
}

json message_json(const Message& m) {
  json j = {{"role", m.role}, {"content", m.content}};
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (const auto& call : m.tool_calls)
      calls.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    j["tool_calls"] = calls;
  }
  if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
  if (!m.name.empty()) j["name"] = m.name;
  return j;
}

TokenLogprob alternative(const json& j) {
  TokenLogprob alt;
  alt.text = j.value("token", std::string());
  alt.logprob = j.value("logprob", 0.0f);
  if (j.contains("id") && j["id"].is_number_integer()) alt.id = j["id"].get<int32_t>();
  return alt;
}

// Chat: choices[0].logprobs.content = [{token, logprob, top_logprobs: [{token, logprob}]}].
std::vector<Token> chat_logprob_pieces(const json& logprobs) {
  std::vector<Token> out;
  if (!logprobs.is_object() || !logprobs.contains("content") || !logprobs["content"].is_array())
    return out;
  for (const auto& entry : logprobs["content"]) {
    Token t;
    t.text = entry.value("token", std::string());
    t.logprob = entry.value("logprob", 0.0f);
    if (entry.contains("id") && entry["id"].is_number_integer()) t.id = entry["id"].get<int32_t>();
    if (entry.contains("top_logprobs") && entry["top_logprobs"].is_array())
      for (const auto& alt : entry["top_logprobs"]) t.top_logprobs.push_back(alternative(alt));
    out.push_back(std::move(t));
  }
  return out;
}

// Completions: choices[0].logprobs = {tokens: [..], token_logprobs: [..], top_logprobs: [{t: lp}]}.
std::vector<Token> completion_logprob_pieces(const json& logprobs) {
  std::vector<Token> out;
  if (!logprobs.is_object()) return out;
  if (logprobs.contains("content")) return chat_logprob_pieces(logprobs);  // llama.cpp style
  if (!logprobs.contains("tokens") || !logprobs["tokens"].is_array()) return out;
  const auto& tokens = logprobs["tokens"];
  for (size_t i = 0; i < tokens.size(); ++i) {
    Token t;
    t.text = tokens[i].get<std::string>();
    if (logprobs.contains("token_logprobs") && i < logprobs["token_logprobs"].size() &&
        logprobs["token_logprobs"][i].is_number())
      t.logprob = logprobs["token_logprobs"][i].get<float>();
    if (logprobs.contains("top_logprobs") && i < logprobs["top_logprobs"].size() &&
        logprobs["top_logprobs"][i].is_object()) {
      for (const auto& [text, lp] : logprobs["top_logprobs"][i].items())
        t.top_logprobs.push_back({-1, text, lp.get<float>()});
      std::sort(t.top_logprobs.begin(), t.top_logprobs.end(),
                [](const auto& a, const auto& b) { return a.logprob > b.logprob; });
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

json completion_request(const std::string& model, std::string_view prompt,
                        const GenerateConfig& config) {
  json body = {{"model", model}, {"prompt", std::string(prompt)}};
  add_sampling(body, config, /*chat=*/false);
  return body;
}

json chat_request(const std::string& model, std::span<const Message> messages,
                  const GenerateConfig& config) {
  json list = json::array();
  for (const auto& m : messages) list.push_back(message_json(m));
  json body = {{"model", model}, {"messages", list}};
  add_sampling(body, config, /*chat=*/true);
  return body;
}

FinishReason finish_reason(const json& choice) {
  if (!choice.contains("finish_reason") || !choice["finish_reason"].is_string())
    return FinishReason::none;
  std::string r = choice["finish_reason"].get<std::string>();
  if (r == "length") return FinishReason::length;
  if (r == "stop" || r == "eos" || r == "tool_calls") {
    // vLLM and `infer serve` name the matched stop string or token in stop_reason.
    if (choice.contains("stop_reason")) {
      if (choice["stop_reason"].is_string()) return FinishReason::stop;
      if (choice["stop_reason"].is_number()) return FinishReason::stop_token;
    }
    return FinishReason::eos;
  }
  return FinishReason::eos;
}

void decode_event(const net::SseEvent& event, ChunkUpdate& update) {
  if (event.data == "[DONE]") {
    update.done = true;
    return;
  }
  json chunk = json::parse(event.data);
  if (chunk.contains("error")) {
    const auto& e = chunk["error"];
    std::string message = e.is_object() ? e.value("message", e.dump()) : e.dump();
    update.error = {ErrorCode::backend, "the server reported an error mid-stream: " + message};
    return;
  }
  update.usage.read_from(chunk);
  if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty())
    return;  // e.g. the final usage-only chunk
  const json& choice = chunk["choices"][0];
  if (choice.contains("delta")) {
    const json& delta = choice["delta"];
    std::string text;
    if (delta.contains("content") && delta["content"].is_string())
      text = delta["content"].get<std::string>();
    append_text_tokens(text, chat_logprob_pieces(choice.value("logprobs", json())), update.tokens);
  } else if (choice.contains("text") && choice["text"].is_string()) {
    append_text_tokens(choice["text"].get<std::string>(),
                       completion_logprob_pieces(choice.value("logprobs", json())), update.tokens);
  }
  update.finish = finish_reason(choice);
}

Token first_completion_token(const json& response) {
  if (!response.contains("choices") || !response["choices"].is_array() ||
      response["choices"].empty())
    throw Error(ErrorCode::backend,
                "the server's completion has no choices: " + response.dump().substr(0, 200));
  const json& choice = response["choices"][0];
  std::vector<Token> tokens;
  append_text_tokens(choice.value("text", std::string()),
                     completion_logprob_pieces(choice.value("logprobs", json())), tokens);
  if (tokens.empty()) return {};
  return tokens.front();
}

}  // namespace inference::remote::openai
