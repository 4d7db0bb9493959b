// kernels/cpu/gemv_k_avx2.cpp — row-vector kernels (decode matmuls) for Q4_K, Q5_K and Q6_K,
// AVX2 + FMA + F16C, against Q8_K activation blocks used in place.
//
// Same idea as gemv_k_avx512.cpp (see there): each super-block's scaled integer sums stay in
// vector lanes and are accumulated in float with one fused multiply-add by d·d_act, reduced once
// per row, instead of a horizontal reduction and scalar float work per 256 weights. Up to 4
// tokens per pass over a row; each token's arithmetic is independent of the tile size.
//
// Compiled with -mavx2 -mfma: reached only through avx2_kernel_table() after the CPUID check.
// ODR rule as in vec_dot_avx2.cpp: only intrinsics and internal-linkage functions here.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/k_quant_simd.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/weight_prefetch.hpp"

namespace inference::kernels::detail {
namespace {

float hsum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

template <int NT, bool kFive>
void row_q45_k(const void* w, int64_t nb, const std::byte* a, size_t stride, float* out) {
  __m256 acc[NT], mins_acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = mins_acc[t] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  constexpr size_t kBlockBytes = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  for (int64_t b = 0; b < nb; ++b) {
    prefetch_weights_ahead(static_cast<const uint8_t*>(w) + b * kBlockBytes, kBlockBytes);
    const KBlock45 blk = k45_block<kFive>(w, b);
    const uint8_t* packed_scales = blk.scales;
    const uint8_t* qs = blk.qs;
    const uint16_t xd = blk.d, xdmin = blk.dmin;
    __m256i hbits = _mm256_setzero_si256();
    if constexpr (kFive) hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
    uint32_t utmp[4];
    unpack_k4(packed_scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    const __m256i mins16 = mins_per_bsum(utmp);
    __m256i q[8];
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * j));
      q[2 * j] = _mm256_and_si256(v, m4);
      q[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    if constexpr (kFive) {
      for (int s = 0; s < 8; ++s) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << s));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, bit), bit);
        q[s] = _mm256_or_si256(q[s], _mm256_and_si256(set, _mm256_set1_epi8(16)));
      }
    }
    const float xdf = _cvtsh_ss(xd), xdminf = _cvtsh_ss(xdmin);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      // Two accumulators: the scaled products of groups 0-3 and 4-7 (shorter dependency chains).
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      for (int s = 0; s < 8; s += 2) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * s));
        const __m256i y1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * (s + 1)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(q[s], y0),
                                                    _mm256_set1_epi16(static_cast<short>(sc[s]))));
        s1 = _mm256_add_epi32(s1,
                              _mm256_madd_epi16(_mm256_maddubs_epi16(q[s + 1], y1),
                                                _mm256_set1_epi16(static_cast<short>(sc[s + 1]))));
      }
      const __m256i msum =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), mins16);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(xdf * y.d), acc[t]);
      mins_acc[t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(xdminf * y.d), mins_acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) - hsum(mins_acc[t]);
}

template <int NT>
void row_q6_k(const void* w, int64_t nb, const std::byte* a, size_t stride, float* out) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& x = static_cast<const BlockQ6_K*>(w)[b];
    prefetch_weights_ahead(&x, sizeof(BlockQ6_K));
    // Chunk c = 4h + k: elements 32c..32c+31 as unsigned 6-bit values (bias 32 applied later).
    __m256i q[8], scale[8];
    const __m256i sc16 = unpack_q6_k_avx2(x, q, scale);
    const float xd = _cvtsh_ss(x.d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      for (int c = 0; c < 8; c += 2) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * c));
        const __m256i y1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * (c + 1)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], y0), scale[c]));
        s1 = _mm256_add_epi32(s1,
                              _mm256_madd_epi16(_mm256_maddubs_epi16(q[c + 1], y1), scale[c + 1]));
      }
      // sum((q - 32) * y * s) = sum(q * y * s) - 32 * sum(bsum * s), lane by lane (exact ints)
      const __m256i bias =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), sc16);
      const __m256i isum = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), _mm256_slli_epi32(bias, 5));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(xd * y.d), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

template <int NT>
struct Q4K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, float* out) {
    row_q45_k<NT, false>(w, nb, a, s, out);
  }
};
template <int NT>
struct Q5K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, float* out) {
    row_q45_k<NT, true>(w, nb, a, s, out);
  }
};
template <int NT>
struct Q6K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, float* out) {
    row_q6_k<NT>(w, nb, a, s, out);
  }
};

template <template <int> class Row>
void gemv_k(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
            size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  const int64_t nb = cols / kQKK;
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&](const void* x, int64_t t0, auto tile, float* out) {
                        Row<decltype(tile)::kTokens>::run(x, nb, a + t0 * a_stride, a_stride, out);
                      });
}

}  // namespace

void gemv_q4_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  gemv_k<Q4K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q5_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  gemv_k<Q5K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q6_k_avx2(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
                    size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  gemv_k<Q6K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
