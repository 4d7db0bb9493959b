// ml/judge.hpp — asking a judge model (any TextModel: native, http, llama_server) to score one
// item against a rubric, with robust JSON extraction, one reminder retry and constrained
// decoding where the backend offers it.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "inference/context.hpp"
#include "inference/text_model.hpp"
#include "ml/rubrics.hpp"

namespace inference::ml {

struct JudgeOptions {
  int32_t max_tokens = 512;
  bool use_constraint = true;  ///< ask for the rubric's JSON Schema (dropped if unsupported)
};

/// The outcome for one item: the validated scores, or an error (the run goes on).
struct JudgeOutcome {
  std::optional<nlohmann::json> scores;
  std::string error;
  int attempts = 0;  ///< judge calls made (1 or 2; more only for the constraint fallback)
};

class Judge {
 public:
  Judge(TextModel& model, JudgeOptions options = {});
  /// Thread-safe: many workers may judge at once (the backend serialises or batches them).
  JudgeOutcome judge(const Context& ctx, const Rubric& rubric, const Response& item);
  /// Whether constrained decoding is still in use (false after the backend said unsupported).
  bool constrained() const { return use_constraint_.load(); }

 private:
  // One chat call; returns the reply text, or false with `error` set.
  bool ask(const Context& ctx, const Rubric& rubric, const std::vector<Message>& messages,
           std::string& reply, std::string& error, int& attempts);
  TextModel& model_;
  JudgeOptions options_;
  std::atomic<bool> use_constraint_;
};

}  // namespace inference::ml
