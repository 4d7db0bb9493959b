#include "backends/remote/anthropic_protocol.hpp"

#include "inference/error.hpp"

namespace inference::remote::anthropic {

using nlohmann::json;

json messages_request(const std::string& model, std::span<const Message> messages,
                      const GenerateConfig& c) {
  if (!c.stop_tokens.empty() || !c.logit_bias.empty() || c.logprobs > 0 ||
      c.constraint.kind != OutputConstraint::Kind::none || c.min_p > 0.0f ||
      c.repeat_penalty != 1.0f || c.presence_penalty != 0.0f || c.frequency_penalty != 0.0f ||
      !c.adapter_scales.empty())
    throw Error(ErrorCode::unsupported,
                "the Anthropic Messages API takes only max_tokens, temperature, top_p, top_k and "
                "stop strings");
  json list = json::array();
  std::string system;
  for (const auto& m : messages) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n") + m.content;
      continue;
    }
    list.push_back({{"role", m.role == "tool" ? "user" : m.role}, {"content", m.content}});
  }
  json body = {{"model", model},
               {"messages", list},
               {"max_tokens", c.max_tokens > 0 ? c.max_tokens : 4096},
               {"temperature", c.temperature},
               {"stream", true}};
  if (!system.empty()) body["system"] = system;
  if (c.top_p < 1.0f) body["top_p"] = c.top_p;
  if (c.top_k > 0) body["top_k"] = c.top_k;
  if (!c.stop.empty()) body["stop_sequences"] = c.stop;
  return body;
}

void decode_event(const net::SseEvent& event, ChunkUpdate& update) {
  json j = json::parse(event.data);
  std::string type = j.value("type", event.type);
  if (type == "message_start") {
    if (j.contains("message")) update.usage.read_from(j["message"]);
  } else if (type == "content_block_delta") {
    const json& delta = j.at("delta");
    if (delta.value("type", "") == "text_delta") {
      Token t;
      t.text = delta.value("text", "");
      if (!t.text.empty()) update.tokens.push_back(std::move(t));
    }
  } else if (type == "message_delta") {
    update.usage.read_from(j);
    if (j.contains("delta") && j["delta"].contains("stop_reason") &&
        j["delta"]["stop_reason"].is_string()) {
      std::string r = j["delta"]["stop_reason"].get<std::string>();
      update.finish = r == "max_tokens"      ? FinishReason::length
                      : r == "stop_sequence" ? FinishReason::stop
                                             : FinishReason::eos;
    }
  } else if (type == "message_stop") {
    update.done = true;
  } else if (type == "error") {
    std::string message = j.contains("error") ? j["error"].value("message", j.dump()) : j.dump();
    update.error = {ErrorCode::backend, "the server reported an error mid-stream: " + message};
  }
  // ping, content_block_start/stop: nothing to do.
}

}  // namespace inference::remote::anthropic
