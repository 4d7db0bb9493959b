// ml_generate and ml_chat: one generation through the model pool, streamed token by token so
// that progress is reported and a cancelled call stops within one token.
#include <chrono>

#include "mcp/tools.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

// The sampling fields both tools take.
json option_properties(int32_t max_tokens_limit) {
  return {
      {"backend",
       {{"type", "string"},
        {"description",
         "Backend to load the model with (ml_backends lists them); default: the server's"}}},
      {"model",
       {{"type", "string"},
        {"description", "Model id (resources/list); default: the server's model"}}},
      {"temperature",
       {{"type", "number"},
        {"minimum", 0},
        {"maximum", 2},
        {"description", "0 = greedy (default)"}}},
      {"max_tokens",
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", max_tokens_limit},
        {"description", "Most tokens to generate (default 256)"}}},
      {"stop",
       {{"type", "array"},
        {"items", {{"type", "string"}, {"minLength", 1}}},
        {"maxItems", 8},
        {"description", "Strings that end the generation (not included)"}}},
      {"seed",
       {{"type", "integer"},
        {"minimum", 0},
        {"description", "Sampling seed (same seed, same output)"}}},
  };
}

json generation_output_schema() {
  return {
      {"type", "object"},
      {"properties",
       {{"response", {{"type", "string"}}},
        {"backend", {{"type", "string"}}},
        {"model", {{"type", "string"}}},
        {"usage",
         {{"type", "object"},
          {"properties",
           {{"prompt_tokens", {{"type", "integer"}}},
            {"completion_tokens", {{"type", "integer"}}}}},
          {"required", {"prompt_tokens", "completion_tokens"}}}},
        {"finish_reason",
         {{"type", "string"},
          {"enum",
           {"eos", "stop", "stop_token", "length", "cancelled", "deadline", "error", "none"}}}}}},
      {"required", {"response", "backend", "model", "usage", "finish_reason"}}};
}

GenerateConfig config_from(const json& args) {
  GenerateConfig config;
  config.max_tokens = args.value("max_tokens", 256);
  config.temperature = args.value("temperature", 0.0f);
  config.seed = args.value("seed", uint64_t{0});
  if (args.contains("stop")) config.stop = args["stop"].get<std::vector<std::string>>();
  return config;
}

// Pulls the stream, reporting progress (first token, then at most every 100 ms) and stopping
// at once when the call is cancelled.
json run(const ToolDeps& deps, const std::string& tool, const json& args, CallScope& scope,
         const std::vector<Message>* messages) {
  const Context& ctx = scope.context();
  ModelLease lease = deps.models->get(args.value("model", ""), args.value("backend", ""));
  GenerateConfig config = config_from(args);
  scope.log(McpLogLevel::debug, tool + ": generating with " + lease.id + " on " + lease.backend);
  TokenStream stream =
      messages ? lease.model->chat(ctx, *messages, config)
               : lease.model->generate(ctx, args.at("prompt").get<std::string>(), config);
  std::string text;
  int64_t tokens = 0;
  auto last_report = std::chrono::steady_clock::now();
  for (const Token& token : stream) {
    text += token.text;
    ++tokens;
    if (ctx.cancelled()) break;  // leaving the loop closes the stream: no further token
    auto now = std::chrono::steady_clock::now();
    if (tokens == 1 || now - last_report >= std::chrono::milliseconds(100)) {
      last_report = now;
      scope.progress(static_cast<double>(tokens), static_cast<double>(config.max_tokens),
                     std::to_string(tokens) + " tokens");
    }
  }
  GenerateMetrics metrics = stream.metrics();
  if (ctx.cancelled()) {
    throw ToolError("cancelled after " + std::to_string(tokens) + " tokens");
  }
  if (stream.err()) throw ToolError(lease.id + ": " + stream.err().to_string());
  deps.activity->record_generation(tool, lease.id, lease.backend, metrics);
  FinishReason reason = stream.finish_reason();
  if (reason == FinishReason::none) reason = FinishReason::eos;  // backends that cannot tell
  return {{"response", text},
          {"backend", lease.backend},
          {"model", lease.id},
          {"usage", {{"prompt_tokens", metrics.prompt_tokens}, {"completion_tokens", tokens}}},
          {"finish_reason", to_string(reason)}};
}

}  // namespace

Tool make_generate_tool(const ToolDeps& deps) {
  json properties = option_properties(deps.models->options().max_tokens_limit);
  properties["prompt"] = {{"type", "string"},
                          {"description", "The text to continue (with system: the user turn)"}};
  properties["system"] = {
      {"type", "string"},
      {"description",
       "System prompt; when given, the prompt is sent as a chat turn with the model's template"}};
  return {.name = "ml_generate",
          .title = "Generate text",
          .description =
              "Generate text with a local model: continues the prompt, or answers it as a "
              "chat turn when a system prompt is given.",
          .input_schema = {{"type", "object"},
                           {"properties", properties},
                           {"required", {"prompt"}},
                           {"additionalProperties", false}},
          .output_schema = generation_output_schema(),
          .read_only = true,
          .run = [deps](const json& args, CallScope& scope) {
            if (args.contains("system")) {
              std::vector<Message> messages = {
                  {.role = "system", .content = args["system"].get<std::string>()},
                  {.role = "user", .content = args["prompt"].get<std::string>()}};
              return run(deps, "ml_generate", args, scope, &messages);
            }
            return run(deps, "ml_generate", args, scope, nullptr);
          }};
}

Tool make_chat_tool(const ToolDeps& deps) {
  json properties = option_properties(deps.models->options().max_tokens_limit);
  properties["messages"] = {
      {"type", "array"},
      {"minItems", 1},
      {"items",
       {{"type", "object"},
        {"properties",
         {{"role", {{"type", "string"}, {"enum", {"system", "user", "assistant"}}}},
          {"content", {{"type", "string"}}}}},
        {"required", {"role", "content"}},
        {"additionalProperties", false}}},
      {"description", "The conversation so far; the model answers the last turn"}};
  return {
      .name = "ml_chat",
      .title = "Chat with a model",
      .description =
          "Answer a conversation with a local model, formatted with the model's own chat template.",
      .input_schema = {{"type", "object"},
                       {"properties", properties},
                       {"required", {"messages"}},
                       {"additionalProperties", false}},
      .output_schema = generation_output_schema(),
      .read_only = true,
      .run = [deps](const json& args, CallScope& scope) {
        std::vector<Message> messages;
        for (const auto& m : args["messages"]) {
          messages.push_back(
              {.role = m["role"].get<std::string>(), .content = m["content"].get<std::string>()});
        }
        return run(deps, "ml_chat", args, scope, &messages);
      }};
}

}  // namespace inference::mcp
