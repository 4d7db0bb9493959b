// kernels/cpu/ops/rope.hpp — rotary position embedding, "normal" (adjacent pairs) and NeoX
// (split halves) modes, with optional per-frequency factors (Llama 3 `rope_freqs`).
//
// Angle of pair i at position p: p * freq_scale * base^(-2i/n_dims) / factor[i]. As in the
// reference's CPU kernel, base^(-2i/n_dims) is built by repeated float multiplication with
// base^(-2/n_dims) rather than by pow per pair, so angles round the same way.
#pragma once

#include <cstdint>

namespace inference::kernels {

struct RopeConfig {
  int32_t n_dims = 0;  ///< rotated dimensions (<= head_dim, even)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;              ///< 1 / linear scaling factor
  const float* freq_factors = nullptr;  ///< n_dims/2 divisors of the angle, or null
  bool neox = false;                    ///< pairs (i, i + n_dims/2) instead of (2i, 2i+1)
};

/// Fills cos_sin[2*i] = cos(angle_i), cos_sin[2*i+1] = sin(angle_i) for i < n_dims/2.
void rope_angles(const RopeConfig& config, int32_t pos, float* cos_sin) noexcept;

/// Rotates `n_heads` heads of `head_dim` floats (contiguous) in place with precomputed angles.
/// Dimensions at and beyond n_dims are left unchanged.
void rope_apply(const RopeConfig& config, const float* cos_sin, float* x, int32_t n_heads,
                int32_t head_dim) noexcept;

}  // namespace inference::kernels
