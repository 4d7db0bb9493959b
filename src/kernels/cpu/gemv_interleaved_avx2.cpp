// kernels/cpu/gemv_interleaved_avx2.cpp — row-vector kernels (gemv_kernel.hpp) for Q4_0 and
// Q5_0 rows in the interleaved layout (interleaved_rows.hpp), AVX2.
//
// A run's 16 blocks are two 256-bit halves of 8 lanes. Per step and half: the nibbles masked or
// shifted out, the fifth bits expanded from the step's mask, then `vpmaddubsw` (unsigned quants
// of at most 31 against signed activations: pair sums ≤ 7,936, no saturation) and `vpmaddwd`
// with ones leave each block's four products summed in its own lane; the lanes accumulate the
// whole block over the eight steps, and one conversion and multiply-add per half serve 8 blocks
// (the file layout's kernel, gemv_avx2.cpp, reduces and scales every block on its own).
//
// Compiled with -mavx2 -mfma -mf16c -mbmi2: reached only through avx2_kernel_table(), after the
// CPUID check. ODR rule as in vec_dot_avx2.cpp: only intrinsics and internal-linkage functions.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/q32_avx2.hpp"

namespace inference::kernels::detail {
namespace {

template <bool kFifthBits>
struct Format {
  static constexpr size_t kBlockBytes = kFifthBits ? sizeof(BlockQ5_0) : sizeof(BlockQ4_0);
  static constexpr float kOffset = kFifthBits ? 16.f : 8.f;
};

// The step's fifth bits of a run of c blocks (bit 4i + k: quant k of block i). Eight bytes are
// read whatever c is (the run's quants follow, so they exist) and the bits past 4c cut off.
[[gnu::always_inline]] inline uint64_t step_fifth_bits(const uint8_t* p, int c) {
  uint64_t m;
  std::memcpy(&m, p, 8);
  return c == 16 ? m : _bzhi_u64(m, static_cast<unsigned>(4 * c));
}

// Lanes [0, n) of a 256-bit vector of 32-bit lanes (n may be ≤ 0 or ≥ 8).
[[gnu::always_inline]] inline __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

[[gnu::always_inline]] inline __m256i block_lane_sums(__m256i quants, const int8_t* act) {
  const __m256i pairs =
      _mm256_maddubs_epi16(quants, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act)));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// One run of c blocks (kFull: c = 16, known at compile time) against NT tokens; acc/corr [t][h]
// hold token t's half h (blocks 8h .. 8h + 7). Each token's arithmetic is the same whatever NT
// is, so batched decode gives a single-token decode's bits.
template <bool kFifthBits, bool kFull, int NT>
[[gnu::always_inline]] inline void run_dots(const uint8_t* run, int c,
                                            const int8_t* const (&at)[NT],
                                            const float* const (&ascale)[NT],
                                            const float* const (&asum)[NT], __m256 (&acc)[NT][2],
                                            __m256 (&corr)[NT][2]) {
  if constexpr (kFull) c = 16;
  const __m256i live[2] = {first_lanes(c), first_lanes(c - 8)};
  const uint8_t* fifth = run + 2 * c;
  const uint8_t* quants = fifth + (kFifthBits ? 4 * c : 0);
  const __m256i low = _mm256_set1_epi8(0x0F);
  __m256i s[NT][2];
  for (int t = 0; t < NT; ++t) s[t][0] = s[t][1] = _mm256_setzero_si256();
  for (int j = 0; j < 4; ++j) {
    uint64_t bits_lo = 0, bits_hi = 0;
    if constexpr (kFifthBits) {
      bits_lo = step_fifth_bits(fifth + (c / 2) * j, c);
      bits_hi = step_fifth_bits(fifth + (c / 2) * (4 + j), c);
    }
    for (int h = 0; h < 2; ++h) {
      const auto* at_q = reinterpret_cast<const int*>(quants + 4 * c * j + 32 * h);
      const __m256i v = kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at_q))
                              : _mm256_maskload_epi32(at_q, live[h]);
      __m256i lo = _mm256_and_si256(v, low);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      if constexpr (kFifthBits) {
        const auto lo_bits = static_cast<uint32_t>(bits_lo >> (32 * h));
        const auto hi_bits = static_cast<uint32_t>(bits_hi >> (32 * h));
        lo = _mm256_or_si256(lo, fifth_bits(reinterpret_cast<const uint8_t*>(&lo_bits)));
        hi = _mm256_or_si256(hi, fifth_bits(reinterpret_cast<const uint8_t*>(&hi_bits)));
      }
      for (int t = 0; t < NT; ++t) {
        s[t][h] = _mm256_add_epi32(s[t][h], block_lane_sums(lo, at[t] + 64 * j + 32 * h));
        s[t][h] = _mm256_add_epi32(s[t][h], block_lane_sums(hi, at[t] + 64 * (4 + j) + 32 * h));
      }
    }
  }
  // The run's scales: 32 bytes are in the run whatever c is (c ≥ 2 blocks of ≥ 18 bytes); lanes
  // past c are zeroed (their bytes are not scales and could read as infinities).
  const __m256i d16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(run));
  for (int h = 0; h < 2; ++h) {
    __m256 d =
        _mm256_cvtph_ps(h == 0 ? _mm256_castsi256_si128(d16) : _mm256_extracti128_si256(d16, 1));
    if constexpr (!kFull) d = _mm256_and_ps(d, _mm256_castsi256_ps(live[h]));
    for (int t = 0; t < NT; ++t) {
      const __m256 sc = kFull ? _mm256_loadu_ps(ascale[t] + 8 * h)
                              : _mm256_maskload_ps(ascale[t] + 8 * h, live[h]);
      const __m256 sm =
          kFull ? _mm256_loadu_ps(asum[t] + 8 * h) : _mm256_maskload_ps(asum[t] + 8 * h, live[h]);
      acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t][h]), _mm256_mul_ps(d, sc), acc[t][h]);
      corr[t][h] = _mm256_fmadd_ps(d, sm, corr[t][h]);
    }
  }
}

