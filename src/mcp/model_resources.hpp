// The models the server can see, as read-only MCP resources (model://ID): name, architecture,
// size and quantisation, from file headers (inference::discover), never the weights.
#pragma once

#include <memory>

#include "mcp/model_pool.hpp"
#include "mcp/session.hpp"

namespace inference::mcp {

class ModelResources : public ResourceProvider {
 public:
  explicit ModelResources(std::shared_ptr<ModelPool> models) : models_(std::move(models)) {}
  json list() override;
  json read(const std::string& uri) override;

  /// "model://" + the id, percent-encoded except for unreserved characters and '/'.
  static std::string uri_of(const std::string& id);

 private:
  std::shared_ptr<ModelPool> models_;
};

}  // namespace inference::mcp
