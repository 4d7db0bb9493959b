// kernels/cpu/gemv_k_avx512.cpp — row-vector kernels (decode matmuls) for the K-quants Q4_K,
// Q5_K and Q6_K, AVX-512 VNNI, against Q8_K activations.
//
// The dot products of vec_dot_avx512.cpp reduce each super-block's integer sums to scalars and
// combine them in the scalar reference's float order (bit-identical to it), which costs a
// horizontal reduction and scalar float work per 256 weights: at decode, where every weight is
// read once per token, that work — not memory — bounded them. Here each super-block's products
// stay in vector lanes: the scaled integer sums are converted once and accumulated with one
// fused multiply-add by d·d_act (and the mins/bias term likewise), and the lanes are reduced once
// per row. Results differ from the dot products only by float summation order.
//
// The integer part is one vpdpbusd per 64 weights (unsigned quants × signed activations, sums
// of 4 products in int32 lanes), then the sums of two vpdpbusd are narrowed to int16 with
// vpackssdw — exact: |sum of 4| ≤ 4·63·128 = 32,256 for 6-bit quants, less for 4 and 5 bits —
// and multiplied by their sub-block scales with one vpdpwssd. Per 128 weights that is 4 multiply
// instructions where unsigned×signed byte pairs (vpmaddubsw) then vpdpwssd needed 4 per 64, and
// the scales are placed with vpshufb, not a cross-lane word permute (slow on some cores).
//
// Q4_K/Q5_K keep two sub-blocks' quants in one byte (low and high nibble), 64 elements apart in
// a 64-byte load. So that one load, one shift and two masks give the quants, these kernels read
// a copy of the activation quants in "nibble order" (per 128 elements: 0-31, 64-95, 32-63,
// 96-127), made once per call in a per-thread buffer (thread_scratch_memory); Q6_K reads the blocks
// in place.
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
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/k_quant_simd.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

// vpshufb indexes turning 16 bytes (8 scales, 8 mins) into the int16 scale of each lane of
// packs(a, c), where a and c are the vpdpbusd sums of the low and high nibbles of 128 elements
// in nibble order: a holds sub-blocks 4p (lanes 0-7) and 4p+2, c sub-blocks 4p+1 and 4p+3; the
// pack interleaves them by 4 lanes per 128-bit lane.
#define INFERENCE_SCALE(s) s, -1, s, -1, s, -1, s, -1
alignas(64) constexpr int8_t kNibbleScaleIndex[2][64] = {
    {INFERENCE_SCALE(0), INFERENCE_SCALE(1), INFERENCE_SCALE(0), INFERENCE_SCALE(1),
     INFERENCE_SCALE(2), INFERENCE_SCALE(3), INFERENCE_SCALE(2), INFERENCE_SCALE(3)},
    {INFERENCE_SCALE(4), INFERENCE_SCALE(5), INFERENCE_SCALE(4), INFERENCE_SCALE(5),
     INFERENCE_SCALE(6), INFERENCE_SCALE(7), INFERENCE_SCALE(6), INFERENCE_SCALE(7)},
};
#undef INFERENCE_SCALE

// vpshufb indexes turning 8 int16 Q6_K scales (one 128-bit lane) into the int16 scale of each
// lane of packs(a, c) for chunk pair h: a holds elements 128h + 0..63 (scales 8h + 0..3, four
// 4-lane sums each), c elements 128h + 64..127 (scales 8h + 4..7).
#define INFERENCE_SCALE(s) \
  2 * (s), 2 * (s) + 1, 2 * (s), 2 * (s) + 1, 2 * (s), 2 * (s) + 1, 2 * (s), 2 * (s) + 1
alignas(64) constexpr int8_t kQ6PackedScaleIndex[64] = {
    INFERENCE_SCALE(0), INFERENCE_SCALE(4), INFERENCE_SCALE(1), INFERENCE_SCALE(5),
    INFERENCE_SCALE(2), INFERENCE_SCALE(6), INFERENCE_SCALE(3), INFERENCE_SCALE(7)};
#undef INFERENCE_SCALE

// vpshufb indexes turning the 8 mins of unpack_k4_scales (bytes 8-15, present in both 128-bit
// lanes) into 16 int16 lanes, each min twice (one per 16-element activation sum).
#define INFERENCE_MIN(m) m, -1, m, -1
alignas(32) constexpr int8_t kMinPerBsumIndex[32] = {
    INFERENCE_MIN(8),  INFERENCE_MIN(9),  INFERENCE_MIN(10), INFERENCE_MIN(11),
    INFERENCE_MIN(12), INFERENCE_MIN(13), INFERENCE_MIN(14), INFERENCE_MIN(15)};
