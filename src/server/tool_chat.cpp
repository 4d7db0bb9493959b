#include "server/tool_chat.hpp"

#include <nlohmann/json.hpp>

#include "inference/tool_chat_model.hpp"
#include "server/prompt_budget.hpp"

namespace inference::server {

namespace {

// A template that knows nothing of tools (Gemma 3) still gets them, in the generic JSON form:
// the tools and the reply format go into the system turn, earlier calls become the assistant's
// JSON, and results become user turns — the roles such templates accept.
std::vector<Message> generic_tool_messages(const std::vector<Message>& messages,
                                           const std::string& tools_json, bool offer_tools) {
  std::vector<Message> out;
  size_t first = 0;
  if (offer_tools) {  // tool_choice none: only the history is rewritten
    std::string system =
        "You can call these tools (JSON Schema of their arguments):\n" + tools_json +
        "\nTo call tools, reply with only {\"tool_calls\": [{\"name\": ..., \"arguments\": "
        "{...}}]}. To answer without a tool, reply with {\"response\": \"your answer\"}. Tool "
        "results come back as {\"tool_response\": ...}.";
    if (!messages.empty() && messages[0].role == "system") {
      system = messages[0].content + "\n\n" + system;
      first = 1;
    }
    out.push_back({"system", system});
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == "assistant" && !m.tool_calls.empty()) {
      nlohmann::json calls = nlohmann::json::array();
      for (const ToolCall& c : m.tool_calls) {
        auto args = nlohmann::json::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
        calls.push_back({{"name", c.name},
                         {"arguments", args.is_discarded() ? nlohmann::json::object() : args}});
      }
      out.push_back({"assistant", nlohmann::json{{"tool_calls", calls}}.dump()});
    } else if (m.role == "tool") {
      const std::string result =
          nlohmann::json{{"tool_response", {{"name", m.name}, {"content", m.content}}}}.dump();
      // Several results answer one turn of calls: one user turn, as roles must alternate.
      if (i > first && messages[i - 1].role == "tool")
        out.back().content += "\n" + result;
      else
        out.push_back({"user", result});
    } else {
      out.push_back(m);
    }
  }
  return out;
}

bool ends_with_think(std::string_view prompt) {
  while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == ' '))
    prompt.remove_suffix(1);
  return prompt.ends_with("<think>");
}

}  // namespace

ChatPlan plan_chat(ServerState& state, std::shared_ptr<const std::vector<Message>> messages,
                   const ToolsRequest& tools, GenerateConfig& config) {
  ChatPlan plan;
  auto* tool_model = dynamic_cast<ToolChatModel*>(state.model.get());
  if (!tool_model) {
    if (!tools.tools.empty())
      throw ApiError(
          400, "tools: the " + state.info.backend + " backend cannot render tools into the prompt",
          "tools");
    plan.prompt_tokens = count_chat_tokens(state, *messages);
    TextModel* model = state.model.get();
    plan.start = [model, messages](const Context& ctx, const GenerateConfig& c) {
      return model->chat(ctx, *messages, c);
    };
    return plan;
  }

  const std::string source = tool_model->chat_template_source();
  plan.syntax.format = grammar::tool_call_format_for_template(source);
  plan.syntax.reasoning = source.find("<think>") != std::string::npos;
  std::string tools_json = tools.tools_json;
  const bool template_knows_tools = source.find("tools") != std::string::npos;
  if (plan.syntax.format == grammar::ToolCallFormat::generic && !template_knows_tools &&
      !tools.tools.empty()) {
    messages = std::make_shared<const std::vector<Message>>(
        generic_tool_messages(*messages, tools.tools_json, tools.calls_allowed()));
    tools_json.clear();
  }
  std::string rendered;
  try {
    rendered = tool_model->apply_chat_template_with_tools(*messages, tools_json);
  } catch (const Error& e) {
    throw ApiError(
        400, std::string("cannot format the messages with the model's chat template: ") + e.what(),
        "messages");
  }
  plan.syntax.starts_in_reasoning = plan.syntax.reasoning && ends_with_think(rendered);
  plan.prompt_tokens = count_rendered_chat_tokens(state, rendered);

  if (tools.calls_allowed()) {
    if (config.constraint.kind != OutputConstraint::Kind::none)
      throw ApiError(400,
                     "tools: a reply that may call tools cannot also be constrained by "
                     "response_format, grammar or json_schema (set tool_choice to none, or "
                     "leave the constraint out)",
                     "tools");
    try {
      config.constraint = {
          OutputConstraint::Kind::gbnf,
          grammar::tool_call_gbnf(plan.syntax.format, tools.tools, tools.choice, tools.parallel)};
    } catch (const Error& e) {
      throw ApiError(400, e.what(), "tools");
    }
    plan.syntax.parse_calls = true;
  }
  plan.start = [tool_model, messages, tools_json](const Context& ctx, const GenerateConfig& c) {
    return tool_model->chat_with_tools(ctx, *messages, tools_json, c);
  };
  return plan;
}

}  // namespace inference::server
