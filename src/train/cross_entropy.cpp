#include "train/cross_entropy.hpp"

#include <cmath>

#include "kernels/cpu/ops/softmax.hpp"
#include "train/fast_products.hpp"

namespace inference::train {

CrossEntropyRow cross_entropy_row(float* row, int64_t n, int32_t target, float grad_scale,
                                  bool backward) noexcept {
  CrossEntropyRow result;
  const float target_logit = row[target];
  result.loss = kernels::softmax_row_log_sum(row, n) - static_cast<double>(target_logit);
  if (!backward) return result;
  row[target] -= 1.0f;
  // (p − onehot)·grad_scale, brought to about [1, 2) for the Q8_0 backward product.
  result.scale = normalize_row(row, n, grad_scale);
  return result;
}

}  // namespace inference::train
