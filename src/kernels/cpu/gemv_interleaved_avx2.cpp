// kernels/cpu/gemv_interleaved_avx2.cpp — row-vector kernels (gemv_kernel.hpp) for Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K and Q5_K rows in the interleaved layout (interleaved_rows.hpp,
// interleaved_k_rows.hpp), AVX2.
//
// A run's 16 blocks are two 256-bit halves of 8 lanes. Per step and half: the nibbles masked or
// shifted out, the fifth bits expanded from the step's mask, then `vpmaddubsw` (unsigned quants
// of at most 31 against signed activations of at most 127: pair sums ≤ 7,874, no saturation);
// the pair sums of several steps add up in 16-bit lanes before one `vpmaddwd` with ones widens
// them, so each block's products are summed in its own lane; the lanes accumulate the whole block
// over the eight steps, and one conversion and multiply-add per half serve 8 blocks
// (the file layout's kernel, gemv_avx2.cpp, reduces and scales every block on its own). The row
// walk is interleaved_gemv.hpp's.
//
// Compiled with -mavx2 -mfma -mf16c -mbmi2: reached only through avx2_kernel_table(), after the
// CPUID check. ODR rule as in vec_dot_avx2.cpp: only intrinsics and internal-linkage functions.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/interleaved_gemv.hpp"
#include "kernels/cpu/kernel_table.hpp"
#include "kernels/cpu/q32_avx2.hpp"

namespace inference::kernels::detail {
namespace {

// Lanes [0, n) of a 256-bit vector of 32-bit lanes (n may be ≤ 0 or ≥ 8).
[[gnu::always_inline]] inline __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Half a chunk (lanes 8h.., `live` of them, live ≤ 0 for none) of a partial run [run, run_end)
// at p, without a masked load where it can (the reason and the method of partial_chunk in
// gemv_interleaved_avx512.cpp: bytes past the live lanes meet zero activations).
[[gnu::always_inline]] inline __m256i partial_half(const uint8_t* p, const uint8_t* run,
                                                   const uint8_t* run_end, int live, __m256i mask) {
  if (live <= 0) return _mm256_setzero_si256();
  if (p + 32 <= run_end) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const uint8_t* start = p + 4 * live - 32;
  if (start >= run) {
    const __m256i down = _mm256_and_si256(
        _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(8 - live)),
        _mm256_set1_epi32(7));
    return _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(start)),
                                       down);
  }
  return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), mask);
}

// Unsigned quants (at most 31) times 32 signed activations, adjacent products summed in 16 bits.
[[gnu::always_inline]] inline __m256i pair_sums(__m256i quants, const int8_t* act) {
  return _mm256_maddubs_epi16(quants, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act)));
}

[[gnu::always_inline]] inline __m256i block_lane_sums(__m256i quants, const int8_t* act) {
  return _mm256_madd_epi16(pair_sums(quants, act), _mm256_set1_epi16(1));
}

// Half h (super-block h) of a Q4_K/Q5_K run of c = 16 or 8 lanes (interleaved_k_rows.hpp): its
// 8 lanes' d·scale and dmin·min.
[[gnu::always_inline]] inline void super_block_scales(const uint8_t* run, int c, int h, __m256& d,
                                                      __m256& m) {
  uint64_t halves = 0;
  std::memcpy(&halves, run, c == 16 ? 8 : 4);  // d0, [d1,] dmin0, [dmin1]
  const __m256 header =
      _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(halves))));
  const __m256 d_lanes = _mm256_permutevar8x32_ps(header, _mm256_set1_epi32(h));
  const __m256 dmin_lanes = _mm256_permutevar8x32_ps(header, _mm256_set1_epi32(h + c / 8));
  // Byte j: scale j in bits 0-5, min j's low two bits in 6-7; min j >> 2 is nibble j further on.
  uint64_t scale_bytes;
  std::memcpy(&scale_bytes, run + c / 2 + 8 * h, 8);
  const __m256i bytes = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(scale_bytes)));
  uint32_t nibbles;
  std::memcpy(&nibbles, run + c / 2 + c + 4 * h, 4);
  const __m256i high = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(nibbles)),
                                         _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
  const __m256i mins =
      _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi32(high, 2), _mm256_set1_epi32(0x3C)),
                      _mm256_srli_epi32(bytes, 6));
  const __m256i scales = _mm256_and_si256(bytes, _mm256_set1_epi32(63));
  d = _mm256_mul_ps(_mm256_cvtepi32_ps(scales), d_lanes);
  m = _mm256_mul_ps(_mm256_cvtepi32_ps(mins), dmin_lanes);
}

