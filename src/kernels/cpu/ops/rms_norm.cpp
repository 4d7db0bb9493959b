// kernels/cpu/ops/rms_norm.cpp — see rms_norm.hpp for the rounding contract.
#include "kernels/cpu/ops/rms_norm.hpp"

#include <cmath>

namespace inference::kernels {

void rms_norm_row(const float* x, const float* weight, float* y, int64_t n, float eps) noexcept {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void rms_norm_rows(float* x, int64_t stride, int64_t n_rows, const float* weight, int64_t n,
                   float eps) noexcept {
  for (int64_t r = 0; r < n_rows; ++r) rms_norm_row(x + r * stride, weight, x + r * stride, n, eps);
}

}  // namespace inference::kernels
