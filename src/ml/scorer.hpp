// ml/scorer.hpp — one scoring run: every item through the chosen suites, N items at a time,
// each finished item committed to the run store (when there is one), the summary built from
// the items in input order so a resumed run's output equals an uninterrupted one's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "inference/capabilities.hpp"
#include "inference/context.hpp"
#include "inference/text_model.hpp"
#include "ml/judge.hpp"
#include "ml/responses.hpp"

namespace inference::ml {

/// Every suite name, in the order they run and are listed.
const std::vector<std::string>& all_suite_names();
/// Parses "heuristic,exact" or "all"; throws Error(invalid_argument) naming an unknown suite.
std::vector<std::string> parse_suites(const std::string& list);

struct ScoreConfig {
  std::vector<std::string> suites = {"heuristic"};
  int concurrency = 4;
  TextModel* judge = nullptr;  ///< required by judge suites
  std::string judge_name;      ///< recorded in metadata.judge
  JudgeOptions judge_options;
  LogprobModel* scorer = nullptr;                    ///< required by perplexity and choice
  const TokenizerModel* scorer_tokenizer = nullptr;  ///< enables the sliding window
  std::string scorer_name;                           ///< model name for items that carry none
  int32_t perplexity_window = 512;
  std::string perplexity_field = "response";  ///< which text of an item perplexity scores
  /// What else makes results differ (e.g. the judge model's path): part of the run fingerprint.
  std::string config_text;
};

struct ScoreRunOptions {
  std::filesystem::path run_dir;  ///< empty: no run store
  bool restart = false;
  std::string input_fingerprint;  ///< hash of the input (Fingerprint::add_file)
  std::ostream* progress = nullptr;
  bool progress_tty = false;
};

struct ScoreOutput {
  nlohmann::json summary;
  std::vector<nlohmann::json> items;  ///< per-item results, input order
  size_t resumed = 0;                 ///< items taken from the run store
  size_t scored = 0;                  ///< items scored by this process
  double items_per_second = 0.0;
};

/// Scores one item (all chosen suites). Thread-safe.
nlohmann::json score_item(const Context& ctx, const Response& item, const ScoreConfig& config,
                          Judge* judge);

/// The whole run. Throws Error for configuration problems (a judge suite without a judge, a
/// changed run). If ctx is cancelled part-way, the finished items are kept in the store and
/// Error(cancelled) is thrown.
ScoreOutput run_score(const Context& ctx, const ResponseSet& input, const ScoreConfig& config,
                      const ScoreRunOptions& options);

}  // namespace inference::ml
