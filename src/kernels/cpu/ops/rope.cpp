// kernels/cpu/ops/rope.cpp — see rope.hpp; SIMD variants of rope_apply in ops_avx2.cpp /
// ops_avx512.cpp.
#include "kernels/cpu/ops/rope.hpp"

#include <cmath>

#include "kernels/cpu/ops/ops_table.hpp"

namespace inference::kernels {

// Once per token (not per head) and sequential in theta, so it stays scalar everywhere.
void rope_angles(const RopeConfig& config, int32_t pos, float* cos_sin) noexcept {
  const float theta_scale = std::pow(config.freq_base, -2.0f / static_cast<float>(config.n_dims));
  float theta = static_cast<float>(pos);
  for (int32_t i = 0; i < config.n_dims / 2; ++i) {
    const float factor = config.freq_factors != nullptr ? config.freq_factors[i] : 1.0f;
    const float angle = config.freq_scale * (theta / factor);
    cos_sin[2 * i] = std::cos(angle);
    cos_sin[2 * i + 1] = std::sin(angle);
    theta *= theta_scale;
  }
}

void detail::rope_apply_scalar(const RopeConfig& config, const float* cos_sin, float* x,
                               int32_t n_heads, int32_t head_dim) noexcept {
  const int32_t half = config.n_dims / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int32_t i = 0; i < half; ++i) {
      const float c = cos_sin[2 * i];
      const float s = cos_sin[2 * i + 1];
      // Normal mode rotates adjacent pairs; NeoX pairs element i with element i + n_dims/2.
      const int32_t a = config.neox ? i : 2 * i;
      const int32_t b = config.neox ? i + half : 2 * i + 1;
      const float x0 = v[a];
      const float x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

void rope_apply(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                int32_t head_dim) noexcept {
  detail::active_ops_table().rope_apply(config, cos_sin, x, n_heads, head_dim);
}

}  // namespace inference::kernels