struct Avx2 {
  static constexpr bool kPrefetch = true;  // weight_prefetch.hpp
  // One vector for both 8-lane halves of a run: only the row's total is wanted, and four
  // accumulators per token (two halves, products and offsets) left too few of the 16 registers.
  using Acc = __m256;
  static Acc zero() { return _mm256_setzero_ps(); }
  // One reduction per row: acc + k·corr lane by lane first.
  static float sum(const Acc& acc, const Acc& corr, float k) {
    return hsum256_ps(_mm256_fmadd_ps(corr, _mm256_set1_ps(k), acc));
  }

  // One run of c blocks (kFull: c = 16, known at compile time) against NT tokens. Each token's
  // arithmetic is the same whatever NT is, so batched decode gives a single-token decode's bits.
  template <class F, bool kFull, int NT>
  [[gnu::always_inline]] static void run_dots(const uint8_t* run, int c,
                                              const int8_t* const (&at)[NT],
                                              const float* const (&ascale)[NT],
                                              const float* const (&asum)[NT], Acc (&acc)[NT],
                                              Acc (&corr)[NT]) {
    if constexpr (kFull) return lane_dots<F, 16, NT>(run, 16, at, ascale, asum, acc, corr);
    // A single token's partial runs of the common row lengths with c known at compile time
    // (unrolled, their loads and lane masks fixed): Qwen2.5's 896 columns end in a run of 12,
    // Gemma-3's 1,152 in 4, a lone K-quant super-block is 8.
    if constexpr (NT == 1) {
      if (c == 4) return lane_dots<F, 4, NT>(run, 4, at, ascale, asum, acc, corr);
      if (c == 8) return lane_dots<F, 8, NT>(run, 8, at, ascale, asum, acc, corr);
      if (c == 12) return lane_dots<F, 12, NT>(run, 12, at, ascale, asum, acc, corr);
    }
    lane_dots<F, 0, NT>(run, c, at, ascale, asum, acc, corr);
  }

