#include "server/tool_chat.hpp"

#include "inference/tool_chat_model.hpp"
#include "server/prompt_budget.hpp"

namespace inference::server {

namespace {

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
  std::string rendered;
  try {
    rendered = tool_model->apply_chat_template_with_tools(*messages, tools.tools_json);
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
  plan.start = [tool_model, messages, tools_json = tools.tools_json](const Context& ctx,
                                                                     const GenerateConfig& c) {
    return tool_model->chat_with_tools(ctx, *messages, tools_json, c);
  };
  return plan;
}

}  // namespace inference::server
