// kernels/cpu/gemv_interleaved_avx512.cpp — row-vector kernels (gemv_kernel.hpp) for Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q4_K and Q5_K rows in the interleaved layout (interleaved_rows.hpp,
// interleaved_k_rows.hpp), AVX-512 VNNI.
//
// Per run of 16 blocks: four 64-byte loads of nibbles (unpacked once per tile of up to 4
// tokens; Q8_0: eight loads of unsigned bytes, nothing to unpack), per token eight vpdpbusd into
// two accumulators whose lanes are the 16 blocks (exact integer sums of 32 products each), then one
// conversion and one multiply-add by d · activation scale for the whole run. The offset or min term
// (−k · d or m, times the activation's scaled sums) is one more 16-wide multiply-add. The row walk
// is interleaved_gemv.hpp's.
//
// Compiled with -mavx512*: reached only through avx512_kernel_table(), after the CPUID check.
// ODR rule as in vec_dot_avx512.cpp: only intrinsics and internal-linkage functions here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/interleaved_gemv.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace inference::kernels::detail {
namespace {

// A Q4_K/Q5_K run's lanes' d·scale and dmin·min (interleaved_k_rows.hpp) for its c = 16 or 8
// lanes (two super-blocks or one), zero past them.
[[gnu::always_inline]] inline void super_block_scales(const uint8_t* run, int c, __mmask16 lanes,
                                                      __m512& d, __m512& m) {
  const bool two = c == 16;
  // d0, [d1,] dmin0, [dmin1] as floats; lane j takes its super-block's (j / 8).
  uint64_t halves = 0;
  std::memcpy(&halves, run, two ? 8 : 4);
  const __m512 header =
      _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(halves))));
  const __m512i first = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512 d_lanes = _mm512_permutexvar_ps(first, header);
  const __m512 dmin_lanes =
      _mm512_permutexvar_ps(_mm512_add_epi32(first, _mm512_set1_epi32(two ? 2 : 1)), header);
  // Byte j: scale j in bits 0-5, min j's low two bits in 6-7; then min j >> 2 as nibble j.
  // 16 bytes are in the run whatever c is (lanes past c are zeroed below).
  const __m512i bytes =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(run + c / 2)));
  uint64_t nibbles = 0;
  std::memcpy(&nibbles, run + c / 2 + c, static_cast<size_t>(c / 2));
  const __m512i high = _mm512_srlv_epi32(
      _mm512_permutexvar_epi32(first, _mm512_set1_epi64(static_cast<int64_t>(nibbles))),
      _mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0));
  // (high << 2) & 0x3C | bytes >> 6
  const __m512i mins = _mm512_ternarylogic_epi32(
      _mm512_slli_epi32(high, 2), _mm512_set1_epi32(0x3C), _mm512_srli_epi32(bytes, 6), 0xEA);
  const __m512i scales = _mm512_and_si512(bytes, _mm512_set1_epi32(63));
  d = _mm512_maskz_mul_ps(lanes, _mm512_cvtepi32_ps(scales), d_lanes);
  m = _mm512_maskz_mul_ps(lanes, _mm512_cvtepi32_ps(mins), dmin_lanes);
}

// Chunk `p` (4c bytes: one step's quants of c lanes) of a partial run [run, run_end) as lanes
// 0..c-1 of a vector, without a masked load where it can: on Zen 5 a masked load that misses
// the cache measured ~2.5x slower streams (Q8_0 rows of 896 columns, kernels_bench --mib 256).
// The bytes loaded past the chunk need no masking: the activations of lanes past c are zero.
// Where 64 bytes from p would leave the run, the 64 bytes ending at the chunk's end are loaded
// and their top 4c bytes moved down; only a run too short for that (c = 2) takes the masked load.
[[gnu::always_inline]] inline __m512i partial_chunk(const uint8_t* p, const uint8_t* run,
                                                    const uint8_t* run_end, int c) {
  if (p + 64 <= run_end) return _mm512_loadu_si512(p);
  const uint8_t* start = p + 4 * c - 64;
  if (start >= run) {
    const __m512i down = _mm512_and_si512(
        _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(16 - c)),
        _mm512_set1_epi32(15));
    return _mm512_permutexvar_epi32(down, _mm512_loadu_si512(start));
  }
  return _mm512_maskz_loadu_epi8((__mmask64{1} << (4 * c)) - 1, p);
}

struct Avx512 {
  // Not measured on an AVX-512 host yet: the host where software prefetch was measured
  // (weight_prefetch.hpp) had AVX2 only; on the Zen 5 host an earlier prefetch of the next row
  // made no difference (docs/PERFORMANCE.md).
  static constexpr bool kPrefetch = false;
  using Acc = __m512;
  static Acc zero() { return _mm512_setzero_ps(); }
  // One reduction per row: acc + k·corr lane by lane first.
  static float sum(const Acc& acc, const Acc& corr, float k) {
    return _mm512_reduce_add_ps(_mm512_fmadd_ps(corr, _mm512_set1_ps(k), acc));
  }

