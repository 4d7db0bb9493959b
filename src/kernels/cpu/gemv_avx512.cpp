// kernels/cpu/gemv_avx512.cpp — row-vector kernels (gemv_kernel.hpp) for Q8_0, Q5_0 and Q4_0,
// AVX-512 VNNI: two blocks per 512-bit vector, one vpdpbusd per pair and token, the 16 weight
// scales of 16 blocks gathered and converted at once; up to 4 tokens per unpacked row.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

enum class Kind { q4_0, q5_0, q8_0 };

template <Kind K>
struct Format;
template <>
struct Format<Kind::q8_0> {
  using Block = BlockQ8_0;
  static constexpr float kOffset = 128.f;  // signed x read as x + 128
};
template <>
struct Format<Kind::q5_0> {
  using Block = BlockQ5_0;
  static constexpr float kOffset = 16.f;
};
template <>
struct Format<Kind::q4_0> {
  using Block = BlockQ4_0;
  static constexpr float kOffset = 8.f;
};

// 16 nibbles of each of two blocks as [lo0 | hi0 | lo1 | hi1]: elements 0-15 are the low
// nibbles, 16-31 the high ones. Two broadcast loads (the second merged into the upper half)
// place the bytes without a shuffle.
__m512i nibbles_of_pair(const uint8_t* qs0, const uint8_t* qs1) {
  __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0)));
  v = _mm512_mask_broadcast_i32x4(v, 0xFF00,
                                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)));
  v = _mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4);
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// Unsigned quants of blocks b and b+1 (b+1 may be absent: zeros).
template <Kind K>
__m512i pair_quants(const typename Format<K>::Block* x, int64_t b, bool second) {
  if constexpr (K == Kind::q8_0) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i hi = second ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs))
                              : _mm256_set1_epi8(-128);
    return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1),
                            _mm512_set1_epi8(static_cast<char>(0x80)));
  } else {
    const uint8_t* qs1 = second ? x[b + 1].qs : x[b].qs;
    __m512i v = nibbles_of_pair(x[b].qs, qs1);
    if constexpr (K == Kind::q5_0) {
      uint32_t h0, h1 = 0;
      std::memcpy(&h0, x[b].qh, 4);
      if (second) std::memcpy(&h1, x[b + 1].qh, 4);
      const __mmask64 fifth = static_cast<__mmask64>(h0) | (static_cast<__mmask64>(h1) << 32);
      v = _mm512_mask_add_epi8(v, fifth, v, _mm512_set1_epi8(16));
    }
    return v;  // without a second block its half meets zero activations
  }
}

// Where the d of each of a run of 16 blocks lies: block b's d is word b * Stride of the run, and
// the run's words are read as 64-word windows (two 512-bit loads each); per window, the word
// index of each block whose d falls in it, and those blocks' lanes.
template <int Stride>
struct ScaleWindows {
  static constexpr int kCount = (15 * Stride) / 64 + 1;
  struct Window {
    alignas(64) uint16_t index[32];
    uint32_t lanes;
  };
  static constexpr std::array<Window, kCount> make() {
    std::array<Window, kCount> all{};
    for (int w = 0; w < kCount; ++w) {
      for (int b = 0; b < 16; ++b) {
        const int at = b * Stride - 64 * w;
        if (at >= 0 && at < 64) {
          all[w].index[b] = static_cast<uint16_t>(at);
          all[w].lanes |= 1u << b;
        }
      }
    }
    return all;
  }
  static constexpr std::array<Window, kCount> kWindows = make();
};

