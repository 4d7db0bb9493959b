// kernels/cpu/ops/fast_exp.hpp — the exponential every op uses (softmax, SiLU), written so
// that a SIMD lane computes exactly the same float operations as this scalar function.
//
// x = n ln2 + r (n an integer, |r| <= ln2/2; ln2 split in a short high part, so n * hi is
// exact, and a low part), e^r by its Taylor polynomial to degree 7 in Horner form (truncation
// error ~5e-9, below float rounding), times 2^n applied as two exact power-of-two factors so
// that overflow (x > 88.72 gives +inf) and gradual underflow come out of IEEE multiplication.
// Input clamped to [-110, 89] first (e^-110 rounds to 0, so -inf gives exactly 0); NaN passes
// through. Rounding to an integer adds and subtracts 1.5 * 2^23 (ties to even, as
// _mm_round_ps). No fused multiply-adds, so AVX2/AVX-512 lanes (ops_avx2.cpp, ops_avx512.cpp) and
// this function agree bit for bit. Accuracy: within a few float ulps of e^x.
#pragma once

#include <bit>
#include <cstdint>

namespace inference::kernels::detail {

inline constexpr float kExpLow = -110.0f;
inline constexpr float kExpHigh = 89.0f;
inline constexpr float kExpLog2e = 1.44269504088896341f;
inline constexpr float kExpRoundMagic = 12582912.0f;        // 1.5 * 2^23
inline constexpr float kExpLn2Hi = 0.693145751953125f;      // 0x3f317200: 15 significant bits
inline constexpr float kExpLn2Lo = 1.428606765330187e-06f;  // ln2 - kExpLn2Hi
inline constexpr float kExpC7 = 1.0f / 5040.0f;
inline constexpr float kExpC6 = 1.0f / 720.0f;
inline constexpr float kExpC5 = 1.0f / 120.0f;
inline constexpr float kExpC4 = 1.0f / 24.0f;
inline constexpr float kExpC3 = 1.0f / 6.0f;
inline constexpr float kExpC2 = 0.5f;

inline float exp_approx(float x) noexcept {
  x = kExpLow > x ? kExpLow : x;    // as maxps(low, x): NaN stays NaN
  x = kExpHigh < x ? kExpHigh : x;  // as minps(high, x)
  const float j = x * kExpLog2e + kExpRoundMagic;
  const float n = j - kExpRoundMagic;
  const int32_t ni =
      static_cast<int32_t>(std::bit_cast<uint32_t>(j) - std::bit_cast<uint32_t>(kExpRoundMagic));
  float r = x - n * kExpLn2Hi;
  r = r - n * kExpLn2Lo;
  float p = kExpC7;
  p = p * r + kExpC6;
  p = p * r + kExpC5;
  p = p * r + kExpC4;
  p = p * r + kExpC3;
  p = p * r + kExpC2;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t h = ni >> 1;
  const float s1 = std::bit_cast<float>(static_cast<uint32_t>(h + 127) << 23);
  const float s2 = std::bit_cast<float>(static_cast<uint32_t>(ni - h + 127) << 23);
  return (p * s1) * s2;
}

}  // namespace inference::kernels::detail