  // The per-lane scales of a run of c lanes and the tokens' run totals: acc += Σ-products ·
  // d · activation scale, corr += m · activation sum, lane by lane (lanes past c zero).
  template <class F, bool kFull, int NT>
  [[gnu::always_inline]] static void run_totals(const uint8_t* run, int c,
                                                const __m512i (&products)[NT],
                                                const float* const (&ascale)[NT],
                                                const float* const (&asum)[NT], Acc (&acc)[NT],
                                                Acc (&corr)[NT]) {
    const __mmask16 lanes = static_cast<__mmask16>((1u << c) - 1);
    auto halves = [&](const uint8_t* p) {
      return _mm512_cvtph_ps(
          kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                : _mm256_maskz_mov_epi16(lanes,
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
    };
    __m512 d, m;  // per lane: what multiplies the quant sums, and the activation sums
    if constexpr (F::kSuperBlocks) {
      super_block_scales(run, c, lanes, d, m);
    } else {
      d = halves(run);
      m = F::kMin ? halves(RunFields<F>(run, c).mins) : d;
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 p = _mm512_cvtepi32_ps(products[t]);
      const __m512 s = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(lanes, ascale[t]));
      acc[t] = _mm512_fmadd_ps(p, s, acc[t]);
      corr[t] = _mm512_fmadd_ps(m, _mm512_maskz_loadu_ps(lanes, asum[t]), corr[t]);
    }
  }

  // A partial run of C = 4 or 8 lanes with its activations packed (transpose_activation_runs):
  // its chunks of 4C bytes are contiguous, so one 64-byte load holds G = 16 / C steps, lane L
  // being block L % C of step L / C; the products are summed over the G lane groups at the end.
  // A run of 4 takes 2 vectors (Q8_0) or 1 (nibbles) instead of 8 or 4.
  template <class F, int C, int NT>
  [[gnu::always_inline]] static void packed_run_dots(const uint8_t* run,
                                                     const int8_t* const (&at)[NT],
                                                     const float* const (&ascale)[NT],
                                                     const float* const (&asum)[NT], Acc (&acc)[NT],
                                                     Acc (&corr)[NT]) {
    constexpr int kSteps = 16 / C;  // steps per vector
    const RunFields<F> fields(run, C);
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm512_setzero_si512();
    if constexpr (F::kEightBits) {
      // 8 chunks of 4C bytes: exactly 8 / kSteps vectors, the last ending at the run's end.
#pragma GCC unroll 4
      for (int v = 0; v < 8 / kSteps; ++v) {
        const __m512i w = _mm512_loadu_si512(fields.quants + 64 * v);
        for (int t = 0; t < NT; ++t) {
          __m512i& s = v % 2 == 0 ? s0[t] : s1[t];
          s = _mm512_dpbusd_epi32(s, w, _mm512_loadu_si512(at[t] + 64 * v));
        }
      }
    } else {
      // 4 chunks of 4C bytes, low nibbles steps 0-3 and high nibbles steps 4-7: the high
      // nibbles' activations start 4 chunks (16C bytes) on, their fifth bits 4 steps on.
#pragma GCC unroll 2
      for (int v = 0; v < 4 / kSteps; ++v) {
        const __m512i w = _mm512_loadu_si512(fields.quants + 64 * v);
        __m512i lo = _mm512_and_si512(w, low);
        __m512i hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), low);
        if constexpr (F::kFifthBits) {
          const __m512i sixteen = _mm512_set1_epi8(16);
          uint64_t lo_bits, hi_bits;
          std::memcpy(&lo_bits, fields.fifth + 8 * v, 8);
          std::memcpy(&hi_bits, fields.fifth + 2 * C + 8 * v, 8);
          lo = _mm512_mask_add_epi8(lo, _cvtu64_mask64(lo_bits), lo, sixteen);
          hi = _mm512_mask_add_epi8(hi, _cvtu64_mask64(hi_bits), hi, sixteen);
        }
        for (int t = 0; t < NT; ++t) {
          s0[t] = _mm512_dpbusd_epi32(s0[t], lo, _mm512_loadu_si512(at[t] + 64 * v));
          s1[t] = _mm512_dpbusd_epi32(s1[t], hi, _mm512_loadu_si512(at[t] + 16 * C + 64 * v));
        }
      }
    }
    __m512i products[NT];
    for (int t = 0; t < NT; ++t) {
      __m512i p = _mm512_add_epi32(s0[t], s1[t]);
      p = _mm512_add_epi32(p, _mm512_shuffle_i64x2(p, p, 0x4E));  // + the lanes 8 on
      if constexpr (C == 4) p = _mm512_add_epi32(p, _mm512_shuffle_i64x2(p, p, 0xB1));  // 4 on
      products[t] = p;  // lanes past C hold copies: their scales are zero
    }
    run_totals<F, false, NT>(run, C, products, ascale, asum, acc, corr);
  }

  // One run of c blocks (kFull: c = 16, known at compile time) against NT tokens: each step's
  // quants are unpacked once and multiplied by every token's. Each token's arithmetic is the
  // same whatever NT is, so batched decode gives a single-token decode's bits.
  template <class F, bool kFull, int NT>
  [[gnu::always_inline]] static void run_dots(const uint8_t* run, int c,
                                              const int8_t* const (&at)[NT],
                                              const float* const (&ascale)[NT],
                                              const float* const (&asum)[NT], Acc (&acc)[NT],
                                              Acc (&corr)[NT]) {
    if constexpr (kFull) {
      c = 16;
    } else {
      // The partial runs transpose_activation_runs packs (the table's packed_partial_runs).
      if (c == 4) return packed_run_dots<F, 4, NT>(run, at, ascale, asum, acc, corr);
      if (c == 8) return packed_run_dots<F, 8, NT>(run, at, ascale, asum, acc, corr);
    }
    const uint8_t* run_end = run + static_cast<size_t>(c) * F::kBlockBytes;
    const RunFields<F> fields(run, c);
    const uint8_t* fifth = fields.fifth;
    const uint8_t* quants = fields.quants;
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm512_setzero_si512();
    if constexpr (F::kEightBits) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m512i v = kFull ? _mm512_loadu_si512(quants + 64 * j)
                                : partial_chunk(quants + 4 * c * j, run, run_end, c);
        for (int t = 0; t < NT; ++t) {
          __m512i& s = j % 2 == 0 ? s0[t] : s1[t];
          s = _mm512_dpbusd_epi32(s, v, _mm512_loadu_si512(at[t] + 64 * j));
        }
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < (F::kEightBits ? 0 : 4); ++j) {
      const __m512i v = kFull ? _mm512_loadu_si512(quants + 64 * j)
                              : partial_chunk(quants + 4 * c * j, run, run_end, c);
      __m512i lo = _mm512_and_si512(v, low);
      __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
      if constexpr (F::kFifthBits) {
        const __m512i sixteen = _mm512_set1_epi8(16);
        lo = _mm512_mask_add_epi8(lo, _cvtu64_mask64(step_fifth_bits(fifth + (c / 2) * j, c)), lo,
                                  sixteen);
        hi = _mm512_mask_add_epi8(hi, _cvtu64_mask64(step_fifth_bits(fifth + (c / 2) * (4 + j), c)),
                                  hi, sixteen);
      }
      for (int t = 0; t < NT; ++t) {
        s0[t] = _mm512_dpbusd_epi32(s0[t], lo, _mm512_loadu_si512(at[t] + 64 * j));
        s1[t] = _mm512_dpbusd_epi32(s1[t], hi, _mm512_loadu_si512(at[t] + 64 * (4 + j)));
      }
    }
    __m512i products[NT];
    for (int t = 0; t < NT; ++t) products[t] = _mm512_add_epi32(s0[t], s1[t]);
    run_totals<F, kFull, NT>(run, c, products, ascale, asum, acc, corr);
  }

  // One block in the file's layout against the token's 32 contiguous quants.
  template <class F>
  [[gnu::always_inline]] static int32_t block_dot(const uint8_t* block, const int8_t* aq) {
    const uint8_t* qs = block + F::kQsOffset;
    if constexpr (F::kEightBits) {
      // The odd last block keeps the file's signed quants: flipped to q + 128 like the runs.
      const __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs)),
                                         _mm256_set1_epi8(static_cast<char>(0x80)));
      return sum_lanes(_mm256_dpbusd_epi32(
          _mm256_setzero_si256(), w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq))));
    }
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i low = _mm_set1_epi8(0x0F);
    __m256i w = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, low)),
                                        _mm_and_si128(_mm_srli_epi16(v, 4), low), 1);
    if constexpr (F::kFifthBits) {
      uint32_t qh;
      std::memcpy(&qh, block + F::kQhOffset, 4);
      w = _mm256_mask_add_epi8(w, _cvtu32_mask32(qh), w, _mm256_set1_epi8(16));
    }
    return sum_lanes(_mm256_dpbusd_epi32(_mm256_setzero_si256(), w,
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq))));
  }
};

}  // namespace

void gemv_interleaved_q4_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ4_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q4_1_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ4_1>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ5_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_1_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ5_1>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q4_k_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ4_K>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q5_k_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ5_K>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}
void gemv_interleaved_q8_0_avx512(const void* w, size_t row_bytes, int64_t rows,
                                  const GemvActivations& a, int64_t n_tokens, float* y,
                                  int64_t y_stride) {
  interleaved_gemv<Avx512, InterleavedQ8_0>(w, row_bytes, rows, a, n_tokens, y, y_stride);
}

}  // namespace inference::kernels::detail
