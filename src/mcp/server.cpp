#include "mcp/server.hpp"

#include "inference/version.hpp"
#include "mcp/model_resources.hpp"
#include "mcp/tools.hpp"

namespace inference::mcp {

std::shared_ptr<const ServerDefinition> make_server(const McpOptions& options) {
  auto definition = std::make_shared<ServerDefinition>();
  auto models = std::make_shared<ModelPool>(options);
  definition->version = std::string(version());
  definition->instructions =
      "Local LLM inference. ml_generate/ml_chat run a local model (resources/list shows the "
      "models; ml_backends the backends); ml_score, ml_probe and ml_classify use the scoring "
      "engine; ml_status shows what runs and how fast.";
  definition->tools = make_tools({models, definition->activity});
  definition->resources = std::make_shared<ModelResources>(models);
  return definition;
}

}  // namespace inference::mcp
