// kernels/cpu/quantize_activation_avx512.cpp — activation quantisation (quantize_activation.cpp)
// with AVX-512: the same float operations on 16 elements at a time, so the blocks are equal bit
// for bit to the scalar quantiser's (a test checks it). Multiplications and the conversion to
// int32 round to nearest even, as round_even() does; F16 scales convert with vcvtps2ph (round
// to nearest even, as fp32_to_fp16()).
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

uint16_t to_half(float v) {
  return static_cast<uint16_t>(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

__m512 abs_ps(__m512 v) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF)));
}

// One 32-element block: amax, d = amax / 127, quants round(x * 127 / amax); returns d and the
// sum of the quants.
template <typename Block>
float block_q8(const float* x, Block& out, int32_t* sum) {
  const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(abs_ps(a), abs_ps(b)));
  const float d = amax / 127.f;
  const float id = amax != 0.f ? 127.f / amax : 0.f;
  out.d = to_half(d);
  const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(id)));
  const __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, _mm512_set1_ps(id)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.qs), _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.qs + 16), _mm512_cvtepi32_epi8(qb));
  *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
  return d;
}

}  // namespace

void quantize_activation_q8_0_avx512(const float* x, void* out, int64_t n) noexcept {
  auto* y = static_cast<BlockQ8_0*>(out);
  int32_t sum;
  for (int64_t b = 0; b < n / kQK32; ++b) block_q8(x + b * kQK32, y[b], &sum);
}

void quantize_activation_q8_1_avx512(const float* x, void* out, int64_t n) noexcept {
  auto* y = static_cast<BlockQ8_1*>(out);
  for (int64_t b = 0; b < n / kQK32; ++b) {
    int32_t sum;
    const float d = block_q8(x + b * kQK32, y[b], &sum);
    y[b].s = to_half(d * static_cast<float>(sum));
  }
}

void quantize_activation_q8_k_avx512(const float* x, void* out, int64_t n) noexcept {
  auto* y = static_cast<BlockQ8_K*>(out);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < kQKK; i += 16) vmax = _mm512_max_ps(vmax, abs_ps(_mm512_loadu_ps(x + i)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (amax == 0.f) {
      auto* bytes = reinterpret_cast<unsigned char*>(&y[b]);
      for (size_t i = 0; i < sizeof(BlockQ8_K); ++i) bytes[i] = 0;
      continue;
    }
    // The scalar quantiser keeps the first element of largest magnitude, with its sign.
    float max = 0.f;
    for (int i = 0; i < kQKK; i += 16) {
      const __mmask16 hit =
          _mm512_cmp_ps_mask(abs_ps(_mm512_loadu_ps(x + i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit != 0) {
        max = x[i + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / max;
    for (int i = 0; i < kQKK; i += 16) {
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(x + i)));
      q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + i), _mm512_cvtepi32_epi8(q));
      y[b].bsums[i / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    y[b].d = 1.f / iscale;
  }
}

}  // namespace inference::kernels::detail
