// ml/rubrics.hpp — the LLM-judge suites: our rubric prompts (anchors at 1/3/5 or 0/5/10), the
// fields each reply must carry, its JSON Schema for constrained decoding, and validation.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/responses.hpp"

namespace inference::ml {

struct RubricField {
  std::string name;
  int min = 1;
  int max = 5;
};

struct Rubric {
  std::string suite;                ///< "semantic", "capability", …
  std::vector<RubricField> scores;  ///< numeric fields, all required
  std::string note_field;           ///< free-text field ("reasoning"/"notes"), optional in replies
  /// What the judge is asked; `item` supplies prompt/response/best_answer/risk_area.
  std::string prompt(const Response& item) const;
  /// The JSON Schema of a valid reply (for GenerateConfig::constraint).
  nlohmann::json schema() const;
  /// The validated reply (only the rubric's fields, scores as numbers), or an error message.
  std::optional<nlohmann::json> validate(const nlohmann::json& reply, std::string& error) const;
};

/// The rubric of a judge suite, or nullptr when `suite` is not one.
const Rubric* find_rubric(std::string_view suite);
/// The judge suite names in a fixed order.
const std::vector<std::string>& judge_suite_names();

}  // namespace inference::ml
