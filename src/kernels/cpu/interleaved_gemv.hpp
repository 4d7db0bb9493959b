// kernels/cpu/interleaved_gemv.hpp — the part of the interleaved Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/Q5_K
// row kernels
// (gemv_interleaved_avx512.cpp, gemv_interleaved_avx2.cpp) that does not depend on the vector
// width: walking a row's runs (interleaved_rows.hpp) for a tile of tokens, its odd last block,
// and the final offset correction.
//
// A SIMD level supplies `Simd` with
//   Acc                                   one token's float accumulator for a run's 16 lanes;
//   Acc zero();  float sum(const Acc& acc, const Acc& corr, float k)   the lanes of acc + k·corr;
//   run_dots<F, kFull, NT>(run, c, at, ascale, asum, acc, corr)
//                                         one run of c blocks of format F against NT tokens;
//   int32_t block_dot<F>(block, quants)   one block in the file's layout against 32 quants;
//   kPrefetch                             whether the row walk prefetches the weights ahead
//                                         (weight_prefetch.hpp).
//
// Include only from *_avx2.cpp / *_avx512.cpp files; internal linkage, for the reason
// k_quant_simd.hpp gives.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/gemv_kernel.hpp"
#include "kernels/cpu/gemv_tiles.hpp"
#include "kernels/cpu/weight_prefetch.hpp"

namespace inference::kernels::detail {
namespace {

// What the kernels need of a format: its block's size and field offsets, and how the second
// term of Σ w·a = Σ_b d_b·a_scale_b·Σ q·a_q + kCorrScale · Σ_b c_b·a_sum_b is formed: c_b is the
// block's min for Q4_1/Q5_1 (weight = d·q + m) and its scale for Q4_0/Q5_0/Q8_0 (weight =
// d·(q − k), q unsigned: Q8_0's quants are stored as q + 128).
template <bool kHasMin, bool kHasFifthBits, bool kHasEightBits = false,
          bool kHasSuperBlocks = false>
struct InterleavedFormat {
  static constexpr bool kMin = kHasMin;
  static constexpr bool kFifthBits = kHasFifthBits;
  static constexpr bool kEightBits = kHasEightBits;
  // Q4_K/Q5_K (interleaved_k_rows.hpp): the lanes are sub-blocks, whose scale and min come from
  // their super-block's header at the start of the run (2 bytes per lane, the size of a Q4_0
  // block's scale); weight = (d·sc)·q − (dmin·m), so the second term enters with −1.
  static constexpr bool kSuperBlocks = kHasSuperBlocks;
  static constexpr size_t kQhOffset = kMin && !kSuperBlocks ? 4 : 2;  // file: d, [m], [qh], qs
  static constexpr size_t kQsOffset = kQhOffset + (kFifthBits ? 4 : 0);
  static constexpr size_t kBlockBytes = kQsOffset + (kEightBits ? 32 : 16);  // bytes per lane
  static constexpr float kCorrScale =
      kSuperBlocks ? -1.f : (kMin ? 1.f : (kEightBits ? -128.f : (kFifthBits ? -16.f : -8.f)));
};
using InterleavedQ4_0 = InterleavedFormat<false, false>;
using InterleavedQ4_1 = InterleavedFormat<true, false>;
using InterleavedQ5_0 = InterleavedFormat<false, true>;
using InterleavedQ5_1 = InterleavedFormat<true, true>;
using InterleavedQ8_0 = InterleavedFormat<false, false, true>;
using InterleavedQ4_K = InterleavedFormat<true, false, false, true>;
using InterleavedQ5_K = InterleavedFormat<true, true, false, true>;
static_assert(InterleavedQ4_0::kBlockBytes == sizeof(BlockQ4_0));
static_assert(InterleavedQ4_1::kBlockBytes == sizeof(BlockQ4_1));
static_assert(InterleavedQ5_0::kBlockBytes == sizeof(BlockQ5_0));
static_assert(InterleavedQ5_1::kBlockBytes == sizeof(BlockQ5_1));
static_assert(InterleavedQ8_0::kBlockBytes == sizeof(BlockQ8_0));
static_assert(InterleavedQ4_K::kBlockBytes * 8 == sizeof(BlockQ4_K));
static_assert(InterleavedQ5_K::kBlockBytes * 8 == sizeof(BlockQ5_K));

// A run of c blocks: d[c], [m[c]], [the fifth bits, 4c bytes], the quants (interleaved_rows.hpp).
template <class F>
struct RunFields {
  const uint8_t* mins;
  const uint8_t* fifth;
  const uint8_t* quants;
  RunFields(const uint8_t* run, int c)
      : mins(run + 2 * c),
        fifth(run + 2 * c * (F::kMin && !F::kSuperBlocks ? 2 : 1)),
        quants(fifth + (F::kFifthBits ? 4 * c : 0)) {}
};

// The step's fifth bits of a run of c blocks (bit 4i + k: quant k of block i). Eight bytes are
// read whatever c is (the run's quants follow its fifth bits, so they exist) and the bits past
// 4c cut off: a load of a variable length would be a byte loop.
[[gnu::always_inline]] inline uint64_t step_fifth_bits(const uint8_t* p, int c) {
  uint64_t m;
  std::memcpy(&m, p, 8);
  return c == 16 ? m : _bzhi_u64(m, static_cast<unsigned>(4 * c));
}

// The sum of a 256-bit vector's eight int32 lanes (a single block's dot product).
[[gnu::always_inline]] inline int32_t sum_lanes(__m256i s) {
  const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  const __m128i q = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1)));
}

