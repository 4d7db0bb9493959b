// Dequantisation against llama.cpp's: every tensor of testdata/quant/<TYPE>.gguf, dequantised
// row by row, must equal <TYPE>/<group>.f32 bit for bit. Also hand-built blocks of the formats
// the reference data does not cover (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K), decoded by the published
// layouts.
#include <gtest/gtest.h>

#include <cstring>

#include "inference/error.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"
#include "reference_quant.hpp"
#include "support/testdata.hpp"

namespace inference::kernels {
namespace {

using inference::test::read_file;
using inference::test::testdata_dir;

class DequantizeReference : public ::testing::TestWithParam<const char*> {};

TEST_P(DequantizeReference, MatchesLlamaCppBitForBit) {
  INFERENCE_REQUIRE_TESTDATA();
  const std::string type_name = GetParam();
  const auto dir = testdata_dir() / "quant";
  const auto reference = test::load_reference_quant(type_name);
  ASSERT_FALSE(reference.tensors.empty());
  for (const auto& t : reference.tensors) {
    const std::string& name = t.name;
    const int64_t cols = t.cols;
    const int64_t rows = t.rows;
    const std::string expected = read_file(dir / type_name / (name + ".f32"));
    ASSERT_EQ(expected.size(), static_cast<size_t>(rows * cols) * 4) << name;
    std::vector<float> out(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(t.type, t.data + r * t.row_bytes, out.data(), cols);
      const char* want = expected.data() + r * cols * 4;
      for (int64_t i = 0; i < cols; ++i) {
        uint32_t got_bits, want_bits;
        std::memcpy(&got_bits, &out[i], 4);
        std::memcpy(&want_bits, want + i * 4, 4);
        ASSERT_EQ(got_bits, want_bits) << type_name << " " << name << " row " << r << " col " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, DequantizeReference,
                         ::testing::Values("F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"));

TEST(DequantizeLayouts, Q4_1AddsMin) {
  BlockQ4_1 b{};
  b.d = fp32_to_fp16(0.5f);
  b.m = fp32_to_fp16(-1.f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  dequantize_row(GgmlType::Q4_1, &b, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * j - 1.f);
    EXPECT_EQ(y[j + 16], 0.5f * (15 - j) - 1.f);
  }
}

TEST(DequantizeLayouts, Q5_0And5_1TakeTheFifthBitFromQh) {
  BlockQ5_0 b0{};
  BlockQ5_1 b1{};
  b0.d = b1.d = fp32_to_fp16(1.f);
  b1.m = fp32_to_fp16(0.f);
  const uint32_t qh = 0x8000'0001u;  // element 0 and element 31 have the fifth bit
  std::memcpy(b0.qh, &qh, 4);
  std::memcpy(b1.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b0.qs[j] = b1.qs[j] = static_cast<uint8_t>(3 | (5 << 4));
  float y0[32], y1[32];
  dequantize_row(GgmlType::Q5_0, &b0, y0, 32);
  dequantize_row(GgmlType::Q5_1, &b1, y1, 32);
  EXPECT_EQ(y0[0], 3 + 16 - 16);
  EXPECT_EQ(y0[1], 3 - 16);
  EXPECT_EQ(y0[16], 5 - 16);
  EXPECT_EQ(y0[31], 5 + 16 - 16);
  EXPECT_EQ(y1[0], 19);
  EXPECT_EQ(y1[1], 3);
  EXPECT_EQ(y1[16], 5);
  EXPECT_EQ(y1[31], 21);
}

TEST(DequantizeLayouts, Q2_KScalesAndMinsPer16) {
  BlockQ2_K b{};
  b.d = fp32_to_fp16(1.f);
  b.dmin = fp32_to_fp16(0.5f);
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<uint8_t>((g % 16) | ((g % 3) << 4));
  // Element 128h + 32k + l is bits 2k of qs[32h + l]: give element i the value (i / 32) % 4.
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l)
      b.qs[32 * h + l] = static_cast<uint8_t>(0 | 1 << 2 | 2 << 4 | 3 << 6);
  }
  float y[256];
  dequantize_row(GgmlType::Q2_K, &b, y, 256);
  for (int i = 0; i < 256; ++i) {
    const int g = i / 16;
    EXPECT_EQ(y[i], static_cast<float>(g % 16) * ((i / 32) % 4) - 0.5f * (g % 3)) << i;
  }
}

TEST(DequantizeLayouts, Q3_KSignedScalesAndHighBit) {
  BlockQ3_K b{};
  b.d = fp32_to_fp16(1.f);
  // Scale of group g: 6 bits, low 4 in scales[g % 8] (nibble g / 8), high 2 in scales[8 + g % 4]
  // bits 2 * (g / 4). Store s_g = g + 30 so the signed scale is g - 2.
  for (int g = 0; g < 16; ++g) {
    const int s = g + 30;
    b.scales[g % 8] |= static_cast<uint8_t>((s & 0xF) << (4 * (g / 8)));
    b.scales[8 + g % 4] |= static_cast<uint8_t>((s >> 4) << (2 * (g / 4)));
  }
  for (int l = 0; l < 64; ++l) b.qs[l] = 0b11100100;  // 2-bit values 0,1,2,3 for k = 0..3
  for (int l = 0; l < 32; ++l) b.hmask[l] = static_cast<uint8_t>(l % 2 ? 0xFF : 0x00);
  float y[256];
  dequantize_row(GgmlType::Q3_K, &b, y, 256);
  for (int i = 0; i < 256; ++i) {
    const int k = (i % 128) / 32, l = i % 32;
    const int q = k - ((l % 2) ? 0 : 4);
    EXPECT_EQ(y[i], static_cast<float>(i / 16 - 2) * q) << i;
  }
}

TEST(DequantizeLayouts, UnsupportedTypeIsAnError) {
  float y[32];
  uint8_t block[64] = {};
  EXPECT_THROW(dequantize_row(GgmlType::IQ2_XXS, block, y, 256), Error);
}

}  // namespace
}  // namespace inference::kernels
