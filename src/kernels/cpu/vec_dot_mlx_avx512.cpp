// kernels/cpu/vec_dot_mlx_avx512.cpp — AVX-512 dot product of MLX affine 8-bit blocks with
// float32 activations (same per-block formula as the AVX2 variant, 16 lanes). Reached only
// through the AVX-512 kernel table, after the CPUID check; intrinsics and internal-linkage code
// only (see README: ODR).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

// GCC 12's AVX-512 headers start masked conversions from _mm512_undefined_*(), which it then
// reports as (maybe) uninitialised: false positives inside the intrinsics, not our code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inference::kernels::detail {
namespace {

__m512 widen(const uint8_t* q) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
}

}  // namespace

float vec_dot_mlx_affine8_avx512(int64_t n, const void* w, const void* a) {
  const auto* blocks = static_cast<const BlockMlxAffine8*>(w);
  const float* x = static_cast<const float*>(a);
  // Separate accumulators for the scale and bias terms: short dependency chains.
  __m512 acc_scale = _mm512_setzero_ps(), acc_bias = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kMlxBlock; ++b, x += kMlxBlock) {
    const uint8_t* q = blocks[b].q;
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const __m512 qx = _mm512_fmadd_ps(widen(q + 16), x1, _mm512_mul_ps(widen(q), x0));
    const __m512 xs = _mm512_add_ps(x0, x1);
    acc_scale = _mm512_fmadd_ps(_mm512_set1_ps(blocks[b].scale), qx, acc_scale);
    acc_bias = _mm512_fmadd_ps(_mm512_set1_ps(blocks[b].bias), xs, acc_bias);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc_scale, acc_bias));
}

}  // namespace inference::kernels::detail
