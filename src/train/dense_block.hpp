// train/dense_block.hpp — single-threaded float block products for the training path's
// attention, where each thread runs whole heads: C (m × n) += A · B with row-major strided
// operands, A given as is (m × k) or transposed (stored k × m). Register-blocked (4 rows × 32
// columns of C per step) and compiled for AVX-512, AVX2 and the baseline, chosen by the CPU at
// load. Every element of C is summed over k in order, so the result does not depend on the
// block boundaries or on which thread computes it.
#pragma once

#include <cstdint>

namespace inference::train {

/// c[i][j] += Σp a[i·lda + p]·b[p·ldb + j] for i < m, j < n, p < k.
void block_nn_acc(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                  int64_t ldb, float* c, int64_t ldc) noexcept;

/// c[i][j] += Σp a[p·lda + i]·b[p·ldb + j] (A stored transposed).
void block_tn_acc(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                  int64_t ldb, float* c, int64_t ldc) noexcept;

}  // namespace inference::train
