// inference/tool_chat_model.hpp — an optional capability (find it with dynamic_cast, like
// those in capabilities.hpp): chat whose prompt includes function tools.
#pragma once

#include <span>
#include <string>

#include "inference/context.hpp"
#include "inference/token_stream.hpp"
#include "inference/types.hpp"

namespace inference {

/// Chat with function tools: the tools are rendered into the prompt by the model's own chat
/// template (its `tools` variable), and tool calls and results in `messages` are passed to it
/// as Hugging Face's apply_chat_template does (calls with `arguments` as an object).
class ToolChatModel {
 public:
  virtual ~ToolChatModel() = default;
  /// The Jinja source of the chat template in use (the built-in one when the model has none):
  /// callers read the model family's tool-call syntax from it. Empty when there is none.
  virtual std::string chat_template_source() const = 0;
  /// The prompt text for `messages` with `tools_json` (a JSON array of OpenAI-style tools,
  /// {"type":"function","function":{name, description, parameters}}; empty = no tools).
  /// Throws Error(invalid_argument) when the template refuses the conversation.
  virtual std::string apply_chat_template_with_tools(std::span<const Message> messages,
                                                     const std::string& tools_json,
                                                     bool add_generation_prompt = true) const = 0;
  /// Streams the assistant's reply to that prompt.
  virtual TokenStream chat_with_tools(const Context& ctx, std::span<const Message> messages,
                                      const std::string& tools_json,
                                      const GenerateConfig& config = {}) = 0;
};

}  // namespace inference
