// generation/logprobs.hpp — log-probabilities of a logits row, for GenerateConfig::logprobs.
//
// Log-softmax of the raw logits (before penalties and temperature), as OpenAI's logprobs
// report them; alternatives are ordered best first, ties by lower id.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace inference::generation {

struct IdLogprob {
  int32_t id = 0;
  float logprob = 0.0f;
};

class LogprobCalculator {
 public:
  explicit LogprobCalculator(int32_t n_vocab);
  /// Prepares `logits` (n_vocab floats): computes its log-sum-exp once.
  void set_row(std::span<const float> logits);
  /// log p(id) of the current row.
  float logprob(int32_t id) const;
  /// The `n` most likely ids of the current row, best first, into `out` (resized to n).
  void top(int32_t n, std::vector<IdLogprob>& out);

 private:
  std::span<const float> row_;
  double log_sum_exp_ = 0.0;
  std::vector<IdLogprob> scratch_;  // sized once; reused for every row
};

}  // namespace inference::generation
