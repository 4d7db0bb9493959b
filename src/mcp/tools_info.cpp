// ml_backends and ml_status: what the server has and is doing, from the registry, the model
// pool, the activity record and the scoring runs.
#include "inference/backend.hpp"
#include "mcp/scoring_adapter.hpp"
#include "mcp/tools.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

const json kNoArguments = {
    {"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}};

json backend_list() {
  json list = json::array();
  for (const auto& name : list_backends()) {
    auto backend = find_backend(name);
    if (!backend) continue;
    json entry{{"name", name}, {"available", backend->available()}};
    if (!backend->available()) entry["reason"] = backend->unavailable_reason();
    list.push_back(std::move(entry));
  }
  return list;
}

json default_backend_name() {
  for (const auto& name : backend_preference_order()) {
    auto backend = find_backend(name);
    if (backend && backend->available()) return name;
  }
  return nullptr;
}

json backend_item_schema() {
  return {{"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"available", {{"type", "boolean"}}},
            {"reason", {{"type", "string"}}}}},
          {"required", {"name", "available"}}};
}

}  // namespace

Tool make_backends_tool() {
  return {.name = "ml_backends",
          .title = "List backends",
          .description =
              "The inference backends linked into this server, whether each can run here (and why "
              "not), and the default.",
          .input_schema = kNoArguments,
          .output_schema = {{"type", "object"},
                            {"properties",
                             {{"backends", {{"type", "array"}, {"items", backend_item_schema()}}},
                              {"default", {{"type", {"string", "null"}}}}}},
                            {"required", {"backends", "default"}}},
          .read_only = true,
          .run = [](const json&, CallScope&) -> json {
            return {{"backends", backend_list()}, {"default", default_backend_name()}};
          }};
}

Tool make_status_tool(const ToolDeps& deps) {
  json recent_item = {
      {"type", "object"},
      {"properties",
       {{"tool", {{"type", "string"}}},
        {"model", {{"type", "string"}}},
        {"backend", {{"type", "string"}}},
        {"prompt_tokens", {{"type", "integer"}}},
        {"completion_tokens", {{"type", "integer"}}},
        {"prefill_tokens_per_second", {{"type", "number"}}},
        {"decode_tokens_per_second", {{"type", "number"}}},
        {"finish_reason", {{"type", "string"}}}}},
      {"required", {"tool", "model", "prefill_tokens_per_second", "decode_tokens_per_second"}}};
  json output = {
      {"type", "object"},
      {"properties",
       {{"models",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"id", {{"type", "string"}}},
              {"backend", {{"type", "string"}}},
              {"architecture", {{"type", "string"}}},
              {"quantization", {{"type", "string"}}},
              {"context_length", {{"type", "integer"}}}}},
            {"required", {"id", "backend"}}}}}},
        {"default_model", {{"type", {"string", "null"}}}},
        {"backends", {{"type", "array"}, {"items", backend_item_schema()}}},
        {"in_flight",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties", {{"tool", {{"type", "string"}}}, {"running_ms", {{"type", "integer"}}}}},
            {"required", {"tool", "running_ms"}}}}}},
        {"recent", {{"type", "array"}, {"items", recent_item}}},
        {"scoring",
         {{"type", "object"},
          {"properties",
           {{"built_in", {{"type", "boolean"}}},
            {"runs_dir", {{"type", {"string", "null"}}}},
            {"runs", {{"type", "array"}, {"items", {{"type", "object"}}}}}}},
          {"required", {"built_in", "runs"}}}}}},
      {"required", {"models", "backends", "in_flight", "recent", "scoring"}}};
  return {.name = "ml_status",
          .title = "Server status",
          .description =
              "Loaded models, backends, calls in flight, the speed of recent generations (prefill "
              "and decode tokens/s) and the scoring runs in the run directory with their progress.",
          .input_schema = kNoArguments,
          .output_schema = output,
          .read_only = true,
          .run = [deps](const json&, CallScope&) -> json {
            const auto& options = deps.models->options();
            json activity = deps.activity->snapshot();
            json runs_dir =
                options.runs_dir.empty() ? json(nullptr) : json(options.runs_dir.string());
            return {{"models", deps.models->loaded()},
                    {"default_model",
                     options.model.empty() ? json(nullptr) : json(default_model_id(options.model))},
                    {"backends", backend_list()},
                    {"in_flight", activity["in_flight"]},
                    {"recent", activity["recent"]},
                    {"scoring",
                     {{"built_in", true},  // always linked; kept for clients that check it
                      {"runs_dir", runs_dir},
                      {"runs", options.runs_dir.empty() ? json::array()
                                                        : scoring_runs(options.runs_dir)}}}};
          }};
}

}  // namespace inference::mcp
