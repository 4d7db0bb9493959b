// kernels/cpu/ops/rms_norm.cpp — see rms_norm.hpp for the rounding contract; the SIMD variants
// are in ops_avx2.cpp / ops_avx512.cpp, picked through ops_table.hpp.
#include "kernels/cpu/ops/rms_norm.hpp"

#include <cmath>

#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels {

void detail::rms_norm_row_scalar(const float* x, const float* weight, float* y, int64_t n,
                                 float eps) noexcept {
  // Eight double accumulators, lane i % 8, so that 8- and 16-wide variants sum in this order.
  double lanes[8] = {};
  for (int64_t i = 0; i < n; ++i) lanes[i & 7] += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(reduce_lanes(lanes) / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void rms_norm_row(const float* x, const float* weight, float* y, int64_t n, float eps) noexcept {
  detail::active_ops_table().rms_norm_row(x, weight, y, n, eps);
}

void rms_norm_rows(float* x, int64_t stride, int64_t n_rows, const float* weight, int64_t n,
                   float eps) noexcept {
  const auto fn = detail::active_ops_table().rms_norm_row;
  for (int64_t r = 0; r < n_rows; ++r) fn(x + r * stride, weight, x + r * stride, n, eps);
}

}  // namespace inference::kernels
