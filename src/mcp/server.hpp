// Assembles the MCP server `infer mcp` runs: the ml_* tools and the model resources over one
// model pool, shared by every session.
#pragma once

#include <memory>

#include "mcp/options.hpp"
#include "mcp/session.hpp"

namespace inference::mcp {

std::shared_ptr<const ServerDefinition> make_server(const McpOptions& options);

}  // namespace inference::mcp
