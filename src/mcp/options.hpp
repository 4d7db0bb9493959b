// How `infer mcp` was started: the default model and backend, where models and scoring runs
// live, and the judge for the judge suites. Shared by the tools and the resources.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "inference/types.hpp"

namespace inference::mcp {

struct McpOptions {
  std::filesystem::path model;        ///< default model ("" = none; then `model` is required)
  std::string backend;                ///< default backend ("" = default_backend())
  LoadConfig load;                    ///< threads, context length, … for every load
  std::filesystem::path models_dir;   ///< models a call may name, listed as resources
  std::filesystem::path runs_dir;     ///< where scoring runs live (ml_status reports them)
  std::string judge;                  ///< judge model (path or URL) for the judge suites
  int32_t max_tokens_limit = 4096;    ///< the largest max_tokens a call may ask for
  std::size_t max_loaded_models = 4;  ///< models kept loaded at once
};

}  // namespace inference::mcp