// The d of `count` (1..16) consecutive blocks, without a gather (slow on some cores: it held a
// fifth of the Q5_0 kernel's time): each window's words are loaded, masked to the blocks' bytes,
// and its d words permuted into their lanes (lanes past `count` are 0: their words are not
// loaded). kCount != 0 fixes count at compile time, so that a whole run's masks (the common
// case) are constants.
template <Kind K, int kCount = 0>
[[gnu::always_inline]] inline __m512 block_scales(const typename Format<K>::Block* x,
                                                  int64_t count) {
  if constexpr (kCount != 0) count = kCount;
  constexpr int kStride = static_cast<int>(sizeof(typename Format<K>::Block)) / 2;
  using Windows = ScaleWindows<kStride>;
  const auto* words = reinterpret_cast<const uint16_t*>(x);
  const int64_t n_words = count * kStride;
  auto load = [&](int64_t first) {
    const int64_t left = n_words - first;
    const auto mask = static_cast<__mmask32>(left >= 32 ? ~0u : left <= 0 ? 0u : (1u << left) - 1);
    return _mm512_maskz_loadu_epi16(mask, words + first);
  };
  __m512i d = _mm512_setzero_si512();
  int64_t w = 0;
  for (const auto& window : Windows::kWindows) {
    d = _mm512_mask_mov_epi16(
        d, window.lanes,
        _mm512_permutex2var_epi16(load(64 * w), _mm512_load_si512(window.index),
                                  load(64 * w + 32)));
    ++w;
  }
  return _mm512_cvtph_ps(_mm512_castsi512_si256(d));
}

alignas(64) constexpr int32_t kPairIndex[8][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},
    {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9},
    {10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13},
    {14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15},
};

// One run of `count` (1..16) blocks of a row against one token, added to the row's accumulators.
// kCount != 0 fixes the count at compile time (every run but a row's last), so that the pair loop
// unrolls without tail tests and the pair scales' indices are constants.
template <Kind K, int kCount>
[[gnu::always_inline]] inline void run_dot(const typename Format<K>::Block* x, const int8_t* aq,
                                           const float* ascale, const float* asum, int64_t count,
                                           __m512& acc0, __m512& acc1, __m512& corr) {
  if constexpr (kCount != 0) count = kCount;
  const __mmask16 live = static_cast<__mmask16>((1u << count) - 1);
  const __m512 d = block_scales<K, kCount>(x, count);
  const __m512 s = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(live, ascale));
  corr = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(live, asum), corr);
#pragma GCC unroll 8
  for (int k = 0; 2 * k < count; ++k) {
    const bool second = 2 * k + 1 < count;
    const __m512i w = pair_quants<K>(x, 2 * k, second);
    const __m512i a = second ? _mm512_loadu_si512(aq + 64 * k)
                             : _mm512_zextsi256_si512(_mm256_loadu_si256(
                                   reinterpret_cast<const __m256i*>(aq + 64 * k)));
    const __m512 p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, a));
    const __m512 sv = _mm512_permutexvar_ps(_mm512_load_si512(kPairIndex[k]), s);
    if (k % 2 == 0) {
      acc0 = _mm512_fmadd_ps(p, sv, acc0);
    } else {
      acc1 = _mm512_fmadd_ps(p, sv, acc1);
    }
  }
}

// One weight row against one token (the plain decode). row_dots below is the same arithmetic for
// several tokens at once; this stays separate because the compiler schedules the single-token
// loop better on its own (row_dots<1> measured 2–3% slower on Q4_0, Q5_0 and Q8_0 in cache; it
// was ~20% before the runs were unrolled).
template <Kind K>
float row_dot(const typename Format<K>::Block* x, const int8_t* aq, const float* ascale,
              const float* asum, int64_t nb) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), corr = _mm512_setzero_ps();
  int64_t b0 = 0;
  for (; b0 + 16 <= nb; b0 += 16) {
    run_dot<K, 16>(x + b0, aq + 32 * b0, ascale + b0, asum + b0, 16, acc0, acc1, corr);
  }
  if (b0 < nb) {
    run_dot<K, 0>(x + b0, aq + 32 * b0, ascale + b0, asum + b0, nb - b0, acc0, acc1, corr);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) -
         Format<K>::kOffset * _mm512_reduce_add_ps(corr);
}

