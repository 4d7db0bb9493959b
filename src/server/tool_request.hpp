// server/tool_request.hpp — the tool fields of chat requests: OpenAI `tools`, `tool_choice`,
// `parallel_tool_calls` and Anthropic `tools`, `tool_choice`, `tool_use`/`tool_result` blocks,
// checked and turned into what the grammar library and the chat template take.
//
// Pure functions over request JSON (the request fuzz target drives them). Every rejection is
// an ApiError 400 naming the field, including tool history a client got wrong (a result for a
// call that was never made, arguments that are not a JSON object): never a 500.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/tool_calls.hpp"
#include "inference/types.hpp"
#include "server/json_fields.hpp"

namespace inference::server {

/// The tools a request offers and how the model may use them.
struct ToolsRequest {
  std::vector<grammar::ToolSpec> tools;
  /// The tools as the chat template's `tools` variable: OpenAI-style
  /// [{"type":"function","function":{name, description, parameters}}] (JSON text; "" = none).
  std::string tools_json;
  grammar::ToolChoice choice;
  bool parallel = true;  ///< more than one call per reply

  /// A call may (auto) or must (required, named) be generated.
  bool calls_allowed() const {
    return !tools.empty() && choice.mode != grammar::ToolChoice::Mode::none;
  }
};

/// OpenAI `tools` (type "function" only), `tool_choice` ("none", "auto", "required",
/// {"type":"function","function":{"name"}}) and `parallel_tool_calls`.
ToolsRequest parse_openai_tools(const json& body);
/// Anthropic `tools` ({name, description, input_schema}) and `tool_choice` ({"type": "auto" |
/// "any" | "tool" | "none", "name", "disable_parallel_tool_use"}).
ToolsRequest parse_anthropic_tools(const json& body);

/// Rebuilds tools_json and the parameter schemas from the raw body so that object keys keep
/// the client's order: the template shows the schemas (tojson), and the grammar generates
/// properties in schema order. The body was already checked by the parse functions above.
void keep_client_key_order(ToolsRequest& tools, std::string_view body, bool anthropic);

/// OpenAI history: every call has a non-empty id and a JSON-object `arguments`, and every
/// `role: tool` message answers a call of an earlier assistant message. 400 naming the message.
void check_openai_tool_history(const json& messages, const std::vector<Message>& parsed);

/// One Anthropic message (role user or assistant) → chat turns: text blocks join into the
/// turn's content, `tool_use` blocks become its tool calls, each `tool_result` block a
/// `role: tool` turn (before the user's text), `thinking` blocks of earlier replies are
/// dropped (templates do not show them). `at` is "messages[i]" for error messages.
void append_anthropic_message(const std::string& role, const json& content, const std::string& at,
                              std::vector<Message>& out);

}  // namespace inference::server
