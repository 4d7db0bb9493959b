// kernels/cpu/k_quant_simd.hpp — unpacking of Q4_K / Q5_K / Q6_K super-blocks shared by the
// SIMD dot products (vec_dot_avx2/avx512.cpp) and the row-vector kernels (gemv_k_avx2/avx512.cpp).
//
// Include only from *_avx2.cpp / *_avx512.cpp files. Everything here has internal linkage (an
// anonymous namespace): each of those files is compiled with its own -m flags, so a shared
// definition with external linkage could be merged by the linker into a copy holding
// instructions the CPU lacks. The AVX-512 helpers exist only where the file enables AVX-512.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/blocks.hpp"

namespace inference::kernels::detail {
namespace {

// The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K super-block, unpacked from
// their 12-byte 6-bit form (k_scales.hpp describes the layout).
inline void unpack_k4(const uint8_t* packed, uint32_t utmp[4]) {
  constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  std::memcpy(utmp, packed, 12);
  utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = utmp[1] & kmask1;
  utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
  utmp[2] = uaux;
  utmp[0] &= kmask1;
}

// 12 packed bytes of 6-bit scales and mins (k_scales.hpp) -> 8 scales then 8 mins, one byte each,
// for two super-blocks at once (128-bit lane 0: `first`, lane 1: `second`; the steps never cross
// a lane, so one 256-bit pass costs what one block's 128-bit pass does). Reads 16 bytes at each:
// the 4 after the scales are the super-block's own quants, ignored.
inline __m256i unpack_k4_scales_x2(const uint8_t* first, const uint8_t* second) {
  const __m256i s = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(second)), 1);
  // Scales 0-3 / mins 0-3 are bytes 0-3 / 4-7 (low 6 bits); scales 4-7 / mins 4-7 are the low /
  // high nibbles of bytes 8-11 with the top two bits of bytes 0-3 / 4-7 above them.
  const __m256i low =
      _mm256_shuffle_epi8(s, _mm256_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11, 0,
                                              1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  const __m256i top = _mm256_shuffle_epi8(
      s, _mm256_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 0,
                          1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
  const __m256i nib = _mm256_blend_epi32(low, _mm256_srli_epi16(low, 4), 0x88);
  const __m256i bits = _mm256_and_si256(
      nib, _mm256_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15, 63, 63,
                            63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15));
  return _mm256_or_si256(bits, _mm256_and_si256(_mm256_srli_epi16(top, 2), _mm256_set1_epi8(0x30)));
}

// unpack_k4_scales_x2 for one super-block.
inline __m128i unpack_k4_scales(const uint8_t* packed) {
  return _mm256_castsi256_si128(unpack_k4_scales_x2(packed, packed));
}

// The fields of super-block b of a Q4_K (kFive = false) or Q5_K row; qh is null for Q4_K.
struct KBlock45 {
  const uint8_t* scales;
  const uint8_t* qs;
  const uint8_t* qh;
  uint16_t d, dmin;
};

template <bool kFive>
inline KBlock45 k45_block(const void* w, int64_t b) {
  if constexpr (kFive) {
    const BlockQ5_K& x = static_cast<const BlockQ5_K*>(w)[b];
    return {x.scales, x.qs, x.qh, x.d, x.dmin};
  } else {
    const BlockQ4_K& x = static_cast<const BlockQ4_K*>(w)[b];
    return {x.scales, x.qs, nullptr, x.d, x.dmin};
  }
}

// The mins as 16 int16 lanes, each min twice (one per 16-element activation sum).
inline __m256i mins_per_bsum(const uint32_t utmp[4]) {
  const __m128i m =
      _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(utmp[3]), static_cast<int>(utmp[2])));
  return _mm256_set_m128i(_mm_unpackhi_epi16(m, m), _mm_unpacklo_epi16(m, m));
}

