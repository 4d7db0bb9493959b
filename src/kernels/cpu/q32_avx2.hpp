// kernels/cpu/q32_avx2.hpp — AVX2 pieces shared by the dot products (vec_dot_avx2.cpp) and the
// row-vector kernels (gemv_avx2.cpp) of the 32-element block formats: nibble and fifth-bit
// unpacking, and the horizontal sum of 8 floats.
//
// Include only from *_avx2.cpp files. Internal linkage (an anonymous namespace), for the reason
// k_quant_simd.hpp gives: a shared external definition could be merged with a copy compiled for
// another instruction set.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace inference::kernels::detail {
namespace {

// 16 bytes of packed nibbles -> 32 bytes: the low nibbles (elements 0-15), then the high ones
// (elements 16-31).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

// 0x10 in byte i where bit i of the 32-bit little-endian qh is set.
inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

inline float hsum256_ps(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

}  // namespace
}  // namespace inference::kernels::detail
