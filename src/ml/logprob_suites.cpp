#include "ml/logprob_suites.hpp"

#include <algorithm>
#include <cmath>

namespace inference::ml {

double PerplexityResult::perplexity() const {
  return tokens > 0 ? std::exp(nll / static_cast<double>(tokens)) : 0.0;
}

PerplexityResult perplexity(LogprobModel& model, const TokenizerModel* tokenizer,
                            const Context& ctx, std::string_view text, int32_t window) {
  PerplexityResult result;
  std::vector<ScoreRequest> requests;
  if (!tokenizer || window < 2) {
    requests.push_back({"", std::string(text)});
  } else {
    const std::vector<int32_t> ids = tokenizer->encode(text, /*add_special=*/false);
    const size_t w = static_cast<size_t>(window) - 1;  // one position for BOS
    const size_t stride = std::max<size_t>(1, w / 2);
    auto piece = [&](size_t b, size_t e) {
      return tokenizer->decode(std::span<const int32_t>(ids).subspan(b, e - b));
    };
    if (ids.size() <= w) {
      requests.push_back({"", std::string(text)});
    } else {
      requests.push_back({"", piece(0, w)});
      // Each later window: [end - w, end), scoring only the tokens after the previous end.
      for (size_t done = w; done < ids.size(); done += stride) {
        const size_t end = std::min(ids.size(), done + stride);
        const size_t begin = end - w;
        requests.push_back({piece(begin, done), piece(done, end)});
      }
    }
  }
  std::vector<ContinuationScore> scores;
  try {
    scores = model.score_continuations(ctx, requests);
  } catch (const std::exception& e) {
    result.error = e.what();
    return result;
  }
  for (const auto& s : scores) {
    if (!s.status.ok()) {
      result.error = s.status.to_string();
      continue;
    }
    result.tokens += static_cast<int64_t>(s.logprobs.size());
    result.nll -= s.total;
  }
  return result;
}

std::string choice_continuation(std::string_view question, std::string_view choice) {
  const bool spaced = !question.empty() && (question.back() == ' ' || question.back() == '\n');
  return (spaced ? "" : " ") + std::string(choice);
}

ChoiceResult score_choices(LogprobModel& model, const Context& ctx, std::string_view question,
                           const std::vector<std::string>& choices) {
  ChoiceResult r;
  std::vector<ScoreRequest> requests;
  for (const auto& c : choices)
    requests.push_back({std::string(question), choice_continuation(question, c)});
  std::vector<ContinuationScore> scores;
  try {
    scores = model.score_continuations(ctx, requests);
  } catch (const std::exception& e) {
    r.error = e.what();
    return r;
  }
  double best = -INFINITY, best_norm = -INFINITY;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!scores[i].status.ok()) {
      r.error = "choice " + std::to_string(i) + ": " + scores[i].status.to_string();
      r.logliks.clear();
      r.pred = r.pred_norm = -1;
      return r;
    }
    const double ll = scores[i].total;
    // lm-eval normalises by the continuation's length in characters (bytes here).
    const auto len = std::max<int64_t>(1, static_cast<int64_t>(requests[i].continuation.size()));
    r.logliks.push_back(ll);
    r.lengths.push_back(len);
    if (ll > best) {
      best = ll;
      r.pred = static_cast<int>(i);
    }
    if (ll / static_cast<double>(len) > best_norm) {
      best_norm = ll / static_cast<double>(len);
      r.pred_norm = static_cast<int>(i);
    }
  }
  return r;
}

nlohmann::json to_json(const PerplexityResult& r) {
  if (!r.error.empty() && r.tokens == 0) return {{"error", r.error}};
  nlohmann::json j = {{"tokens", r.tokens}, {"nll", r.nll}, {"perplexity", r.perplexity()}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

nlohmann::json to_json(const ChoiceResult& r, int answer) {
  if (!r.error.empty()) return {{"error", r.error}};
  return {{"logliks", r.logliks},
          {"pred", r.pred},
          {"pred_norm", r.pred_norm},
          {"answer", answer},
          {"acc", r.pred == answer ? 1 : 0},
          {"acc_norm", r.pred_norm == answer ? 1 : 0}};
}

}  // namespace inference::ml
