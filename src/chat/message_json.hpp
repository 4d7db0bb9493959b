// chat/message_json.hpp — a conversation as the variables a Hugging Face chat template expects.
//
// Templates are written against transformers' apply_chat_template, where an assistant turn's
// tool calls are {id, type: "function", function: {name, arguments}} with `arguments` a mapping
// (templates `tojson` it), and a tool result is {role: "tool", tool_call_id, name, content}.
// Object keys keep their order (ordered_json): templates show them with tojson, as Python
// dicts keep insertion order.
#pragma once

#include <nlohmann/json.hpp>
#include <span>

#include "inference/types.hpp"

namespace inference::chat {

/// The `messages` variable for `messages`. Call arguments that are a JSON object text become
/// that object; any other text stays a string (the template decides what to do with it).
nlohmann::ordered_json messages_json(std::span<const Message> messages);

}  // namespace inference::chat