// One weight row against tokens t0 .. t0 + NT - 1.
template <class Simd, class F, int NT>
void interleaved_row_dots(const uint8_t* row, const GemvActivations& a, int64_t t0, float* out) {
  constexpr size_t kRunBytes = 16 * F::kBlockBytes;
  const int64_t nb = a.blocks;
  const int64_t full = nb / 16;
  const int partial = static_cast<int>(nb % 16) / 2 * 2;
  const int8_t* at[NT];
  const float* ascale[NT];
  const float* asum[NT];
  typename Simd::Acc acc[NT], corr[NT];
  for (int t = 0; t < NT; ++t) {
    at[t] = a.runs + (t0 + t) * a.run_stride;
    ascale[t] = a.scale + (t0 + t) * nb;
    asum[t] = a.sum + (t0 + t) * nb;
    acc[t] = corr[t] = Simd::zero();
  }
  for (int64_t u = 0; u < full; ++u) {
    if constexpr (Simd::kPrefetch) prefetch_weights_ahead(row + u * kRunBytes, kRunBytes);
    Simd::template run_dots<F, true, NT>(row + u * kRunBytes, 16, at, ascale, asum, acc, corr);
    for (int t = 0; t < NT; ++t) {
      at[t] += 512;
      ascale[t] += 16;
      asum[t] += 16;
    }
  }
  if (partial > 0) {
    if constexpr (Simd::kPrefetch) {
      prefetch_weights_ahead(row + full * kRunBytes, static_cast<size_t>(partial) * F::kBlockBytes);
    }
    Simd::template run_dots<F, false, NT>(row + full * kRunBytes, partial, at, ascale, asum, acc,
                                          corr);
  }
  for (int t = 0; t < NT; ++t) out[t] = Simd::sum(acc[t], corr[t], F::kCorrScale);
  // Rows of whole super-blocks form runs of 16 or 8 lanes: no single block is left.
  if constexpr (!F::kSuperBlocks) {
    if ((nb % 16) % 2 != 0) {
      const int64_t b = nb - 1;
      const uint8_t* block = row + static_cast<size_t>(b) * F::kBlockBytes;
      uint16_t dh, ch;
      std::memcpy(&dh, block, 2);
      std::memcpy(&ch, block + (F::kMin ? 2 : 0), 2);
      const float d = _cvtsh_ss(dh), c = _cvtsh_ss(ch);
      for (int t = 0; t < NT; ++t) {
        const int64_t tok = t0 + t;
        const auto dot = static_cast<float>(
            Simd::template block_dot<F>(block, a.quants + tok * a.cols + 32 * b));
        out[t] += d * a.scale[tok * nb + b] * dot + F::kCorrScale * (c * a.sum[tok * nb + b]);
      }
    }
  }
}

template <class Simd, class F>
void interleaved_gemv(const void* w, size_t row_bytes, int64_t rows, const GemvActivations& a,
                      int64_t n_tokens, float* y, int64_t y_stride) {
  gemv_in_token_tiles(w, row_bytes, rows, n_tokens, y, y_stride,
                      [&a](const void* row, int64_t t0, auto tile, float* out) {
                        interleaved_row_dots<Simd, F, decltype(tile)::kTokens>(
                            static_cast<const uint8_t*>(row), a, t0, out);
                      });
}

}  // namespace
}  // namespace inference::kernels::detail
