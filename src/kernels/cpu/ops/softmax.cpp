// kernels/cpu/ops/softmax.cpp — see softmax.hpp; SIMD variants of softmax_row in ops_avx2.cpp
// / ops_avx512.cpp.
#include "kernels/cpu/ops/softmax.hpp"

#include <cmath>
#include <limits>

#include "kernels/cpu/ops/fast_exp.hpp"
#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels {

double detail::softmax_row_scalar(float* x, int64_t n) noexcept {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == -std::numeric_limits<float>::infinity()) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return max;
  }
  double lanes[8] = {};
  for (int64_t i = 0; i < n; ++i) {
    const float e = exp_approx(x[i] - max);
    lanes[i & 7] += static_cast<double>(e);
    x[i] = e;
  }
  const double sum = reduce_lanes(lanes);
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
  return static_cast<double>(max) + std::log(sum);
}

void softmax_row(float* x, int64_t n) noexcept {
  detail::active_ops_table().softmax_row(x, n);
}

double softmax_row_log_sum(float* x, int64_t n) noexcept {
  return detail::active_ops_table().softmax_row(x, n);
}

void log_softmax_row(const float* x, float* out, int64_t n) noexcept {
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  const double log_sum = max + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(x[i]) - log_sum);
}

}  // namespace inference::kernels