#undef INFERENCE_MIN

float hsum(__m256 v) {
  return _mm512_reduce_add_ps(_mm512_zextps256_ps512(v));
}

// The activation quants of `n_tokens` Q8_K rows in nibble order, token t at out + t * cols.
void nibble_order(const std::byte* a, size_t stride, int64_t n_tokens, int64_t nb, int8_t* out) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_K*>(a + t * stride);
    int8_t* o = out + t * nb * kQKK;
    for (int64_t b = 0; b < nb; ++b) {
      for (int p = 0; p < 2; ++p) {
        const int8_t* src = y[b].qs + 128 * p;
        int8_t* dst = o + b * kQKK + 128 * p;
        for (int k = 0; k < 4; ++k) {
          // source quarter k (32 elements) goes to slot 0, 2, 1, 3
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32 * k));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32 * ((k >> 1) | ((k & 1) << 1))),
                              v);
        }
      }
    }
  }
}

// d and dmin of a Q4_K or Q5_K super-block as floats in lanes 0 and 1: one conversion for both,
// and per token one multiply by the activation's d for both.
__m128 d_and_dmin(const KBlock45& blk) {
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(blk.d | uint32_t{blk.dmin} << 16)));
}

// One weight row of Q4_K (kFive: Q5_K) against NT tokens: Q8_K rows (for d and the block sums)
// and their quants in nibble order.
template <int NT, bool kFive>
void row_q45_k(const void* w, int64_t nb, const std::byte* a, size_t stride, const int8_t* perm,
               float* out) {
  __m512 acc[NT];
  __m256 mins_acc[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_setzero_ps();
    mins_acc[t] = _mm256_setzero_ps();
  }
  const int64_t cols = nb * kQKK;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i index0 = _mm512_load_si512(kNibbleScaleIndex[0]);
  const __m512i index1 = _mm512_load_si512(kNibbleScaleIndex[1]);
  // Super-block b, its unpacked scales and mins (unpack_k4_scales) in every 128-bit lane.
  const auto block = [&](int64_t b, __m512i scales) __attribute__((always_inline)) {
    const KBlock45 blk = k45_block<kFive>(w, b);
    const __m256i mins16 =
        _mm256_shuffle_epi8(_mm512_castsi512_si256(scales),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(kMinPerBsumIndex)));
    __m512i lo[2], hi[2], scale[2];
    for (int p = 0; p < 2; ++p) {
      const __m512i v = _mm512_loadu_si512(blk.qs + 64 * p);
      lo[p] = _mm512_and_si512(v, m4);
      hi[p] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      if constexpr (kFive) {
        // Element 32s + l takes bit s of qh[l] as its fifth bit; lo[p] holds sub-blocks 4p and
        // 4p+2, hi[p] 4p+1 and 4p+3.
        const __m512i qh =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
        const auto bit = [](int s) { return static_cast<char>(1 << s); };
        const __m512i sel_lo =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(bit(4 * p))),
                               _mm256_set1_epi8(bit(4 * p + 2)), 1);
        const __m512i sel_hi =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(bit(4 * p + 1))),
                               _mm256_set1_epi8(bit(4 * p + 3)), 1);
        const __m512i sixteen = _mm512_set1_epi8(16);
        lo[p] = _mm512_mask_add_epi8(lo[p], _mm512_test_epi8_mask(qh, sel_lo), lo[p], sixteen);
        hi[p] = _mm512_mask_add_epi8(hi[p], _mm512_test_epi8_mask(qh, sel_hi), hi[p], sixteen);
      }
      scale[p] = _mm512_shuffle_epi8(scales, p == 0 ? index0 : index1);
    }
    const __m128 x_d_dmin = d_and_dmin(blk);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      const int8_t* yq = perm + t * cols + b * kQKK;
      __m512i isum = _mm512_setzero_si512();
      for (int p = 0; p < 2; ++p) {
        const __m512i s_lo =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[p], _mm512_loadu_si512(yq + 128 * p));
        const __m512i s_hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi[p],
                                                 _mm512_loadu_si512(yq + 128 * p + 64));
        isum = _mm512_dpwssd_epi32(isum, _mm512_packs_epi32(s_lo, s_hi), scale[p]);
      }
      const __m256i msum =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), mins16);
      const __m128 scaled = _mm_mul_ps(x_d_dmin, _mm_set1_ps(y.d));  // d·y.d, dmin·y.d
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(scaled), acc[t]);
      mins_acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum),
                                    _mm256_broadcastss_ps(_mm_movehdup_ps(scaled)), mins_acc[t]);
    }
  };
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    const __m512i both = _mm512_castsi256_si512(
        unpack_k4_scales_x2(k45_block<kFive>(w, b).scales, k45_block<kFive>(w, b + 1).scales));
    block(b, _mm512_shuffle_i32x4(both, both, 0x00));
    block(b + 1, _mm512_shuffle_i32x4(both, both, 0x55));
  }
  if (b < nb) block(b, _mm512_broadcast_i32x4(unpack_k4_scales(k45_block<kFive>(w, b).scales)));
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]) - hsum(mins_acc[t]);
}

