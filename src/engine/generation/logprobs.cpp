#include "engine/generation/logprobs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace inference::generation {

LogprobCalculator::LogprobCalculator(int32_t n_vocab)
    : scratch_(static_cast<size_t>(std::max(n_vocab, 0))) {}

void LogprobCalculator::set_row(std::span<const float> logits) {
  row_ = logits;
  float max_logit = -std::numeric_limits<float>::infinity();
  for (float l : logits) max_logit = std::max(max_logit, l);
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  log_sum_exp_ = static_cast<double>(max_logit) + std::log(sum);
}

float LogprobCalculator::logprob(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= row_.size())
    return -std::numeric_limits<float>::infinity();
  return static_cast<float>(static_cast<double>(row_[static_cast<size_t>(id)]) - log_sum_exp_);
}

void LogprobCalculator::top(int32_t n, std::vector<IdLogprob>& out) {
  const size_t count = std::min(static_cast<size_t>(std::max(n, 0)), row_.size());
  out.resize(count);
  if (count == 0) return;
  const size_t size = std::min(row_.size(), scratch_.size());
  for (size_t i = 0; i < size; ++i) scratch_[i] = {static_cast<int32_t>(i), row_[i]};
  auto better = [](const IdLogprob& a, const IdLogprob& b) {
    return a.logprob > b.logprob || (a.logprob == b.logprob && a.id < b.id);
  };
  std::partial_sort(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(count),
                    scratch_.begin() + static_cast<std::ptrdiff_t>(size), better);
  for (size_t i = 0; i < count; ++i) out[i] = {scratch_[i].id, logprob(scratch_[i].id)};
}

}  // namespace inference::generation
