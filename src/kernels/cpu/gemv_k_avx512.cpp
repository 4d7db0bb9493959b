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
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;

// The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K super-block.
void unpack_k4(const uint8_t* packed, uint32_t utmp[4]) {
  std::memcpy(utmp, packed, 12);
  utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = utmp[1] & kmask1;
  utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
  utmp[2] = uaux;
  utmp[0] &= kmask1;
}

// Lane i of kPairIndex[j] selects scale 2j (first 16 int16 lanes) or 2j+1 (last 16).
alignas(64) constexpr uint16_t kPairIndex[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
     3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
     5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
    {6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
     7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
};

alignas(64) constexpr uint16_t kQ6ScaleIndex[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
     2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
     6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,  9,  9,
     10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
     14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15},
};

// 32 packed bytes -> 64 quants: low nibbles (group 2j) then high nibbles (group 2j+1).
__m512i nibble_pair(const uint8_t* q) {
  __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  v = _mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4);
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

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
    const uint8_t* packed_scales;
    const uint8_t* qs;
    uint16_t xd, xdmin;
    __m512i hbits = _mm512_setzero_si512();
    if constexpr (kFive) {
      const BlockQ5_K& x = static_cast<const BlockQ5_K*>(w)[b];
      packed_scales = x.scales;
      qs = x.qs;
      xd = x.d;
      xdmin = x.dmin;
      hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh)));
    } else {
      const BlockQ4_K& x = static_cast<const BlockQ4_K*>(w)[b];
      packed_scales = x.scales;
      qs = x.qs;
      xd = x.d;
      xdmin = x.dmin;
    }
    uint32_t utmp[4];
    unpack_k4(packed_scales, utmp);
    // mins as 16 int16 (each min twice: one per 16-element bsum).
    const __m128i m8 = _mm_cvtepu8_epi16(
        _mm_set_epi32(0, 0, static_cast<int>(utmp[3]), static_cast<int>(utmp[2])));
    const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
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
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& x = static_cast<const BlockQ6_K*>(w)[b];
    // Chunk c = 2h + k/2 holds elements 64c..64c+63 as unsigned 6-bit values (bias 32 later).
    __m512i q[4], scale[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(x.ql + 64 * h);
      __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h)));
      qh = _mm512_mask_srli_epi16(qh, 0xFFFF0000u, qh, 2);  // [qh | qh >> 2]
      q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                 _mm512_and_si512(_mm512_slli_epi16(qh, 4), m30));
      q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                     _mm512_and_si512(qh, m30));
    }
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
    for (int c = 0; c < 4; ++c) {
      scale[c] = _mm512_permutexvar_epi16(_mm512_load_si512(kQ6ScaleIndex[c]),
                                          _mm512_castsi256_si512(sc16));
    }
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
