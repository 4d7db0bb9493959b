#include "train/cross_entropy.hpp"

#include <cmath>
#include <cstring>

#include "kernels/cpu/ops/softmax.hpp"
#include "train/simd_clones.hpp"

namespace inference::train {

namespace {

typedef int32_t IntLanes __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;

// max |row[i]| (16 lanes, then the tail).
INFERENCE_TRAIN_CLONES float max_magnitude(const float* row, int64_t n) noexcept {
  Lanes acc = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Lanes v;
    std::memcpy(&v, row + i, sizeof v);
    IntLanes bits;
    std::memcpy(&bits, &v, sizeof v);
    bits &= 0x7fffffff;
    std::memcpy(&v, &bits, sizeof v);
    acc = v > acc ? v : acc;
  }
  float amax = 0.0f;
  for (int64_t j = 0; j < kLanes; ++j) amax = acc[j] > amax ? acc[j] : amax;
  for (; i < n; ++i) amax = std::fabs(row[i]) > amax ? std::fabs(row[i]) : amax;
  return amax;
}

INFERENCE_TRAIN_CLONES void multiply(float* row, int64_t n, float factor) noexcept {
  for (int64_t i = 0; i < n; ++i) row[i] *= factor;
}

}  // namespace

CrossEntropyRow cross_entropy_row(float* row, int64_t n, int32_t target, float grad_scale,
                                  bool backward) noexcept {
  CrossEntropyRow result;
  const float target_logit = row[target];
  result.loss = kernels::softmax_row_log_sum(row, n) - static_cast<double>(target_logit);
  if (!backward) return result;
  row[target] -= 1.0f;
  // (p − onehot)·grad_scale·2^-e with 2^e ≤ its largest magnitude < 2^(e+1): one multiply by an
  // exact factor (grad_scale times a power of two).
  const float amax = max_magnitude(row, n) * grad_scale;
  if (!(amax > 0.0f) || !std::isfinite(amax)) {
    multiply(row, n, grad_scale);
    return result;
  }
  const int exponent = std::ilogb(amax);
  multiply(row, n, std::ldexp(grad_scale, -exponent));
  result.scale = std::ldexp(1.0f, exponent);
  return result;
}

}  // namespace inference::train
