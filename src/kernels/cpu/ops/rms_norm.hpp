// kernels/cpu/ops/rms_norm.hpp — RMS normalisation of activation rows.
//
// Rounding follows the reference's CPU path (ggml_compute_forward_rms_norm_f32 + ggml_mul):
// the sum of squares accumulates in double (in 8 interleaved lanes, see ops_table.hpp: a
// reassociation far below float rounding), the mean and the scale are float, and the row is
// first scaled and then multiplied by the weight, as two separate roundings.
#pragma once

#include <cstdint>

namespace inference::kernels {

/// y = (x * 1/sqrt(mean(x^2) + eps)) * weight, for one row of n elements. weight may be null
/// (plain normalisation). x and y may alias.
void rms_norm_row(const float* x, const float* weight, float* y, int64_t n, float eps) noexcept;

/// Applies rms_norm_row to `n_rows` rows of `n` elements, `stride` floats apart (in place).
void rms_norm_rows(float* x, int64_t stride, int64_t n_rows, const float* weight, int64_t n,
                   float eps) noexcept;

}  // namespace inference::kernels
