// ml_score, ml_probe and ml_classify: schemas here, work in the scoring library through
// scoring_adapter.hpp.
#include "mcp/scoring_adapter.hpp"
#include "mcp/tools.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

// "a,b" or ["a", "b"].
json list_or_csv(const std::string& description) {
  return {{"anyOf",
           {{{"type", "string"}},
            {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 32}}}},
          {"description", description}};
}

const json kModelChoice = {
    {"backend",
     {{"type", "string"}, {"description", "Backend (ml_backends); default: the server's"}}},
    {"model",
     {{"type", "string"},
      {"description", "Model id (resources/list); default: the server's model"}}}};

}  // namespace

Tool make_score_tool(const ToolDeps& deps) {
  json properties = {
      {"prompt", {{"type", "string"}, {"description", "The prompt the response answers"}}},
      {"response", {{"type", "string"}, {"description", "The response to score"}}},
      {"suites",
       list_or_csv("Suites to run: heuristic (default, local), exact, semantic, capability, "
                   "truthfulqa, donotanswer, toxigen (judge suites need --judge)")},
      {"correct_answer",
       {{"type", "string"}, {"description", "Expected answer for the exact suite"}}},
      {"best_answer",
       {{"type", "string"}, {"description", "Best answer for the truthfulqa suite"}}},
      {"risk_area", {{"type", "string"}, {"description", "Risk area for the donotanswer suite"}}}};
  return {
      .name = "ml_score",
      .title = "Score a response",
      .description =
          "Score one response with the scoring engine's suites: heuristic runs locally; judge "
          "suites use the server's configured judge.",
      .input_schema = {{"type", "object"},
                       {"properties", properties},
                       {"required", {"prompt", "response"}},
                       {"additionalProperties", false}},
      .output_schema = {{"type", "object"},
                        {"properties",
                         {{"suites",
                           {{"type", "object"}, {"description", "Per suite: its result object"}}}}},
                        {"required", {"suites"}}},
      .read_only = true,
      .run = [deps](const json& args, CallScope& scope) {
        return score_response(*deps.models, args, scope);
      }};
}

Tool make_probe_tool(const ToolDeps& deps) {
  json properties = kModelChoice;
  properties["categories"] =
      list_or_csv("Probe categories (math, logic, reasoning, code, word); default all");
  properties["max_tokens"] = {{"type", "integer"},
                              {"minimum", 1},
                              {"maximum", deps.models->options().max_tokens_limit},
                              {"description", "Most tokens per probe reply (default 512)"}};
  json probe = {{"type", "object"},
                {"properties",
                 {{"id", {{"type", "string"}}},
                  {"category", {{"type", "string"}}},
                  {"passed", {{"type", "boolean"}}},
                  {"reply", {{"type", "string"}}}}},
                {"required", {"id", "category", "passed"}}};
  return {.name = "ml_probe",
          .title = "Run capability probes",
          .description =
              "Run the capability probes on a model: each probe's reply and pass/fail, and "
              "accuracy overall and by category.",
          .input_schema = {{"type", "object"},
                           {"properties", properties},
                           {"additionalProperties", false}},
          .output_schema = {{"type", "object"},
                            {"properties",
                             {{"accuracy", {{"type", "number"}}},
                              {"by_category", {{"type", "object"}}},
                              {"probes", {{"type", "array"}, {"items", probe}}}}},
                            {"required", {"accuracy", "by_category", "probes"}}},
          .read_only = true,
          .run = [deps](const json& args, CallScope& scope) {
            return run_probes(*deps.models, args, scope);
          }};
}

Tool make_classify_tool(const ToolDeps& deps) {
  json properties = kModelChoice;
  properties["texts"] = {{"type", "array"},
                         {"minItems", 1},
                         {"maxItems", 256},
                         {"items", {{"type", "string"}}},
                         {"description", "Texts to classify"}};
  properties["labels"] = {{"type", "array"},
                          {"minItems", 2},
                          {"maxItems", 32},
                          {"items", {{"type", "string"}, {"minLength", 1}}},
                          {"description", "Labels (default technical, creative, ethical, casual)"}};
  properties["template"] = {
      {"type", "string"},
      {"description", "Prompt template with {text} and {labels}; default: the engine's"}};
  json result = {
      {"type", "object"},
      {"properties", {{"label", {{"type", "string"}}}, {"probability", {{"type", "number"}}}}},
      {"required", {"label", "probability"}}};
  return {.name = "ml_classify",
          .title = "Classify texts",
          .description =
              "Label each text with one of the labels by the model's next token, with the label's "
              "probability.",
          .input_schema = {{"type", "object"},
                           {"properties", properties},
                           {"required", {"texts"}},
                           {"additionalProperties", false}},
          .output_schema = {{"type", "object"},
                            {"properties", {{"results", {{"type", "array"}, {"items", result}}}}},
                            {"required", {"results"}}},
          .read_only = true,
          .run = [deps](const json& args, CallScope& scope) {
            return classify_texts(*deps.models, args, scope);
          }};
}

std::vector<Tool> make_tools(const ToolDeps& deps) {
  return {make_generate_tool(deps), make_chat_tool(deps),     make_score_tool(deps),
          make_probe_tool(deps),    make_classify_tool(deps), make_status_tool(deps),
          make_backends_tool()};
}

}  // namespace inference::mcp
