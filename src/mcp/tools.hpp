// The ml_* tools: their schemas and handlers, over the model pool and the scoring adapter.
#pragma once

#include <memory>
#include <vector>

#include "mcp/activity.hpp"
#include "mcp/model_pool.hpp"
#include "mcp/tool.hpp"

namespace inference::mcp {

/// Everything the tools share.
struct ToolDeps {
  std::shared_ptr<ModelPool> models;
  std::shared_ptr<Activity> activity;
};

/// ml_generate, ml_chat, ml_score, ml_probe, ml_classify, ml_status, ml_backends.
std::vector<Tool> make_tools(const ToolDeps& deps);

// One file per group (tools_generate.cpp, tools_info.cpp, tools_scoring.cpp).
Tool make_generate_tool(const ToolDeps& deps);
Tool make_chat_tool(const ToolDeps& deps);
Tool make_backends_tool();
Tool make_status_tool(const ToolDeps& deps);
Tool make_score_tool(const ToolDeps& deps);
Tool make_probe_tool(const ToolDeps& deps);
Tool make_classify_tool(const ToolDeps& deps);

}  // namespace inference::mcp