// run_dot for NT (2..4) tokens: each pair of blocks is unpacked once and multiplied by every
// token's activations. Each token's arithmetic is the same sequence of operations as run_dot's.
template <Kind K, int NT, int kCount>
[[gnu::always_inline]] inline void run_dots(const typename Format<K>::Block* x,
                                            const GemvActivations& a, int64_t t0, int64_t b0,
                                            int64_t count, __m512 (&acc0)[NT], __m512 (&acc1)[NT],
                                            __m512 (&corr)[NT]) {
  if constexpr (kCount != 0) count = kCount;
  const __mmask16 live = static_cast<__mmask16>((1u << count) - 1);
  const __m512 d = block_scales<K, kCount>(x + b0, count);
  __m512 s[NT];
  for (int t = 0; t < NT; ++t) {
    const int64_t row = (t0 + t) * a.blocks + b0;
    s[t] = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(live, a.scale + row));
    corr[t] = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(live, a.sum + row), corr[t]);
  }
#pragma GCC unroll 8
  for (int k = 0; 2 * k < count; ++k) {
    const int64_t b = b0 + 2 * k;
    const bool second = 2 * k + 1 < count;
    const __m512i w = pair_quants<K>(x, b, second);
    const __m512i index = _mm512_load_si512(kPairIndex[k]);
    for (int t = 0; t < NT; ++t) {
      const int8_t* aq = a.quants + (t0 + t) * a.cols + 32 * b;
      const __m512i av =
          second ? _mm512_loadu_si512(aq)
                 : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq)));
      const __m512 p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, av));
      const __m512 sv = _mm512_permutexvar_ps(index, s[t]);
      if (k % 2 == 0) {
        acc0[t] = _mm512_fmadd_ps(p, sv, acc0[t]);
      } else {
        acc1[t] = _mm512_fmadd_ps(p, sv, acc1[t]);
      }
    }
  }
}

// One weight row against NT (2..4) tokens: each pair of blocks is unpacked once and multiplied
// by every token's activations, so a decode step carrying several sequences pays the weight
// decoding once per row, not once per token. Each token's arithmetic is the same sequence of
// operations whatever NT is (two alternating accumulators, the same fused multiply-adds), so a
// row's result does not depend on how many tokens share the call: batched decode gives the bits
// a single-token decode gives.
template <Kind K, int NT>
void row_dots(const typename Format<K>::Block* x, const GemvActivations& a, int64_t t0,
              float* out) {
  const int64_t nb = a.blocks;
  __m512 acc0[NT], acc1[NT], corr[NT];
  for (int t = 0; t < NT; ++t) {
    acc0[t] = _mm512_setzero_ps();
    acc1[t] = _mm512_setzero_ps();
    corr[t] = _mm512_setzero_ps();
  }
  int64_t b0 = 0;
  for (; b0 + 16 <= nb; b0 += 16) run_dots<K, NT, 16>(x, a, t0, b0, 16, acc0, acc1, corr);
  if (b0 < nb) run_dots<K, NT, 0>(x, a, t0, b0, nb - b0, acc0, acc1, corr);
  for (int t = 0; t < NT; ++t) {
    out[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t])) -
             Format<K>::kOffset * _mm512_reduce_add_ps(corr[t]);
  }
}

template <Kind K>
void gemv(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a, int64_t n_tokens,
          float* y, int64_t y_stride) {
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&a](const void* row, int64_t t0, auto tile, float* out) {
                        const auto* x = static_cast<const typename Format<K>::Block*>(row);
                        if constexpr (decltype(tile)::kTokens == 1) {
                          out[0] = row_dot<K>(x, a.quants + t0 * a.cols, a.scale + t0 * a.blocks,
                                              a.sum + t0 * a.blocks, a.blocks);
                        } else {
                          row_dots<K, decltype(tile)::kTokens>(x, a, t0, out);
                        }
                      });
}

}  // namespace

void gemv_q8_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride) {
  gemv<Kind::q8_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_q5_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride) {
  gemv<Kind::q5_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_q4_0_avx512(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride) {
  gemv<Kind::q4_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
