// kernels/cpu/gemv_kernel.hpp — the interface of the row-vector kernels (decode matmuls of the
// 32-element formats with an offset: Q8_0, Q5_0, Q4_0).
//
// Decode streams every weight once per token, so the kernel must cost less per byte than memory
// delivers. The dot-product kernels spend most of their work per block on making signed × signed
// products fit the unsigned × signed instruction (abs, sign transfer) and on per-block scale
// conversions. Here the weights are read as unsigned quants q with weight = d * q - k * d
// (k = 128, 16, 8), so Σ w·a = Σ_b d_b·a_scale_b·Σ q·a_q  -  k · Σ_b d_b·(a_scale_b·Σ a_q): the
// first term is one vpdpbusd per 32 elements, the second a 16-wide dot product of the weight
// scales with the activation's per-block sums, computed once per token (activation_sums.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace inference::kernels::detail {

/// A few tokens' activations for the row-vector kernels.
struct GemvActivations {
  const int8_t* quants = nullptr;  ///< token t: quants + t * cols (contiguous, no block headers)
  const float* scale = nullptr;    ///< token t: scale + t * blocks
  const float* sum = nullptr;      ///< scale * sum of the block's quants, same layout
  int64_t cols = 0;
  int64_t blocks = 0;
  /// For weights in the interleaved layout (interleaved_rows.hpp): token t's quants in the runs'
  /// lane order at runs + t * run_stride; null otherwise.
  const int8_t* runs = nullptr;
  int64_t run_stride = 0;
};

/// y[t * y_stride + r] = row r of `w` (rows of row_bytes) · token t, r < rows, t < n_tokens.
using GemvFn = void (*)(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                        int64_t n_tokens, float* y, int64_t y_stride);

}  // namespace inference::kernels::detail
