// kernels/cpu/gemv_interleaved_avx512.cpp — row-vector kernels (gemv_kernel.hpp) for Q4_0 and
// Q5_0 rows in the interleaved layout (interleaved_rows.hpp), AVX-512 VNNI.
//
// Per run of 16 blocks: four 64-byte loads of nibbles (unpacked once per tile of up to 4
// tokens), per token eight vpdpbusd into two accumulators whose lanes are the 16 blocks (exact
// integer sums of 32 products each), then one conversion and one multiply-add by
// d · activation scale for the whole run. The offset term
// (k · d · Σ activation) is the same 16-wide multiply-add as in gemv_avx512.cpp.
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
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

template <bool kFifthBits>
struct Format {
  static constexpr size_t kBlockBytes = kFifthBits ? sizeof(BlockQ5_0) : sizeof(BlockQ4_0);
  static constexpr float kOffset = kFifthBits ? 16.f : 8.f;
};

// The step's c/2 bytes of fifth bits as a mask over the vector's bytes. Eight bytes are read
// whatever c is (the run's quants follow its fifth bits, so they exist) and the bits past the
// step's 4c cut off: a load of a variable length would be a byte loop.
[[gnu::always_inline]] inline __mmask64 fifth_bit_mask(const uint8_t* p, int c) {
  uint64_t m;
  std::memcpy(&m, p, 8);
  return _cvtu64_mask64(c == 16 ? m : _bzhi_u64(m, static_cast<unsigned>(4 * c)));
}

// One run of c blocks (kFull: c = 16, known at compile time) against NT tokens: each step's
// quants are unpacked once and multiplied by every token's. Each token's arithmetic is the same
// whatever NT is, so batched decode gives a single-token decode's bits.
template <bool kFifthBits, bool kFull, int NT>
[[gnu::always_inline]] inline void run_dots(const uint8_t* run, int c,
                                            const int8_t* const (&at)[NT],
                                            const float* const (&ascale)[NT],
                                            const float* const (&asum)[NT], __m512 (&acc)[NT],
                                            __m512 (&corr)[NT]) {
  if constexpr (kFull) c = 16;
  const __mmask16 lanes = static_cast<__mmask16>((1u << c) - 1);
  const __mmask64 bytes = kFull ? ~__mmask64{0} : (__mmask64{1} << (4 * c)) - 1;
  const uint8_t* fifth = run + 2 * c;
  const uint8_t* quants = fifth + (kFifthBits ? 4 * c : 0);
  const __m512i low = _mm512_set1_epi8(0x0F);
  __m512i s0[NT], s1[NT];
  for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512i v = kFull ? _mm512_loadu_si512(quants + 64 * j)
                            : _mm512_maskz_loadu_epi8(bytes, quants + 4 * c * j);
    __m512i lo = _mm512_and_si512(v, low);
    __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
    if constexpr (kFifthBits) {
      const __m512i sixteen = _mm512_set1_epi8(16);
      lo = _mm512_mask_add_epi8(lo, fifth_bit_mask(fifth + (c / 2) * j, c), lo, sixteen);
      hi = _mm512_mask_add_epi8(hi, fifth_bit_mask(fifth + (c / 2) * (4 + j), c), hi, sixteen);
    }
    for (int t = 0; t < NT; ++t) {
      s0[t] = _mm512_dpbusd_epi32(s0[t], lo, _mm512_loadu_si512(at[t] + 64 * j));
      s1[t] = _mm512_dpbusd_epi32(s1[t], hi, _mm512_loadu_si512(at[t] + 64 * (4 + j)));
    }
  }
  const __m512 d = _mm512_cvtph_ps(kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(run))
                                         : _mm256_maskz_loadu_epi16(lanes, run));
  for (int t = 0; t < NT; ++t) {
    const __m512 p = _mm512_cvtepi32_ps(_mm512_add_epi32(s0[t], s1[t]));
    const __m512 s = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(lanes, ascale[t]));
    acc[t] = _mm512_fmadd_ps(p, s, acc[t]);
    corr[t] = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(lanes, asum[t]), corr[t]);
  }
}

// A single block in the file's layout (a row's last block when the count is odd): its integer
// dot product with the token's contiguous quants.
template <bool kFifthBits>
[[gnu::always_inline]] inline int32_t block_dot(const uint8_t* block, const int8_t* aq) {
  const uint8_t* qs = block + (kFifthBits ? 6 : 2);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low = _mm_set1_epi8(0x0F);
  __m256i w = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, low)),
                                      _mm_and_si128(_mm_srli_epi16(v, 4), low), 1);
  if constexpr (kFifthBits) {
    uint32_t qh;
    std::memcpy(&qh, block + 2, 4);
    w = _mm256_mask_add_epi8(w, _cvtu32_mask32(qh), w, _mm256_set1_epi8(16));
  }
  const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w,
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq)));
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
  __m512 acc[NT], corr[NT];
  for (int t = 0; t < NT; ++t) {
    at[t] = a.runs + (t0 + t) * a.run_stride;
    ascale[t] = a.scale + (t0 + t) * nb;
    asum[t] = a.sum + (t0 + t) * nb;
    acc[t] = corr[t] = _mm512_setzero_ps();
  }
  for (int64_t u = 0; u < full; ++u) {
    run_dots<kFifthBits, true, NT>(row + u * kRunBytes, 16, at, ascale, asum, acc, corr);
    for (int t = 0; t < NT; ++t) {
      at[t] += 512;
      ascale[t] += 16;
      asum[t] += 16;
    }
  }
  if (partial > 0)
    run_dots<kFifthBits, false, NT>(row + full * kRunBytes, partial, at, ascale, asum, acc, corr);
  for (int t = 0; t < NT; ++t) {
    out[t] = _mm512_reduce_add_ps(acc[t]) - F::kOffset * _mm512_reduce_add_ps(corr[t]);
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

void gemv_interleaved_q4_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  gemv_interleaved<false>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  gemv_interleaved<true>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
