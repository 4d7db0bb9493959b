// ml/exact_match.hpp — the `exact` suite: GSM8K-style final-answer extraction and comparison.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace inference::ml {

/// The number a reply commits to: the first number after the last "####", else the last number
/// in the text; thousands separators (commas) stripped. nullopt when there is none.
std::optional<double> extract_final_number(std::string_view text);

struct ExactResult {
  bool correct = false;
  std::optional<double> extracted;  ///< the reply's number, if any
};

/// Empty replies and replies starting with "error" are wrong; otherwise correct when
/// |extracted - expected| <= 0.01 (expected read by the same rule) or the trimmed strings are
/// equal.
ExactResult exact_match(std::string_view response, std::string_view expected);

nlohmann::json to_json(const ExactResult& r, std::string_view expected);

}  // namespace inference::ml