// A single block in the file's layout (a row's last block when the count is odd): its integer
// dot product with the token's contiguous quants.
template <bool kFifthBits>
[[gnu::always_inline]] inline int32_t block_dot(const uint8_t* block, const int8_t* aq) {
  __m256i w = unpack_nibbles(block + (kFifthBits ? 6 : 2));
  if constexpr (kFifthBits) w = _mm256_or_si256(w, fifth_bits(block + 2));
  const __m256i s = block_lane_sums(w, aq);
  const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  const __m128i q = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1)));
}

// One weight row against tokens t0 .. t0 + NT - 1.
template <bool kFifthBits, int NT>
void row_dots(const uint8_t* row, const GemvActivations& a, int64_t t0, float* out) {
  using F = Format<kFifthBits>;
  constexpr size_t kRunBytes = 16 * F::kBlockBytes;
  const int64_t nb = a.blocks;
  const int64_t full = nb / 16;
  const int partial = static_cast<int>(nb % 16) / 2 * 2;
  const int8_t* at[NT];
  const float* ascale[NT];
  const float* asum[NT];
  __m256 acc[NT][2], corr[NT][2];
  for (int t = 0; t < NT; ++t) {
    at[t] = a.runs + (t0 + t) * a.run_stride;
    ascale[t] = a.scale + (t0 + t) * nb;
    asum[t] = a.sum + (t0 + t) * nb;
    acc[t][0] = acc[t][1] = corr[t][0] = corr[t][1] = _mm256_setzero_ps();
  }
  for (int64_t u = 0; u < full; ++u) {
    run_dots<kFifthBits, true, NT>(row + u * kRunBytes, 16, at, ascale, asum, acc, corr);
    for (int t = 0; t < NT; ++t) {
      at[t] += 512;
      ascale[t] += 16;
      asum[t] += 16;
    }
  }
  if (partial > 0) {
    run_dots<kFifthBits, false, NT>(row + full * kRunBytes, partial, at, ascale, asum, acc, corr);
  }
  for (int t = 0; t < NT; ++t) {
    out[t] = hsum256_ps(_mm256_add_ps(acc[t][0], acc[t][1])) -
             F::kOffset * hsum256_ps(_mm256_add_ps(corr[t][0], corr[t][1]));
  }
  if ((nb % 16) % 2 != 0) {
    const int64_t b = nb - 1;
    const uint8_t* block = row + static_cast<size_t>(b) * F::kBlockBytes;
    uint16_t dh;
    std::memcpy(&dh, block, 2);
    const float d = _cvtsh_ss(dh);
    for (int t = 0; t < NT; ++t) {
      const int64_t tok = t0 + t;
      const auto dot =
          static_cast<float>(block_dot<kFifthBits>(block, a.quants + tok * a.cols + 32 * b));
      out[t] += d * a.scale[tok * nb + b] * dot - F::kOffset * (d * a.sum[tok * nb + b]);
    }
  }
}

template <bool kFifthBits>
void gemv_interleaved(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride) {
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&a](const void* row, int64_t t0, auto tile, float* out) {
                        row_dots<kFifthBits, decltype(tile)::kTokens>(
                            static_cast<const uint8_t*>(row), a, t0, out);
                      });
}

}  // namespace

void gemv_interleaved_q4_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  gemv_interleaved<false>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  gemv_interleaved<true>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
