#include "server/tool_request.hpp"

#include <set>

#include "server/request_parsing.hpp"

namespace inference::server {

namespace {

using grammar::ToolChoice;
using Ordered = nlohmann::ordered_json;

// A function name as OpenAI allows it: letters, digits, '_' and '-', at most 64 characters.
void check_name(const std::string& name, const std::string& path) {
  if (name.empty()) throw bad_field(path, "'" + path + "' must not be empty");
  if (name.size() > 64) throw bad_field(path, "'" + path + "' is longer than 64 characters");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      throw bad_field(
          path, "'" + path + "' is '" + name + "': only letters, digits, '_' and '-' are allowed");
}

void check_unique(std::set<std::string>& seen, const std::string& name, const std::string& path) {
  if (!seen.insert(name).second)
    throw bad_field(path, "'" + path + "': the tool '" + name + "' is listed twice");
}

void check_named(const ToolsRequest& r, const std::string& path) {
  if (r.choice.mode != ToolChoice::Mode::named) return;
  for (const auto& t : r.tools)
    if (t.name == r.choice.name) return;
  throw bad_field(path, "'" + path + "' names '" + r.choice.name + "', which is not in 'tools'");
}

void require_tools_for_choice(const ToolsRequest& r, const char* path) {
  if (r.tools.empty() &&
      (r.choice.mode == ToolChoice::Mode::required || r.choice.mode == ToolChoice::Mode::named))
    throw bad_field(path, std::string("'") + path + "' requires a call, but no 'tools' are given");
}

}  // namespace

ToolsRequest parse_openai_tools(const json& body) {
  ToolsRequest r;
  if (const json* functions = find_field(body, "functions");
      functions && !(functions->is_array() && functions->empty()))
    throw bad_field("functions", "'functions' is deprecated and not supported: use 'tools'");
  json template_tools = json::array();
  if (const json* tools = find_field(body, "tools")) {
    expect_array(*tools, "tools");
    std::set<std::string> seen;
    for (size_t i = 0; i < tools->size(); ++i) {
      const std::string at = index_path("tools", i);
      const json& tool = expect_object((*tools)[i], at);
      const auto type = get_string(tool, "type", at);
      if (!type) throw bad_field(at + ".type", "'" + at + ".type' is required");
      if (*type != "function")
        throw bad_field(at + ".type",
                        "'" + at + ".type' is '" + *type + "': only function tools are supported");
      const json* fn = find_field(tool, "function");
      if (!fn) throw bad_field(at + ".function", "'" + at + ".function' is required");
      expect_object(*fn, at + ".function");
      grammar::ToolSpec spec;
      const auto name = get_string(*fn, "name", at + ".function");
      if (!name) throw bad_field(at + ".function.name", "'" + at + ".function.name' is required");
      check_name(*name, at + ".function.name");
      check_unique(seen, *name, at + ".function.name");
      spec.name = *name;
      spec.description = get_string(*fn, "description", at + ".function").value_or("");
      if (const json* params = find_field(*fn, "parameters")) {
        expect_object(*params, at + ".function.parameters");
        spec.parameters = params->dump();
      }
      r.tools.push_back(std::move(spec));
      template_tools.push_back({{"type", "function"}, {"function", *fn}});
    }
  }
  if (!r.tools.empty()) r.tools_json = template_tools.dump();
  r.choice.mode = r.tools.empty() ? ToolChoice::Mode::none : ToolChoice::Mode::automatic;
  if (const json* choice = find_field(body, "tool_choice")) {
    if (choice->is_string()) {
      const std::string& c = choice->get_ref<const std::string&>();
      if (c == "none") {
        r.choice.mode = ToolChoice::Mode::none;
      } else if (c == "auto") {
        r.choice.mode = r.tools.empty() ? ToolChoice::Mode::none : ToolChoice::Mode::automatic;
      } else if (c == "required") {
        r.choice.mode = ToolChoice::Mode::required;
      } else {
        throw bad_field("tool_choice", "'tool_choice' is '" + c +
                                           "': expected none, auto, required or a function");
      }
    } else if (choice->is_object()) {
      const auto type = get_string(*choice, "type", "tool_choice");
      if (type != "function")
        throw bad_field("tool_choice.type", "'tool_choice.type' must be 'function'");
      const json* fn = find_field(*choice, "function");
      if (!fn) throw bad_field("tool_choice.function", "'tool_choice.function' is required");
      expect_object(*fn, "tool_choice.function");
      const auto name = get_string(*fn, "name", "tool_choice.function");
      if (!name)
        throw bad_field("tool_choice.function.name", "'tool_choice.function.name' is required");
      r.choice = {ToolChoice::Mode::named, *name};
      check_named(r, "tool_choice.function.name");
    } else {
      throw bad_field("tool_choice",
                      "'tool_choice' must be a string or an object, got " + type_name(*choice));
    }
  }
  require_tools_for_choice(r, "tool_choice");
  r.parallel = get_bool(body, "parallel_tool_calls").value_or(true);
  return r;
}

ToolsRequest parse_anthropic_tools(const json& body) {
  ToolsRequest r;
  json template_tools = json::array();
  if (const json* tools = find_field(body, "tools")) {
    expect_array(*tools, "tools");
    std::set<std::string> seen;
    for (size_t i = 0; i < tools->size(); ++i) {
      const std::string at = index_path("tools", i);
      const json& tool = expect_object((*tools)[i], at);
      if (const auto type = get_string(tool, "type", at); type && *type != "custom")
        throw bad_field(at + ".type", at + ".type: '" + *type +
                                          "' server tools are not supported; give custom tools "
                                          "with an input_schema");
      grammar::ToolSpec spec;
      const auto name = get_string(tool, "name", at);
      if (!name) throw bad_field(at + ".name", at + ".name: Field required");
      check_name(*name, at + ".name");
      check_unique(seen, *name, at + ".name");
      spec.name = *name;
      spec.description = get_string(tool, "description", at).value_or("");
      const json* schema = find_field(tool, "input_schema");
      if (!schema) throw bad_field(at + ".input_schema", at + ".input_schema: Field required");
      expect_object(*schema, at + ".input_schema");
      spec.parameters = schema->dump();
      r.tools.push_back(std::move(spec));
      template_tools.push_back({{"type", "function"},
                                {"function",
                                 {{"name", *name},
                                  {"description", r.tools.back().description},
                                  {"parameters", *schema}}}});
    }
  }
  if (!r.tools.empty()) r.tools_json = template_tools.dump();
  r.choice.mode = r.tools.empty() ? ToolChoice::Mode::none : ToolChoice::Mode::automatic;
  if (const json* choice = find_field(body, "tool_choice")) {
    expect_object(*choice, "tool_choice");
    const auto type = get_string(*choice, "type", "tool_choice");
    if (!type) throw bad_field("tool_choice.type", "tool_choice.type: Field required");
    if (*type == "auto") {
    } else if (*type == "none") {
      r.choice.mode = ToolChoice::Mode::none;
    } else if (*type == "any") {
      r.choice.mode = ToolChoice::Mode::required;
    } else if (*type == "tool") {
      const auto name = get_string(*choice, "name", "tool_choice");
      if (!name) throw bad_field("tool_choice.name", "tool_choice.name: Field required");
      r.choice = {ToolChoice::Mode::named, *name};
      check_named(r, "tool_choice.name");
    } else {
      throw bad_field("tool_choice.type",
                      "tool_choice.type: '" + *type + "' is not one of auto, any, tool, none");
    }
    if (get_bool(*choice, "disable_parallel_tool_use", "tool_choice").value_or(false))
      r.parallel = false;
  }
  require_tools_for_choice(r, "tool_choice");
  return r;
}

void keep_client_key_order(ToolsRequest& tools, std::string_view body, bool anthropic) {
  if (tools.tools.empty()) return;
  const Ordered parsed = Ordered::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("tools") || !parsed["tools"].is_array() ||
      parsed["tools"].size() != tools.tools.size())
    return;  // cannot happen for a body the parser accepted; keep the sorted form
  Ordered list = Ordered::array();
  for (size_t i = 0; i < tools.tools.size(); ++i) {
    const Ordered& tool = parsed["tools"][i];
    Ordered fn;
    if (anthropic) {
      fn["name"] = tool.value("name", "");
      if (tool.contains("description") && tool["description"].is_string())
        fn["description"] = tool["description"];
      fn["parameters"] = tool.value("input_schema", Ordered::object());
    } else {
      fn = tool.value("function", Ordered::object());
    }
    if (fn.contains("parameters") && fn["parameters"].is_object())
      tools.tools[i].parameters = fn["parameters"].dump();
    list.push_back({{"type", "function"}, {"function", std::move(fn)}});
  }
  tools.tools_json = list.dump();
}

