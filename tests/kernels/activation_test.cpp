// Activation rounding: the exact rules of llama.cpp's x86 CPU path (see quantize_activation.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/quantize_activation.hpp"
#include "kernels/cpu/simd_dispatch.hpp"

namespace inference::kernels {
namespace {

TEST(ActivationQ8_0, RoundsHalfToEvenWithMultiplier127OverAmax) {
  // amax = 127 makes the multiplier exactly 1, so ties are visible: 2.5 -> 2, 3.5 -> 4,
  // -2.5 -> -2 (round-half-away would give 3 and -3).
  float x[32] = {};
  x[0] = 127.f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  BlockQ8_0 b;
  quantize_activation_q8_0(x, &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], 4);
  EXPECT_EQ(b.qs[3], -2);
  EXPECT_EQ(b.qs[4], 0);
}

TEST(ActivationQ8_0, UsesUnroundedMultiplierNotOneOverFp16Scale) {
  // amax = 1: d = 1/127 is rounded to fp16 for storage, but q uses 127/amax = 127 exactly.
  std::mt19937 rng(5);
  auto x = test::random_floats(32, rng);
  float amax = 0;
  for (float v : x) amax = std::fmax(amax, std::fabs(v));
  BlockQ8_0 b;
  quantize_activation_q8_0(x.data(), &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(amax / 127.f));
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(b.qs[j], static_cast<int>(std::nearbyint(x[j] * (127.f / amax)))) << j;
  }
}

TEST(ActivationQ8_0, ZeroBlockGivesZeros) {
  float x[32] = {};
  BlockQ8_0 b;
  quantize_activation_q8_0(x, &b, 32);
  EXPECT_EQ(b.d, 0);
  for (int8_t q : b.qs) EXPECT_EQ(q, 0);
}

TEST(ActivationQ8_1, StoresScaledSum) {
  std::mt19937 rng(6);
  auto x = test::random_floats(64, rng);
  BlockQ8_1 b[2];
  quantize_activation_q8_1(x.data(), b, 64);
  for (int blk = 0; blk < 2; ++blk) {
    float amax = 0;
    int sum = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[32 * blk + j]));
    for (int j = 0; j < 32; ++j) sum += b[blk].qs[j];
    EXPECT_EQ(b[blk].s, fp32_to_fp16(amax / 127.f * static_cast<float>(sum)));
  }
}

TEST(ActivationQ8_K, LargestMagnitudeMapsToMinus127AndBsumsAdd) {
  std::mt19937 rng(7);
  auto x = test::random_floats(512, rng);
  x[300] = 9.f;  // the signed max of block 1 is positive: it maps to -127, d is negative
  BlockQ8_K b[2];
  quantize_activation_q8_k(x.data(), b, 512);
  EXPECT_EQ(b[1].qs[300 - 256], -127);
  EXPECT_LT(b[1].d, 0.f);
  EXPECT_EQ(b[1].d, 1.f / (-127.f / 9.f));
  for (int blk = 0; blk < 2; ++blk) {
    float max = 0, amax = 0;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(x[256 * blk + j]) > amax) {
        amax = std::fabs(x[256 * blk + j]);
        max = x[256 * blk + j];
      }
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < 256; ++j) {
      const int v = static_cast<int>(std::nearbyint(iscale * x[256 * blk + j]));
      EXPECT_EQ(b[blk].qs[j], v < 127 ? v : 127);
    }
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b[blk].qs[16 * g + j];
      EXPECT_EQ(b[blk].bsums[g], sum);
    }
  }
}

TEST(ActivationQ8_K, OppositeExtremeIsClampedTo127) {
  float x[256] = {};
  x[0] = -4.f;
  x[1] = 4.f;  // same magnitude, found second: max stays -4, iscale = 127/4, x[1] -> 127
  BlockQ8_K b;
  quantize_activation_q8_k(x, &b, 256);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 127);
}

TEST(ActivationF16, RoundsToNearestEven) {
  const float x[2] = {1.f + 0x1p-11f, 1.f + 3 * 0x1p-11f};  // ties between fp16 neighbours
  uint16_t h[2];
  quantize_activation_f16(x, h, 2);
  EXPECT_EQ(h[0], 0x3c00);
  EXPECT_EQ(h[1], 0x3c02);
  quantize_activation_bf16(x, h, 2);
  EXPECT_EQ(h[0], 0x3f80);
}

// The SIMD quantisers of each level give the scalar quantiser's bytes: random rows of several
// magnitudes, a zero block, exact ties (x * 127 / amax = k + 0.5) and a largest magnitude that
// occurs with both signs (Q8_K keeps the first).
TEST(ActivationSimd, EqualsScalarBitForBit) {
  std::mt19937 rng(41);
  std::vector<float> x;
  for (float scale : {1e-3f, 1.f, 50.f}) {
    std::normal_distribution<float> dist(0.f, scale);
    for (int i = 0; i < 512; ++i) x.push_back(dist(rng));
  }
  for (int i = 0; i < 256; ++i) x.push_back(0.f);
  for (int i = 0; i < 256; ++i) x.push_back(i == 0 ? 127.f : static_cast<float>(i % 60) - 29.5f);
  for (int i = 0; i < 256; ++i) x.push_back(i == 3 ? 8.f : i == 9 ? -8.f : 0.25f * (i % 7));
  const int64_t n = static_cast<int64_t>(x.size());
  for (const char* path : {"avx2", "avx512"}) {
    if (!force_simd_path(path)) continue;
    const detail::KernelTable& t = detail::active_kernel_table();
    struct Case {
      void (*simd)(const float*, void*, int64_t) noexcept;
      void (*scalar)(const float*, void*, int64_t) noexcept;
      size_t bytes;
    };
    for (const Case& c :
         {Case{t.quantize_q8_0, quantize_activation_q8_0, static_cast<size_t>(n / 32 * 34)},
          Case{t.quantize_q8_1, quantize_activation_q8_1, static_cast<size_t>(n / 32 * 36)},
          Case{t.quantize_q8_k, quantize_activation_q8_k, static_cast<size_t>(n / 256 * 292)}}) {
      if (c.simd == nullptr) continue;
      std::vector<uint8_t> want(c.bytes, 0xAA), got(c.bytes, 0x55);
      c.scalar(x.data(), want.data(), n);
      c.simd(x.data(), got.data(), n);
      EXPECT_EQ(got, want) << path << " block bytes " << c.bytes;
    }
  }
  force_simd_path("");
}

}  // namespace
}  // namespace inference::kernels
