// ml/heuristic.hpp — the `heuristic` suite: eight integer sub-scores of a response and the
// composite lek_score, no model needed. The formula is fixed (docs/scoring.md); the word lists
// are ours and documented there.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace inference::ml {

struct HeuristicScores {
  int compliance_markers = 0;
  int formulaic_preamble = 0;
  int first_person = 0;
  int creative_form = 0;
  int engagement_depth = 0;
  int emotional_register = 0;
  int degeneration = 0;
  int empty_broken = 0;
  double lek_score = 0.0;
};

/// Scores one response. Thread-safe; no allocation proportional to anything but the text.
HeuristicScores score_heuristic(std::string_view response);

/// lek_score from the sub-scores (the fixed formula), exposed for tests and docs.
double lek_score(const HeuristicScores& s);

nlohmann::json to_json(const HeuristicScores& s);

}  // namespace inference::ml