void check_openai_tool_history(const json& messages, const std::vector<Message>& parsed) {
  std::set<std::string> call_ids;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const Message& m = parsed[i];
    const std::string at = index_path("messages", i);
    for (size_t j = 0; j < m.tool_calls.size(); ++j) {
      const ToolCall& call = m.tool_calls[j];
      const std::string cp = index_path(at + ".tool_calls", j);
      if (call.id.empty()) throw bad_field(cp + ".id", "'" + cp + ".id' is required");
      call_ids.insert(call.id);
      const json* fn = find_field(messages[i].at("tool_calls")[j], "function");
      const json* args = fn ? find_field(*fn, "arguments") : nullptr;
      const bool object = args && (args->is_object() || (args->is_string() && [&] {
                                     auto v = json::parse(args->get<std::string>(), nullptr,
                                                          /*allow_exceptions=*/false);
                                     return v.is_object();
                                   }()));
      if (!object)
        throw bad_field(
            cp + ".function.arguments",
            "'" + cp + ".function.arguments' must be a JSON object serialised as a string");
    }
    if (m.role != "tool") continue;
    if (m.tool_call_id.empty())
      throw bad_field(at + ".tool_call_id",
                      "'" + at + ".tool_call_id' is required on tool messages");
    if (!call_ids.count(m.tool_call_id))
      throw bad_field(at + ".tool_call_id", "'" + at + ".tool_call_id' is '" + m.tool_call_id +
                                                "': no earlier assistant message made that call");
  }
}