// vpshufb indexes selecting, from 8 int16 scales in each 128-bit lane, scale 2m for the low lane
// and 2m + 1 for the high one (chunk 4h + m of unpack_q6_k_avx2 takes scales 8h + 2m, 2m + 1).
#define INFERENCE_WORD(w) 2 * (w), 2 * (w) + 1
#define INFERENCE_EIGHT(w)                                                                       \
  INFERENCE_WORD(w), INFERENCE_WORD(w), INFERENCE_WORD(w), INFERENCE_WORD(w), INFERENCE_WORD(w), \
      INFERENCE_WORD(w), INFERENCE_WORD(w), INFERENCE_WORD(w)
alignas(32) inline constexpr int8_t kQ6PairScaleIndex[4][32] = {
    {INFERENCE_EIGHT(0), INFERENCE_EIGHT(1)},
    {INFERENCE_EIGHT(2), INFERENCE_EIGHT(3)},
    {INFERENCE_EIGHT(4), INFERENCE_EIGHT(5)},
    {INFERENCE_EIGHT(6), INFERENCE_EIGHT(7)},
};
#undef INFERENCE_EIGHT
#undef INFERENCE_WORD

// A Q6_K super-block as 8 chunks of 32 unsigned 6-bit values (bias 32 applied by the caller):
// chunk c = 4h + k holds elements 32c..32c+31; scale[c] holds the chunk's two 16-element scales
// as int16 lanes. Returns the 16 scales as int16 lanes (for the bias term through the bsums).
inline __m256i unpack_q6_k_avx2(const BlockQ6_K& x, __m256i q[8], __m256i scale[8]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.ql + 64 * h));
    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.ql + 64 * h + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h));
    q[4 * h + 0] =
        _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
    q[4 * h + 1] =
        _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
    q[4 * h + 2] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
    q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
  }
  // The scales as int16 lanes (0-7 in the low 128 bits, 8-15 in the high), placed per chunk by
  // vpshufb (not 16 scalar broadcasts: general-register-to-vector moves held the kernels back).
  const __m256i sc16 =
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
  const __m256i halves[2] = {_mm256_broadcastsi128_si256(_mm256_castsi256_si128(sc16)),
                             _mm256_broadcastsi128_si256(_mm256_extracti128_si256(sc16, 1))};
  for (int c = 0; c < 8; ++c) {
    scale[c] = _mm256_shuffle_epi8(
        halves[c / 4],
        _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ6PairScaleIndex[c % 4])));
  }
  return sc16;
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
// Lane i of kPairIndex[j] selects scale 2j (first 16 int16 lanes) or 2j+1 (last 16).
alignas(64) inline constexpr uint16_t kPairIndex[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
     3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
     5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
    {6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
     7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
};

// Lane i of kQ6ScaleIndex[c] selects the Q6_K scale of 16-element group i / 8 of chunk pair c.
alignas(64) inline constexpr uint16_t kQ6ScaleIndex[4][32] = {
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
inline __m512i nibble_pair(const uint8_t* q) {
  __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  v = _mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4);
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

// The quants of a Q6_K super-block as 4 chunks of 64 unsigned 6-bit values (bias 32 applied by
// the caller): chunk c = 2h + k/2 holds elements 64c..64c+63.
inline void unpack_q6_k_quants_avx512(const BlockQ6_K& x, __m512i q[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(x.ql + 64 * h);
    __m512i qh =
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h)));
    qh = _mm512_mask_srli_epi16(qh, 0xFFFF0000u, qh, 2);  // [qh | qh >> 2]
    q[2 * h] =
        _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), m30));
    q[2 * h + 1] =
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), _mm512_and_si512(qh, m30));
  }
}

// unpack_q6_k_quants_avx512, and scale[c] the four 16-element scales of chunk c as int16 lanes.
// Returns the 16 scales as int16 lanes (for the bias term through the bsums).
inline __m256i unpack_q6_k_avx512(const BlockQ6_K& x, __m512i q[4], __m512i scale[4]) {
  unpack_q6_k_quants_avx512(x, q);
  const __m256i sc16 =
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
  for (int c = 0; c < 4; ++c) {
    scale[c] =
        _mm512_permutexvar_epi16(_mm512_load_si512(kQ6ScaleIndex[c]), _mm512_castsi256_si512(sc16));
  }
  return sc16;
}
#endif

}  // namespace
}  // namespace inference::kernels::detail
