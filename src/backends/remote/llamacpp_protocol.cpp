#include "backends/remote/llamacpp_protocol.hpp"

#include <cmath>

#include "inference/error.hpp"

namespace inference::remote::llamacpp {

using nlohmann::json;

json completion_request(std::string_view prompt, const GenerateConfig& c, bool stream) {
  json body = {{"prompt", std::string(prompt)},
               {"n_predict", c.max_tokens > 0 ? c.max_tokens : -1},
               {"stream", stream},
               {"return_tokens", true},
               {"cache_prompt", true},
               {"temperature", c.temperature},
               {"top_k", c.top_k},
               {"top_p", c.top_p},
               {"min_p", c.min_p},
               {"repeat_penalty", c.repeat_penalty},
               {"repeat_last_n", c.repeat_last_n},
               {"presence_penalty", c.presence_penalty},
               {"frequency_penalty", c.frequency_penalty},
               {"seed", c.seed},
               {"ignore_eos", c.ignore_eos}};
  if (!c.stop.empty()) body["stop"] = c.stop;
  if (c.logprobs > 0) body["n_probs"] = c.logprobs;
  if (!c.logit_bias.empty()) {
    json bias = json::array();
    for (const auto& b : c.logit_bias) bias.push_back({b.id, b.bias});
    body["logit_bias"] = bias;
  }
  if (!c.adapter_scales.empty()) {
    json lora = json::array();
    for (size_t i = 0; i < c.adapter_scales.size(); ++i)
      lora.push_back({{"id", i}, {"scale", c.adapter_scales[i]}});
    body["lora"] = lora;
  }
  switch (c.constraint.kind) {
    case OutputConstraint::Kind::none:
      break;
    case OutputConstraint::Kind::gbnf:
      body["grammar"] = c.constraint.source;
      break;
    case OutputConstraint::Kind::json_schema: {
      json schema = json::parse(c.constraint.source, nullptr, false);
      if (schema.is_discarded())
        throw Error(ErrorCode::invalid_argument, "constraint: the JSON Schema is not valid JSON");
      body["json_schema"] = schema;
      break;
    }
    case OutputConstraint::Kind::json:
      body["json_schema"] = json::object();
      break;
    case OutputConstraint::Kind::regex:
      throw Error(ErrorCode::unsupported, "llama-server takes no regex constraint; use gbnf");
  }
  return body;
}

namespace {

// llama.cpp reports either log-probabilities (newer: logprob/top_logprobs) or probabilities
// (older: probs with prob); both become natural-log values.
TokenLogprob alternative(const json& j) {
  TokenLogprob alt;
  alt.id = j.value("id", -1);
  alt.text = j.contains("token") ? j.value("token", "") : j.value("tok_str", "");
  if (j.contains("logprob"))
    alt.logprob = j["logprob"].get<float>();
  else if (j.contains("prob"))
    alt.logprob = std::log(std::max(j["prob"].get<float>(), 1e-30f));
  return alt;
}

}  // namespace

std::vector<Token> tokens_of(const json& chunk) {
  std::vector<Token> out;
  std::string content = chunk.value("content", "");
  std::vector<int32_t> ids;
  if (chunk.contains("tokens") && chunk["tokens"].is_array())
    for (const auto& id : chunk["tokens"]) ids.push_back(id.get<int32_t>());
  const json* probs = nullptr;
  if (chunk.contains("completion_probabilities") && chunk["completion_probabilities"].is_array())
    probs = &chunk["completion_probabilities"];
  if (ids.empty()) {
    if (!content.empty()) out.push_back({-1, content, std::nullopt, {}});
    return out;
  }
  // Several ids in one chunk (a character completed by its last token): the text goes with the
  // last id, the earlier ones carry "" so every token is still counted and checked.
  for (size_t i = 0; i < ids.size(); ++i) {
    Token t;
    t.id = ids[i];
    if (i + 1 == ids.size()) t.text = content;
    if (probs && i < probs->size()) {
      const json& p = (*probs)[i];
      if (p.contains("logprob")) t.logprob = p["logprob"].get<float>();
      const char* list = p.contains("top_logprobs") ? "top_logprobs" : "probs";
      if (p.contains(list) && p[list].is_array())
        for (const auto& alt : p[list]) t.top_logprobs.push_back(alternative(alt));
      if (!t.logprob)
        for (const auto& alt : t.top_logprobs)
          if (alt.id == t.id) t.logprob = alt.logprob;
    }
    out.push_back(std::move(t));
  }
  return out;
}

void decode_event(const net::SseEvent& event, ChunkUpdate& update) {
  json chunk = json::parse(event.data);
  if (chunk.contains("error")) {
    const auto& e = chunk["error"];
    std::string message = e.is_object() ? e.value("message", e.dump()) : e.dump();
    update.error = {ErrorCode::backend, "llama-server reported an error mid-stream: " + message};
    return;
  }
  update.usage.read_from(chunk);
  update.tokens = tokens_of(chunk);
  if (chunk.value("stop", false)) {
    update.done = true;
    std::string type = chunk.value("stop_type", "");
    if (type == "limit")
      update.finish = FinishReason::length;
    else if (type == "word")
      update.finish = FinishReason::stop;
    else
      update.finish = FinishReason::eos;
  }
}

}  // namespace inference::remote::llamacpp
