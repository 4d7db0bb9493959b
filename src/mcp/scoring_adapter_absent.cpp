// The scoring adapter of a build without the scoring library (src/ml): every scoring call is a
// tool error that says so, and there are no runs to report.
#include "mcp/scoring_adapter.hpp"

namespace inference::mcp {
namespace {

[[noreturn]] void absent() {
  throw ToolError(
      "scoring engine not built in: this build of infer has no scoring library (src/ml), so "
      "ml_score, ml_probe and ml_classify cannot run");
}

}  // namespace

bool scoring_engine_built_in() {
  return false;
}

nlohmann::json score_response(ModelPool&, const nlohmann::json&, CallScope&) {
  absent();
}
nlohmann::json run_probes(ModelPool&, const nlohmann::json&, CallScope&) {
  absent();
}
nlohmann::json classify_texts(ModelPool&, const nlohmann::json&, CallScope&) {
  absent();
}
nlohmann::json scoring_runs(const std::filesystem::path&) {
  return nlohmann::json::array();
}

}  // namespace inference::mcp