  // run_dots for kLanes = c blocks (0: c known only at run time; 16: a whole run).
  template <class F, int kLanes, int NT>
  [[gnu::always_inline]] static void lane_dots(const uint8_t* run, int c,
                                               const int8_t* const (&at)[NT],
                                               const float* const (&ascale)[NT],
                                               const float* const (&asum)[NT], Acc (&acc)[NT],
                                               Acc (&corr)[NT]) {
    constexpr bool kFull = kLanes == 16;
    if constexpr (kLanes != 0) c = kLanes;
    const __m256i live[2] = {first_lanes(c), first_lanes(c - 8)};
    const RunFields<F> fields(run, c);
    const uint8_t* run_end = run + static_cast<size_t>(c) * F::kBlockBytes;
    const uint8_t* fifth = fields.fifth;
    const uint8_t* quants = fields.quants;
    const __m256i low = _mm256_set1_epi8(0x0F);
    // The pair sums of kStepsPer16Bits steps (low and high nibbles) are added as 16-bit lanes
    // before one vpmaddwd widens them: quants of at most 15 (31 with fifth bits) against
    // activations of at most 127 in magnitude give pair sums of at most 3,810 (7,874), so 8 (4)
    // of them stay within int16.
    constexpr int kStepsPer16Bits = F::kFifthBits ? 2 : 4;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s[NT][2], pairs[NT][2];
    for (int t = 0; t < NT; ++t) {
      s[t][0] = s[t][1] = pairs[t][0] = pairs[t][1] = _mm256_setzero_si256();
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      // A partial run of at most 8 blocks has nothing in its second half (the lanes there are
      // zero on both sides): skipping it halves such a run's cost (Gemma-3's 1,152 columns end
      // in a run of 4).
      const int halves_used = kFull || c > 8 ? 2 : 1;
      for (int h = 0; h < halves_used; ++h) {
        const uint8_t* at_q = quants + 4 * c * j + 32 * h;
        const __m256i v = kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at_q))
                                : partial_half(at_q, run, run_end, c - 8 * h, live[h]);
        __m256i lo = _mm256_and_si256(v, low);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
        if constexpr (F::kFifthBits) {
          // The half-step's mask is 4 bytes of the run (bit 4i + k: quant k of lane 8h + i),
          // broadcast straight from it. In a partial run the bits past its c lanes belong to
          // the next step or to the quants; they set bits of quants that meet zero activations.
          lo = _mm256_or_si256(lo, fifth_bits(fifth + (c / 2) * j + 4 * h));
          hi = _mm256_or_si256(hi, fifth_bits(fifth + (c / 2) * (4 + j) + 4 * h));
        }
        for (int t = 0; t < NT; ++t) {
          pairs[t][h] = _mm256_add_epi16(
              pairs[t][h], _mm256_add_epi16(pair_sums(lo, at[t] + 64 * j + 32 * h),
                                            pair_sums(hi, at[t] + 64 * (4 + j) + 32 * h)));
          if (j % kStepsPer16Bits == kStepsPer16Bits - 1) {
            s[t][h] = _mm256_add_epi32(s[t][h], _mm256_madd_epi16(pairs[t][h], ones));
            pairs[t][h] = _mm256_setzero_si256();
          }
        }
      }
    }
    // The run's scales (and mins): 32 bytes are in the run whatever c is (c ≥ 2 blocks of ≥ 18
    // bytes, the mins 2c bytes in); lanes past c are zeroed (their bytes are not scales and
    // could read as infinities).
    auto halves = [&](const uint8_t* p, int h) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      __m256 f =
          _mm256_cvtph_ps(h == 0 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1));
      if constexpr (!kFull) f = _mm256_and_ps(f, _mm256_castsi256_ps(live[h]));
      return f;
    };
    for (int h = 0; h < 2; ++h) {
      if (!kFull && h * 8 >= c) break;
      __m256 d, m;  // per lane: what multiplies the quant sums, and the activation sums
      if constexpr (F::kSuperBlocks) {
        super_block_scales(run, c, h, d, m);
      } else {
        d = halves(run, h);
        m = F::kMin ? halves(fields.mins, h) : d;
      }
      for (int t = 0; t < NT; ++t) {
        const __m256 sc = kFull ? _mm256_loadu_ps(ascale[t] + 8 * h)
                                : _mm256_maskload_ps(ascale[t] + 8 * h, live[h]);
        const __m256 sm =
            kFull ? _mm256_loadu_ps(asum[t] + 8 * h) : _mm256_maskload_ps(asum[t] + 8 * h, live[h]);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t][h]), _mm256_mul_ps(d, sc), acc[t]);
        corr[t] = _mm256_fmadd_ps(m, sm, corr[t]);
      }
    }
  }

  // One block in the file's layout against the token's 32 contiguous quants.
  template <class F>
  [[gnu::always_inline]] static int32_t block_dot(const uint8_t* block, const int8_t* aq) {
    __m256i w = unpack_nibbles(block + F::kQsOffset);
    if constexpr (F::kFifthBits) w = _mm256_or_si256(w, fifth_bits(block + F::kQhOffset));
    return sum_lanes(block_lane_sums(w, aq));
  }
};

}  // namespace

void gemv_interleaved_q4_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ4_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q4_1_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ4_1>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q4_k_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ4_K>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_k_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ5_K>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_0_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ5_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_1_avx2(const void* w, size_t row_bytes, int64_t rows,
                                const GemvActivations& a, int64_t n_tokens, float* y,
                                int64_t y_stride) {
  interleaved_gemv<Avx2, InterleavedQ5_1>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
