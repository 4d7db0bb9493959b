// kernels/cpu/gemv_avx2.cpp — row-vector kernels (gemv_kernel.hpp) for Q4_0 and Q5_0, AVX2.
//
// The dot products (vec_dot_avx2.cpp) make the weight quants signed and move their signs onto
// the activations (two vpsignb per block) so that vpmaddubsw, unsigned × signed, can take them,
// and convert both blocks' fp16 scales and multiply them one block at a time. Here the weight
// quants stay unsigned (0..15, 0..31) against the signed activation quants GemvActivations
// holds — vpmaddubsw takes them as they are: the sum of two products is at most 2·31·128 = 7,936
// in magnitude, far from int16 saturation — and the offset (8, 16) is removed once per row with
// the activation block sums. The weight scales of 8 blocks are converted and multiplied by the
// activation scales at once. Q8_0 stays on the dot product: its quants made unsigned (x + 128)
// times an activation of −128 would saturate vpmaddubsw.
//
// A row meets up to 4 tokens per pass (the weights unpacked once); each token's arithmetic is the
// same sequence of operations whatever the tile size, so a batch gives the bits single tokens
// give.
//
// Compiled with -mavx2 -mfma -mf16c: reached only through avx2_kernel_table(), after the CPUID
// check. ODR rule as in vec_dot_avx2.cpp: only intrinsics and internal-linkage functions here.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/q32_avx2.hpp"
#include "kernels/cpu/weight_prefetch.hpp"

namespace inference::kernels::detail {
namespace {

enum class Kind { q4_0, q5_0 };

template <Kind K>
struct Format;
template <>
struct Format<Kind::q4_0> {
  using Block = BlockQ4_0;
  static constexpr float kOffset = 8.f;
};
template <>
struct Format<Kind::q5_0> {
  using Block = BlockQ5_0;
  static constexpr float kOffset = 16.f;
};

// A block's quants, unsigned, elements 0-31 in bytes 0-31.
template <Kind K>
__m256i block_quants(const typename Format<K>::Block& x) {
  if constexpr (K == Kind::q5_0) return _mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh));
  return unpack_nibbles(x.qs);
}

// The fp16 scales of `count` (1..8) consecutive blocks as 8 floats (0 past count). kCount != 0
// fixes count at compile time (every group but a row's last).
template <Kind K, int kCount>
__m256 group_scales(const typename Format<K>::Block* x, int64_t count) {
  if constexpr (kCount == 8) {
    return _mm256_cvtph_ps(_mm_setr_epi16(static_cast<short>(x[0].d), static_cast<short>(x[1].d),
                                          static_cast<short>(x[2].d), static_cast<short>(x[3].d),
                                          static_cast<short>(x[4].d), static_cast<short>(x[5].d),
                                          static_cast<short>(x[6].d), static_cast<short>(x[7].d)));
  } else {
    short h[8] = {};
    for (int64_t j = 0; j < count; ++j) h[j] = static_cast<short>(x[j].d);
    return _mm256_cvtph_ps(_mm_setr_epi16(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]));
  }
}

// One token's activations from a row's first block on.
struct TokenActivations {
  const int8_t* quants;
  const float* scale;
  const float* sum;
};

// One group of `count` (1..8) blocks of a weight row against NT tokens, added to each token's
// accumulators (even blocks to acc0, odd to acc1: two chains of fused multiply-adds).
template <Kind K, int NT, int kCount>
[[gnu::always_inline]] inline void group_dots(const typename Format<K>::Block* x,
                                              const TokenActivations (&act)[NT], int64_t b0,
                                              int64_t count, __m256 (&acc0)[NT], __m256 (&acc1)[NT],
                                              __m256 (&corr)[NT]) {
  if constexpr (kCount != 0) count = kCount;
  prefetch_weights_ahead(x + b0, static_cast<size_t>(count) * sizeof(x[0]));
  const __m256 d = group_scales<K, kCount>(x + b0, count);
  const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  // Per token, the 8 blocks' d · d_act, read back one lane at a time as broadcasts.
  alignas(32) float scaled[NT][8];
  for (int t = 0; t < NT; ++t) {
    _mm256_store_ps(scaled[t], _mm256_mul_ps(d, _mm256_maskload_ps(act[t].scale + b0, live)));
    corr[t] = _mm256_fmadd_ps(d, _mm256_maskload_ps(act[t].sum + b0, live), corr[t]);
  }
  const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
  for (int64_t j = 0; j < count; ++j) {
    const __m256i u = block_quants<K>(x[b0 + j]);
    for (int t = 0; t < NT; ++t) {
      const __m256i a =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act[t].quants + 32 * (b0 + j)));
      const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, a), ones));
      const __m256 s = _mm256_broadcast_ss(&scaled[t][j]);
      if (j % 2 == 0) {
        acc0[t] = _mm256_fmadd_ps(p, s, acc0[t]);
      } else {
        acc1[t] = _mm256_fmadd_ps(p, s, acc1[t]);
      }
    }
  }
}

// One weight row against NT (1..4) tokens.
template <Kind K, int NT>
void row_dots(const typename Format<K>::Block* x, const GemvActivations& a, int64_t t0,
              float* out) {
  const int64_t nb = a.blocks;
  TokenActivations act[NT];
  __m256 acc0[NT], acc1[NT], corr[NT];
  for (int t = 0; t < NT; ++t) {
    act[t] = {a.quants + (t0 + t) * a.cols, a.scale + (t0 + t) * nb, a.sum + (t0 + t) * nb};
    acc0[t] = acc1[t] = corr[t] = _mm256_setzero_ps();
  }
  int64_t b0 = 0;
  for (; b0 + 8 <= nb; b0 += 8) group_dots<K, NT, 8>(x, act, b0, 8, acc0, acc1, corr);
  if (b0 < nb) group_dots<K, NT, 0>(x, act, b0, nb - b0, acc0, acc1, corr);
  for (int t = 0; t < NT; ++t) {
    out[t] = hsum256_ps(_mm256_add_ps(acc0[t], acc1[t])) - Format<K>::kOffset * hsum256_ps(corr[t]);
  }
}

template <Kind K>
void gemv(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a, int64_t n_tokens,
          float* y, int64_t y_stride) {
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&a](const void* x, int64_t t0, auto tile, float* out) {
                        row_dots<K, decltype(tile)::kTokens>(
                            static_cast<const typename Format<K>::Block*>(x), a, t0, out);
                      });
}

}  // namespace

void gemv_q5_0_avx2(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                    int64_t n_tokens, float* y, int64_t y_stride) {
  gemv<Kind::q5_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_q4_0_avx2(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                    int64_t n_tokens, float* y, int64_t y_stride) {
  gemv<Kind::q4_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