void append_anthropic_message(const std::string& role, const json& content, const std::string& at,
                              std::vector<Message>& out) {
  Message turn{role, {}};
  if (content.is_string()) {
    turn.content = content.get<std::string>();
    out.push_back(std::move(turn));
    return;
  }
  if (!content.is_array())
    throw bad_field(at + ".content", at +
                                         ".content: must be a string or an array of content "
                                         "blocks, got " +
                                         type_name(content));
  // Results answer calls of earlier assistant turns; their names come from those calls.
  auto called_name = [&](const std::string& id) -> const std::string* {
    for (auto m = out.rbegin(); m != out.rend(); ++m)
      for (const ToolCall& c : m->tool_calls)
        if (c.id == id) return &c.name;
    return nullptr;
  };
  std::vector<Message> results;
  bool text_seen = false;
  for (size_t j = 0; j < content.size(); ++j) {
    const std::string bp = index_path(at + ".content", j);
    const json& block = expect_object(content[j], bp);
    const auto type = get_string(block, "type", bp);
    if (!type) throw bad_field(bp + ".type", bp + ".type: Field required");
    if (*type == "text") {
      const auto text = get_string(block, "text", bp);
      if (!text) throw bad_field(bp + ".text", bp + ".text: Field required");
      if (text_seen) turn.content += "\n";
      turn.content += *text;
      text_seen = true;
    } else if (*type == "thinking" || *type == "redacted_thinking") {
      if (role != "assistant")
        throw bad_field(bp + ".type", bp + ".type: thinking blocks belong to assistant messages");
    } else if (*type == "tool_use") {
      if (role != "assistant")
        throw bad_field(bp + ".type", bp + ".type: tool_use blocks belong to assistant messages");
      ToolCall call;
      const auto id = get_string(block, "id", bp);
      if (!id || id->empty()) throw bad_field(bp + ".id", bp + ".id: Field required");
      const auto name = get_string(block, "name", bp);
      if (!name || name->empty()) throw bad_field(bp + ".name", bp + ".name: Field required");
      const json* input = find_field(block, "input");
      if (!input || !input->is_object())
        throw bad_field(bp + ".input", bp + ".input: must be an object");
      call.id = *id;
      call.name = *name;
      call.arguments = input->dump();
      turn.tool_calls.push_back(std::move(call));
    } else if (*type == "tool_result") {
      if (role != "user")
        throw bad_field(bp + ".type", bp + ".type: tool_result blocks belong to user messages");
      const auto id = get_string(block, "tool_use_id", bp);
      if (!id || id->empty())
        throw bad_field(bp + ".tool_use_id", bp + ".tool_use_id: Field required");
      const std::string* name = called_name(*id);
      if (!name)
        throw bad_field(bp + ".tool_use_id", bp + ".tool_use_id: '" + *id +
                                                 "' does not match a tool_use block of an "
                                                 "earlier assistant message");
      Message result{"tool", {}};
      result.tool_call_id = *id;
      result.name = *name;
      if (const json* c = find_field(block, "content")) {
        if (c->is_string()) {
          result.content = c->get<std::string>();
        } else if (c->is_array()) {
          for (size_t k = 0; k < c->size(); ++k) {
            const std::string cp = index_path(bp + ".content", k);
            const json& part = expect_object((*c)[k], cp);
            if (get_string(part, "type", cp) != "text")
              throw bad_field(cp + ".type", cp + ".type: only text is supported in tool results");
            const auto text = get_string(part, "text", cp);
            if (!text) throw bad_field(cp + ".text", cp + ".text: Field required");
            if (k > 0) result.content += "\n";
            result.content += *text;
          }
        } else {
          throw bad_field(bp + ".content",
                          bp + ".content: must be a string or an array of text blocks");
        }
      }
      if (get_bool(block, "is_error", bp).value_or(false))
        result.content = "Error: " + result.content;
      results.push_back(std::move(result));
    } else {
      throw bad_field(bp + ".type", bp + ".type: '" + *type +
                                        "' blocks are not supported by this server (text, "
                                        "tool_use, tool_result and thinking are)");
    }
  }
  for (Message& r : results) out.push_back(std::move(r));
  // A user turn of nothing but tool results adds no empty user message.
  if (text_seen || !turn.tool_calls.empty() || results.empty()) out.push_back(std::move(turn));
}

}  // namespace inference::server
