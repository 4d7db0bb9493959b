// POST /v1/messages (and count_tokens) bodies, as the Anthropic Messages API documents them.
#include <limits>

#include "server/request_parsing.hpp"

namespace inference::server {

namespace {

// The system prompt: a string, or an array of {"type":"text","text":…} blocks (joined by
// newlines). Other block types are refused by name.
std::string text_blocks(const json& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array())
    throw bad_field(path, "'" + path + "' must be a string or an array of content blocks, got " +
                              type_name(value));
  std::string text;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = index_path(path, i);
    const json& block = expect_object(value[i], at);
    const auto type = get_string(block, "type", at);
    if (!type) throw bad_field(at + ".type", "'" + at + ".type' is required");
    if (*type != "text")
      throw bad_field(at + ".type", "'" + at + ".type' is '" + *type +
                                        "': only text blocks are supported by this server");
    const auto t = get_string(block, "text", at);
    if (!t) throw bad_field(at + ".text", "'" + at + ".text' is required");
    if (i > 0) text += "\n";
    text += *t;
  }
  return text;
}

}  // namespace

MessagesRequest parse_messages_request(const json& body, const ParseLimits& limits,
                                       bool count_tokens_only) {
  MessagesRequest r;
  const auto model = get_string(body, "model");
  if (!model) throw bad_field("model", "model: Field required");
  r.model = *model;
  r.tools = parse_anthropic_tools(body);
  if (const json* system = find_field(body, "system"))
    r.messages.push_back({"system", text_blocks(*system, "system")});
  const json* messages = find_field(body, "messages");
  if (!messages) throw bad_field("messages", "messages: Field required");
  expect_array(*messages, "messages");
  if (messages->empty()) throw bad_field("messages", "messages: at least one message is required");
  for (size_t i = 0; i < messages->size(); ++i) {
    const std::string at = index_path("messages", i);
    const json& m = expect_object((*messages)[i], at);
    const auto role = get_string(m, "role", at);
    if (!role) throw bad_field(at + ".role", at + ".role: Field required");
    if (*role != "user" && *role != "assistant")
      throw bad_field(at + ".role", at + ".role: '" + *role +
                                        "' is not a valid role (expected user or assistant; the "
                                        "system prompt goes in the top-level 'system' field)");
    const json* content = find_field(m, "content");
    if (!content) throw bad_field(at + ".content", at + ".content: Field required");
    append_anthropic_message(*role, *content, at, r.messages);
  }
  if (count_tokens_only) return r;

  const auto max_tokens = get_integer(body, "max_tokens", 1, std::numeric_limits<int32_t>::max());
  if (!max_tokens) throw bad_field("max_tokens", "max_tokens: Field required");
  SamplingRequest& s = r.sampling;
  s.max_tokens = *max_tokens;
  // Anthropic's documented default temperature is 1 (range 0 to 1).
  s.config.temperature =
      static_cast<float>(get_number(body, "temperature", 0.0, 1.0).value_or(1.0));
  s.config.top_p = static_cast<float>(get_number(body, "top_p", 0.0, 1.0).value_or(1.0));
  if (s.config.top_p <= 0.0f) s.config.top_p = 1e-6f;  // 0 = the most likely token only
  s.config.top_k = static_cast<int32_t>(get_integer(body, "top_k", 0, 1 << 24).value_or(0));
  if (const json* stops = find_field(body, "stop_sequences")) {
    expect_array(*stops, "stop_sequences");
    r.stop_sequences = parse_stop(body, "stop_sequences", limits);
  }
  s.config.stop = r.stop_sequences;
  s.config.adapter_scales = parse_lora_field(body, limits);  // llama-server's extension
  s.stream = get_bool(body, "stream").value_or(false);
  return r;
}

}  // namespace inference::server