// One weight row of Q6_K against NT tokens' Q8_K rows.
template <int NT>
void row_q6_k(const void* w, int64_t nb, const std::byte* a, size_t stride, const int8_t*,
              float* out) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i index = _mm512_load_si512(kQ6PackedScaleIndex);
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& x = static_cast<const BlockQ6_K*>(w)[b];
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
    // q[2h] holds elements 128h + 0..63, q[2h+1] 128h + 64..127, unsigned (bias 32 later).
    __m512i q[4], scale[2];
    unpack_q6_k_quants_avx512(x, q);
    for (int h = 0; h < 2; ++h) {
      const __m128i half =
          h == 0 ? _mm256_castsi256_si128(sc16) : _mm256_extracti128_si256(sc16, 1);
      scale[h] = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(half), index);
    }
    const float xd = _cvtsh_ss(x.d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(a + t * stride)[b];
      __m512i isum = _mm512_setzero_si512();
      for (int h = 0; h < 2; ++h) {
        const __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[2 * h],
                                               _mm512_loadu_si512(y.qs + 128 * h));
        const __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[2 * h + 1],
                                               _mm512_loadu_si512(y.qs + 128 * h + 64));
        isum = _mm512_dpwssd_epi32(isum, _mm512_packs_epi32(s0, s1), scale[h]);
      }
      // sum((q - 32) * y * s) = sum(q * y * s) - 32 * sum(bsum * s), lane by lane (exact ints)
      const __m256i bias =
          _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), sc16);
      isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(_mm256_slli_epi32(bias, 5)));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(xd * y.d), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

template <template <int> class Row>
void gemv_k(const void* w, size_t row_bytes, int64_t rows, int64_t cols, const std::byte* a,
            size_t a_stride, const int8_t* perm, int64_t n_tokens, float* y, int64_t y_stride) {
  const int64_t nb = cols / kQKK;
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&](const void* x, int64_t t0, auto tile, float* out) {
                        Row<decltype(tile)::kTokens>::run(
                            x, nb, a + t0 * a_stride, a_stride,
                            perm != nullptr ? perm + t0 * cols : nullptr, out);
                      });
}

template <int NT>
struct Q4K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, const int8_t* p,
                  float* out) {
    row_q45_k<NT, false>(w, nb, a, s, p, out);
  }
};
template <int NT>
struct Q5K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, const int8_t* p,
                  float* out) {
    row_q45_k<NT, true>(w, nb, a, s, p, out);
  }
};
template <int NT>
struct Q6K {
  static void run(const void* w, int64_t nb, const std::byte* a, size_t s, const int8_t* p,
                  float* out) {
    row_q6_k<NT>(w, nb, a, s, p, out);
  }
};

// Q4_K/Q5_K: the activation quants copied into nibble order first; without memory for the copy,
// the AVX2 kernel (which reads the blocks in place) does the work.
template <template <int> class Row>
bool gemv_k_nibble_order(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                         const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                         int64_t y_stride) {
  auto* perm =
      reinterpret_cast<int8_t*>(thread_scratch_memory(static_cast<size_t>(n_tokens * cols)));
  if (perm == nullptr) return false;
  nibble_order(a, a_stride, n_tokens, cols / kQKK, perm);
  gemv_k<Row>(w, row_bytes, rows, cols, a, a_stride, perm, n_tokens, y, y_stride);
  return true;
}

}  // namespace

void gemv_q4_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  if (!gemv_k_nibble_order<Q4K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride))
    gemv_q4_k_avx2(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q5_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  if (!gemv_k_nibble_order<Q5K>(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride))
    gemv_q5_k_avx2(w, row_bytes, rows, cols, a, a_stride, n_tokens, y, y_stride);
}
void gemv_q6_k_avx512(const void* w, size_t row_bytes, int64_t rows, int64_t cols,
                      const std::byte* a, size_t a_stride, int64_t n_tokens, float* y,
                      int64_t y_stride) {
  gemv_k<Q6K>(w, row_bytes, rows, cols, a, a_stride, nullptr, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
