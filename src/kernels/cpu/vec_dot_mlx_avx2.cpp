// kernels/cpu/vec_dot_mlx_avx2.cpp — AVX2 + FMA dot product of MLX affine 8-bit blocks with
// float32 activations. Reached only through the AVX2 and AVX-512 kernel tables, after the CPUID
// check; intrinsics and internal-linkage code only (see README: ODR).
//
// Per block, q * x is summed with FMAs into `qx` and x into `xs`; scale * qx and bias * xs go to
// two running vector sums.
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::kernels::detail {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__m256 widen(const uint8_t* q) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q));
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

}  // namespace

float vec_dot_mlx_affine8_avx2(int64_t n, const void* w, const void* a) {
  const auto* blocks = static_cast<const BlockMlxAffine8*>(w);
  const float* x = static_cast<const float*>(a);
  // Separate accumulators for the scale and bias terms, and two half-block product chains:
  // short dependency chains keep both FMA ports busy.
  __m256 acc_scale = _mm256_setzero_ps(), acc_bias = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kMlxBlock; ++b, x += kMlxBlock) {
    const uint8_t* q = blocks[b].q;
    const __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
    const __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
    const __m256 qx01 = _mm256_fmadd_ps(widen(q + 8), x1, _mm256_mul_ps(widen(q), x0));
    const __m256 qx23 = _mm256_fmadd_ps(widen(q + 24), x3, _mm256_mul_ps(widen(q + 16), x2));
    const __m256 xs = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
    acc_scale =
        _mm256_fmadd_ps(_mm256_set1_ps(blocks[b].scale), _mm256_add_ps(qx01, qx23), acc_scale);
    acc_bias = _mm256_fmadd_ps(_mm256_set1_ps(blocks[b].bias), xs, acc_bias);
  }
  return hsum(_mm256_add_ps(acc_scale, acc_bias));
}

}  // namespace inference::kernels::detail
