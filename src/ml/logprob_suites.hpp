// ml/logprob_suites.hpp — the log-probability suites over the LogprobModel capability:
// perplexity (token-weighted, sliding window like llama-perplexity) and multiple choice
// (lm-evaluation-harness acc / acc_norm).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "inference/capabilities.hpp"
#include "inference/context.hpp"

namespace inference::ml {

struct PerplexityResult {
  int64_t tokens = 0;  ///< tokens scored
  double nll = 0.0;    ///< sum of -log p over those tokens
  std::string error;   ///< non-empty when a window failed
  double perplexity() const;
};

/// Perplexity of `text`. With a tokenizer, the text is cut into windows of `window` tokens
/// that overlap by half: the first window scores all its tokens, each later one only its
/// second half, conditioned on the first (llama-perplexity's scheme), so every token is scored
/// once with at least window/2 tokens of context. Without one, the whole text is one request.
PerplexityResult perplexity(LogprobModel& model, const TokenizerModel* tokenizer,
                            const Context& ctx, std::string_view text, int32_t window);

struct ChoiceResult {
  std::vector<double> logliks;   ///< summed log-likelihood per choice
  std::vector<int64_t> lengths;  ///< bytes of each continuation (acc_norm divisor)
  int pred = -1;                 ///< argmax of logliks
  int pred_norm = -1;            ///< argmax of loglik / length
  std::string error;
};

/// The continuation scored for a choice: " " + choice (lm-eval's target delimiter) unless the
/// question already ends in whitespace.
std::string choice_continuation(std::string_view question, std::string_view choice);

/// Scores every choice as a continuation of `question` in one score_continuations() call.
ChoiceResult score_choices(LogprobModel& model, const Context& ctx, std::string_view question,
                           const std::vector<std::string>& choices);

nlohmann::json to_json(const PerplexityResult& r);
nlohmann::json to_json(const ChoiceResult& r, int answer);

}  // namespace inference::ml
