// kernels/cpu/gemv_k_avx512.cpp — row-vector kernels (decode matmuls) for the K-quants Q4_K,
// Q5_K and Q6_K, AVX-512 VNNI, against Q8_K activation blocks used in place.
//
// The dot products of vec_dot_avx512.cpp reduce each super-block's integer sums to scalars and
// combine them in the scalar reference's float order (bit-identical to it), which costs a
// horizontal reduction and scalar float work per 256 weights: at decode, where every weight is
// read once per token, that work — not memory — bounded them. Here each super-block's products
// stay in vector lanes: the scaled integer sums are converted once and accumulated with one
// fused multiply-add by d·d_act (and the mins/bias term likewise), and the lanes are reduced once
// per row. Results differ from the dot products only by float summation order.
//
// A row meets up to 4 tokens per pass (weights unpacked once); each token's arithmetic is the same
// sequence of operations whatever the tile size, so a batch gives the bits single tokens give.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/k_quant_simd.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

float reduce(__m512 v) {
  return _mm512_reduce_add_ps(v);
}

// One weight row of Q4_K (kFive: Q5_K) against NT tokens' Q8_K rows.
template <int NT, bool kFive>
void row_q45_k(const void* w, int64_t nb, const std::byte* a, size_t stride, float* out) {
  __m512 acc[NT];
  __m256 mins_acc[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_setzero_ps();
    mins_acc[t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const KBlock45 blk = k45_block<kFive>(w, b);
    const uint8_t* packed_scales = blk.scales;
    const uint8_t* qs = blk.qs;
    const uint16_t xd = blk.d, xdmin = blk.dmin;
    __m512i hbits = _mm512_setzero_si512();
    if constexpr (kFive)
      hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
    uint32_t utmp[4];
    unpack_k4(packed_scales, utmp);
    const __m256i mins16 = mins_per_bsum(utmp);
    const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(
        _mm_set_epi32(0, 0, static_cast<int>(utmp[1]), static_cast<int>(utmp[0]))));
    __m512i q[4], scale[4];
    for (int j = 0; j < 4; ++j) {
      q[j] = nibble_pair(qs + 32 * j);
      if constexpr (kFive) {
        // Element 32s + l takes bit s of qh[l] as its fifth bit (s = 2j low half, 2j+1 high).
        const __m512i sel = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_set1_epi8(static_cast<char>(1 << (2 * j)))),
            _mm256_set1_epi8(static_cast<char>(1 << (2 * j + 1))), 1);
        q[j] = _mm512_mask_add_epi8(q[j], _mm512_test_epi8_mask(hbits, sel), q[j],
                                    _mm512_set1_epi8(16));
      }
      scale[j] = _mm512_permutexvar_epi16(_mm512_load_si512(kPairIndex[j]), sc16);
    }
    const float xdf = _cvtsh_ss(xd), xdminf = _cvtsh_ss(xdmin);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m512i isum = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j) {
        const __m512i yq = _mm512_loadu_si512(y.qs + 64 * j);
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(q[j], yq), scale[j]);
      }
      const __m256i msum =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), mins16);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(xdf * y.d), acc[t]);
      mins_acc[t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(xdminf * y.d), mins_acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    __m256 m = mins_acc[t];
    __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_add_ss(m4, _mm_movehdup_ps(m4));
    out[t] = reduce(acc[t]) - _mm_cvtss_f32(m4);
  }
}

// One weight row of Q6_K against NT tokens' Q8_K rows.
template <int NT>
void row_q6_k(const void* w, int64_t nb, const std::byte* a, size_t stride, float* out) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& x = static_cast<const BlockQ6_K*>(w)[b];
    // Chunk c = 2h + k/2 holds elements 64c..64c+63 as unsigned 6-bit values (bias 32 later).
    __m512i q[4], scale[4];
    const __m256i sc16 = unpack_q6_k_avx512(x, q, scale);
    const float xd = _cvtsh_ss(x.d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m512i isum = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        const __m512i yq = _mm512_loadu_si512(y.qs + 64 * c);
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(q[c], yq), scale[c]);
      }
      // sum((q - 32) * y * s) = sum(q * y * s) - 32 * sum(bsum * s), lane by lane (exact ints)
      const __m256i bias =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), sc16);
      const __m256i folded = _mm256_sub_epi32(
          _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1)),
          _mm256_slli_epi32(bias, 5));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(folded), _mm256_set1_ps(xd * y.d), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    out[t] = _mm_cvtss_f32(s);
  }
}

template <template <int> class Row>
void gemv_k(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
            size_t a_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  const int64_t nb = cols / kQKK;
  for (int64_t r = 0; r < rows; ++r) {
    const void* x = static_cast<const std::byte*>(w) + r * row_bytes;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
      float out[4];
      const std::byte* at = a + t0 * a_stride;
      const int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
      switch (nt) {
        case 1:
          Row<1>::run(x, nb, at, a_stride, out);
          break;
        case 2:
          Row<2>::run(x, nb, at, a_stride, out);
          break;
        case 3:
          Row<3>::run(x, nb, at, a_stride, out);
          break;
        default:
          Row<4>::run(x, nb, at, a_stride, out);
          break;
      }
      for (int64_t t = 0; t < nt; ++t) y[(t0 + t) * y_stride + r] = out[t];
    }
  }
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

}  // namespace

void gemv_q4_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  gemv_k<Q4K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q5_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  gemv_k<Q5K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q6_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  gemv_k<Q6K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
