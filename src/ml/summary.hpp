// ml/summary.hpp — the score summary and `score compare`.
//
// Summary: {metadata{judge, suites, scored_at, version}, model_averages{model:{metric:mean}},
// per_prompt{model:[item…]}}. A metric is "suite.field" (e.g. "heuristic.lek_score",
// "semantic.sovereignty", "exact.correct" as 0/1, "choice.acc"); an item that lacks a field (a
// judge error, an item without correct_answer) is left out of that mean, never counted as 0.
// Perplexity is token-weighted over the model's items: exp(Σnll / Σtokens).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace inference::ml {

/// `items` are per-item results {id, model, <suite>: {…}, <suite>_error: "…"} in input order.
nlohmann::json build_summary(const std::vector<nlohmann::json>& items, nlohmann::json metadata);

/// {model: {metric: {old, new, delta}}} over the union of both summaries' models and metrics;
/// a side that lacks a value has null there and delta is null.
nlohmann::json compare_summaries(const nlohmann::json& old_summary,
                                 const nlohmann::json& new_summary);

/// The comparison as an aligned text table.
std::string format_comparison(const nlohmann::json& comparison);

}  // namespace inference::ml
