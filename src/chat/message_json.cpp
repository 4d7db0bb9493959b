#include "chat/message_json.hpp"

namespace inference::chat {

namespace {

nlohmann::ordered_json arguments_value(const std::string& arguments) {
  if (arguments.empty()) return nlohmann::ordered_json::object();
  auto parsed = nlohmann::ordered_json::parse(arguments, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) return parsed;
  return arguments;
}

}  // namespace

nlohmann::ordered_json messages_json(std::span<const Message> messages) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Message& m : messages) {
    nlohmann::ordered_json item;
    item["role"] = m.role;
    if (m.role == "tool") {
      if (!m.tool_call_id.empty()) item["tool_call_id"] = m.tool_call_id;
      if (!m.name.empty()) item["name"] = m.name;
    }
    item["content"] = m.content;
    if (!m.tool_calls.empty()) {
      nlohmann::ordered_json calls = nlohmann::ordered_json::array();
      for (const ToolCall& call : m.tool_calls) {
        nlohmann::ordered_json c;
        c["id"] = call.id;
        c["type"] = "function";
        c["function"]["name"] = call.name;
        c["function"]["arguments"] = arguments_value(call.arguments);
        calls.push_back(std::move(c));
      }
      item["tool_calls"] = std::move(calls);
    }
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace inference::chat
