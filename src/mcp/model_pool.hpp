// The models the tools use: the default one and those a call names (only models under the
// models directory, never an arbitrary path from a client), loaded on first use and kept.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inference/backend.hpp"
#include "inference/discovery.hpp"
#include "mcp/options.hpp"

namespace inference::mcp {

/// A loaded model and how the tools call it in their results.
struct ModelLease {
  std::shared_ptr<TextModel> model;
  std::string id;       ///< the model's id (resource name)
  std::string backend;  ///< the backend that loaded it
};

class ModelPool {
 public:
  explicit ModelPool(McpOptions options);

  /// The model `model_id` ("" = the default) on `backend` ("" = the default backend), loading
  /// it if needed. Throws ToolError naming the model or backend when it cannot.
  ModelLease get(const std::string& model_id, const std::string& backend);

  /// A model the server itself chose (e.g. the --judge model), loaded once by `load` and kept
  /// under `key`. Throws what `load` throws.
  std::shared_ptr<TextModel> cached(const std::string& key,
                                    const std::function<std::unique_ptr<TextModel>()>& load);

  /// Models under the models directory (and the default model), with their ids.
  struct Known {
    std::string id;
    DiscoveredModel info;
  };
  std::vector<Known> known_models() const;

  /// [{id, backend, architecture, quantization, context_length}] of the loaded models.
  nlohmann::json loaded() const;

  const McpOptions& options() const { return options_; }

 private:
  std::filesystem::path resolve(const std::string& model_id, std::string& id) const;
  McpOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, ModelLease> loaded_;  // by path + "\n" + backend
  std::map<std::string, std::shared_ptr<TextModel>> cached_;
};

/// The id of the default model: its file (or directory) name.
std::string default_model_id(const std::filesystem::path& model);

}  // namespace inference::mcp
