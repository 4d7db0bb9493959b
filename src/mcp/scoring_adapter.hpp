// The seam between the MCP tools and the scoring library (src/ml). The tools own their
// schemas; this adapter turns checked arguments into scoring-engine calls and the engine's
// results into the tools' structured output (scoring_adapter_ml.cpp).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "mcp/model_pool.hpp"
#include "mcp/tool.hpp"

namespace inference::mcp {

/// ml_score: {prompt, response, suites[]} → {suites: {name: result}}.
nlohmann::json score_response(ModelPool& models, const nlohmann::json& args, CallScope& scope);
/// ml_probe: {backend?, model?, categories[]} → {accuracy, by_category, probes[]}.
nlohmann::json run_probes(ModelPool& models, const nlohmann::json& args, CallScope& scope);
/// ml_classify: {texts[], labels[], template?} → {results[{label, probability}]}.
nlohmann::json classify_texts(ModelPool& models, const nlohmann::json& args, CallScope& scope);
/// The scoring runs under `runs_dir` with their progress (ml_status).
nlohmann::json scoring_runs(const std::filesystem::path& runs_dir);

}  // namespace inference::mcp
